package proxy

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// A restart of the upstream must not fail a request. Refused dials are
// waited out (holdingDialer), but a server that is stopping still has its
// listening socket open for a moment: a connection it never accepts is
// reset, and a POST sent on it is lost. So the caller pauses the proxy
// before stopping the upstream: requests not yet sent wait at the proxy,
// the ones already sent are answered in full, and only then does the
// upstream stop. Nothing is ever sent twice.

// upstreamGate counts the requests on their way to the upstream and holds
// new ones while paused.
type upstreamGate struct {
	mu       sync.Mutex
	resumed  chan struct{} // nil unless paused; closed by resume
	inflight int           // requests sent or being sent, not yet answered in full
	idle     chan struct{} // closed when inflight drops to 0 (made by a waiter)
}

// enter waits while the gate is paused, then counts the request in. It
// fails only when ctx ends first.
func (g *upstreamGate) enter(ctx context.Context) error {
	for {
		g.mu.Lock()
		resumed := g.resumed
		if resumed == nil {
			g.inflight++
			g.mu.Unlock()
			return nil
		}
		g.mu.Unlock()
		select {
		case <-resumed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// leave counts one request out.
func (g *upstreamGate) leave() {
	g.mu.Lock()
	g.inflight--
	if g.inflight == 0 && g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
	g.mu.Unlock()
}

// pause holds new requests until resume and waits until none is in flight
// or ctx is done. It reports whether every request in flight was answered.
func (g *upstreamGate) pause(ctx context.Context) (resume func(), drained bool) {
	g.mu.Lock()
	resumed := make(chan struct{})
	if g.resumed == nil {
		g.resumed = resumed
	} else {
		resumed = nil // paused already: the first pause resumes
	}
	var idle chan struct{}
	if g.inflight > 0 {
		if g.idle == nil {
			g.idle = make(chan struct{})
		}
		idle = g.idle
	}
	g.mu.Unlock()

	var once sync.Once
	resume = func() {
		once.Do(func() {
			if resumed == nil {
				return
			}
			g.mu.Lock()
			g.resumed = nil
			g.mu.Unlock()
			close(resumed)
		})
	}
	if idle == nil {
		return resume, true
	}
	select {
	case <-idle:
		return resume, true
	case <-ctx.Done():
		return resume, false
	}
}

// gatedTransport passes requests through the gate to the transport.
type gatedTransport struct {
	gate *upstreamGate
	next http.RoundTripper
}

func (t *gatedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	if err := t.gate.enter(req.Context()); err != nil {
		return nil, err
	}
	if waited := time.Since(start); waited > time.Millisecond {
		if state, ok := req.Context().Value(stateKey{}).(*requestState); ok {
			state.held.Add(int64(waited))
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.gate.leave()
		return nil, err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// The connection is the client's now (a WebSocket): it is not a
		// request that a restart must wait for.
		t.gate.leave()
		return resp, nil
	}
	resp.Body = &gatedBody{ReadCloser: resp.Body, leave: t.gate.leave}
	return resp, nil
}

// gatedBody counts its request out when the response has been read to its
// end or closed.
type gatedBody struct {
	io.ReadCloser
	leave func()
	once  sync.Once
}

func (b *gatedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(b.leave)
	}
	return n, err
}

func (b *gatedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.leave)
	return err
}

// Pause stops sending requests to the upstream, for a restart: from now on
// each request waits at the proxy (its client stays connected) until resume
// is called, while the requests already sent are answered in full. Pause
// returns once none is left in flight, or when ctx is done (drained false:
// some are still being answered). resume may be called any number of
// times; it also drops the idle connections to the upstream, which belong
// to the server being replaced. A Pause while paused only waits: the first
// one's resume lets requests through.
func (p *Proxy) Pause(ctx context.Context) (resume func(), drained bool) {
	open, drained := p.gate.pause(ctx)
	return func() {
		p.CloseIdleConnections()
		open()
	}, drained
}
