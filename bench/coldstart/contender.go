//go:build unix

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// start is one cold start of a contender: a command, and how to tell that
// it serves.
type start struct {
	argv []string
	dir  string
	env  []string
	// url is polled until it answers 200.
	url string
	// caFile, when set, is the CA the client must trust: it does not exist
	// before the command creates it, so polling begins once it parses.
	caFile string
	// readyMarker, when set, is a line of the command's output whose time
	// is reported too (devstack's own "ready" announcement).
	readyMarker string
	// appPort is a port the command's children listen on; the round ends
	// only once it is free again, so no leftover competes with the next.
	appPort int
}

// outcome is the measured part of one start.
type outcome struct {
	firstOK   time.Duration // exec to the first 200
	cpu       time.Duration // CPU the command and its children used until then (0: unknown)
	announced time.Duration // exec to readyMarker; 0 when never seen
	output    string        // what the command printed, each line timed from exec
}

// measure runs s until its URL answers 200, then stops it and everything
// it started. Every wait is bounded by timeout.
func measure(ctx context.Context, s start, poll, timeout time.Duration) (outcome, error) {
	out := &markedOutput{marker: []byte(s.readyMarker)}
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Dir, cmd.Env = s.dir, s.env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	began := time.Now()
	out.began = began
	if err := cmd.Start(); err != nil {
		return outcome{}, err
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	defer func() {
		stopGroup(cmd.Process.Pid, exited)
		waitPortFree(s.appPort, 5*time.Second)
	}()

	got, err := pollUntilOK(ctx, s, began, poll, timeout, exited)
	cpu := treeCPU(cmd.Process.Pid)
	if err != nil {
		return outcome{}, fmt.Errorf("%s: %w\n--- its output ---\n%s", s.argv[0], err, out.String())
	}
	// devstack announces readiness on its own schedule, after the first
	// request it sends itself; give it a moment to say so.
	if s.readyMarker != "" {
		limit := time.Now().Add(2 * time.Second)
		for out.announcedAfter() == 0 && time.Now().Before(limit) {
			time.Sleep(poll)
		}
	}
	return outcome{firstOK: got, cpu: cpu, announced: out.announcedAfter(), output: out.String()}, nil
}

// pollUntilOK sends a GET every poll interval until one answers 200 and
// returns the time from began to that answer.
func pollUntilOK(ctx context.Context, s start, began time.Time, poll, timeout time.Duration, exited <-chan struct{}) (time.Duration, error) {
	deadline := began.Add(timeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var client *http.Client
	lastErr := errors.New("no request sent")
	for {
		select {
		case <-exited:
			return 0, errors.New("exited before answering")
		case <-ctx.Done():
			return 0, fmt.Errorf("no 200 within %s (last: %v)", timeout, lastErr)
		default:
		}
		if client == nil {
			client, lastErr = newClient(s.caFile)
		}
		if client != nil {
			ok, err := get(ctx, client, s.url)
			if ok {
				return time.Since(began), nil
			}
			lastErr = err
		}
		select {
		case <-time.After(poll):
		case <-exited:
		case <-ctx.Done():
		}
	}
}

// newClient returns a client that trusts caFile (or the system pool when
// caFile is ""), with a fresh connection per request as a browser opening
// the page would have.
func newClient(caFile string) (*http.Client, error) {
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate yet", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Transport: tr}, nil
}

func get(ctx context.Context, client *http.Client, url string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("status %s", resp.Status)
	}
	return true, nil
}

// stopGroup sends SIGTERM to the process group led by pid, waits up to
// ten seconds for the leader to exit, then sends SIGKILL to the group.
func stopGroup(pid int, exited <-chan struct{}) {
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(-pid, syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
	}
	// Anything of the group still alive (a child that ignored TERM) goes now.
	syscall.Kill(-pid, syscall.SIGKILL)
}

// waitPortFree waits until nothing listens on 127.0.0.1:port.
func waitPortFree(port int, limit time.Duration) {
	if port == 0 {
		return
	}
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 100*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "coldstart: warning: port %d still in use after %s\n", port, limit)
}

// markedOutput keeps a command's output and the time a marker line first
// appeared in it.
type markedOutput struct {
	began  time.Time
	marker []byte

	mu      sync.Mutex
	buf     bytes.Buffer
	seen    time.Duration
	partial bool // the last write ended inside a line
}

// Write keeps p, each line prefixed with the time since exec.
func (o *markedOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	at := fmt.Sprintf("%6.0fms ", float64(time.Since(o.began).Microseconds())/1000)
	for rest := p; len(rest) > 0; {
		line, after, found := bytes.Cut(rest, []byte("\n"))
		if !o.partial {
			o.buf.WriteString(at)
		}
		o.buf.Write(line)
		if found {
			o.buf.WriteByte('\n')
		}
		o.partial = !found
		rest = after
	}
	if o.seen == 0 && len(o.marker) > 0 && bytes.Contains(o.buf.Bytes(), o.marker) {
		o.seen = time.Since(o.began)
	}
	return len(p), nil
}

func (o *markedOutput) announcedAfter() time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen
}

func (o *markedOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
