package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// While the upstream restarts, its port refuses connections for a moment.
// Instead of answering 502, the proxy holds the request and dials again until
// the server is back. This lives in the transport's dialer on purpose: a
// refused dial means nothing was sent, so retrying can never replay a
// request the upstream already received.

// holdingDialer dials the upstream, retrying refused connections for up to
// hold.
type holdingDialer struct {
	dialer  net.Dialer
	hold    time.Duration
	retry   time.Duration          // pause between two refused dials
	down    func() string          // Config.UpstreamDown
	started func() <-chan struct{} // Config.UpstreamStarted
}

// HoldTimeoutError says the upstream kept refusing connections for the whole
// hold timeout.
type HoldTimeoutError struct {
	Addr   string
	Waited time.Duration
	Err    error
}

func (e *HoldTimeoutError) Error() string {
	return fmt.Sprintf("upstream %s refused connections for %s: %v", e.Addr, e.Waited.Round(time.Millisecond), e.Err)
}
func (e *HoldTimeoutError) Unwrap() error { return e.Err }

// DownError says the caller reported the upstream as down (Config.UpstreamDown).
type DownError struct{ Reason string }

func (e *DownError) Error() string { return "upstream is down: " + e.Reason }

// isRestarting reports whether a dial error means the server is not
// accepting connections right now: refused, or reset while connecting (the
// old listener closed with the connection still in its backlog). Either way
// the dial failed, so nothing was sent.
func isRestarting(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED)
}

func (d *holdingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	state, _ := ctx.Value(stateKey{}).(*requestState)
	start := time.Now()
	var timer *time.Timer
	var woke <-chan struct{}
	for {
		if d.down != nil {
			if reason := d.down(); reason != "" {
				return nil, &DownError{Reason: reason}
			}
		}
		// Taken before dialing, so a start announced after a refused dial
		// is not missed; one that already woke this request is not waited
		// on again.
		var started <-chan struct{}
		if d.started != nil {
			if started = d.started(); started == woke {
				started = nil
			}
		}
		conn, err := d.dialer.DialContext(ctx, network, addr)
		if err == nil || !isRestarting(err) || d.hold <= 0 {
			if state != nil && timer != nil {
				state.held.Add(int64(time.Since(start)))
			}
			return conn, err
		}
		waited := time.Since(start)
		if waited >= d.hold {
			if state != nil {
				state.held.Add(int64(waited))
			}
			return nil, &HoldTimeoutError{Addr: addr, Waited: waited, Err: err}
		}
		// The transport dials with a context detached from the request's
		// cancellation (so another request may use the connection); stop
		// holding once the request that asked for this dial is gone.
		var requestDone <-chan struct{}
		if state != nil {
			requestDone = state.Context.Done()
		}
		if timer == nil {
			timer = time.NewTimer(d.retry)
			defer timer.Stop()
		} else {
			timer.Reset(d.retry)
		}
		select {
		case <-timer.C:
		case <-started:
			woke = started
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-requestDone:
			return nil, state.Context.Err()
		}
	}
}
