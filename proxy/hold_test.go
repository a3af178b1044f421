package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// restartableUpstream is a real HTTP server on a fixed loopback port that
// can be stopped and started again on the same port, as a gateway restarts.
type restartableUpstream struct {
	t    *testing.T
	addr string
	srv  *http.Server
	done chan struct{}
}

func (u *restartableUpstream) start() {
	u.t.Helper()
	ln, err := net.Listen("tcp", u.addr)
	if err != nil {
		u.t.Fatalf("upstream listen %s: %v", u.addr, err)
	}
	u.addr = ln.Addr().String()
	u.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "ok %s %d", r.Method, len(b))
	})}
	u.done = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		srv.Serve(ln)
		close(done)
	}(u.srv, u.done)
}

func (u *restartableUpstream) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u.srv.Shutdown(ctx)
	<-u.done
}

func TestHoldWhileUpstreamRestarts(t *testing.T) {
	up := &restartableUpstream{t: t, addr: "127.0.0.1:0"}
	up.start()
	t.Cleanup(up.stop)
	tp := startProxy(t, "http://"+up.addr, Config{})

	const workers, perWorker = 16, 30
	var failures atomic.Int32
	var wg sync.WaitGroup
	var firstErr sync.Once
	for w := range workers {
		wg.Go(func() {
			client := tp.h1
			if w%2 == 1 {
				client = tp.h2
			}
			for i := range perWorker {
				method := "GET"
				if i%3 == 0 {
					method = "HEAD"
				}
				req, _ := http.NewRequest(method, tp.url+"/", nil)
				resp, err := client.Do(req)
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || method == "GET" && !strings.HasPrefix(string(b), "ok ") {
						err = fmt.Errorf("status %d: %.200s", resp.StatusCode, b)
					}
				}
				if err != nil {
					failures.Add(1)
					firstErr.Do(func() { t.Errorf("%s during restart: %v", method, err) })
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	// Restart the upstream twice while the burst runs.
	for range 2 {
		time.Sleep(50 * time.Millisecond)
		up.stop()
		time.Sleep(300 * time.Millisecond)
		up.start()
	}
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of %d requests failed", n, workers*perWorker)
	}
	var held int
	for len(tp.access) > 0 {
		if r := <-tp.access; r.Held > 0 {
			held++
		}
	}
	if held == 0 {
		t.Errorf("no request was held: the restart did not overlap the burst")
	}
}

func TestHeldRequestStopsWhenClientLeaves(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	tp := startProxy(t, dead, Config{HoldTimeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", tp.url+"/", nil)
	if resp, err := tp.h1.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got %s from a dead upstream, want the client's timeout", resp.Status)
	}
	rec := tp.nextAccess() // waits 10 s at most, far less than the hold timeout
	if rec.Status != 499 || !errors.Is(rec.UpstreamError, context.Canceled) {
		t.Errorf("access record %+v", rec)
	}
}

// TestSentRequestNotReplayed pins that only refused dials are retried: an
// upstream that read the request and then dropped the connection must see
// it exactly once.
func TestSentRequestNotReplayed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var seen atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					io.Copy(io.Discard, req.Body)
					seen.Add(1)
				}
			}()
		}
	}()
	tp := startProxy(t, "http://"+ln.Addr().String(), Config{})
	resp, _ := tp.do(tp.h1, "POST", "/charge", nil, strings.NewReader("amount=1"))
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d, want 502", resp.StatusCode)
	}
	if n := seen.Load(); n != 1 {
		t.Errorf("upstream saw the request %d times, want exactly once", n)
	}
}

// TestPostHeldUntilUpstreamStarts: a POST that arrives while nothing
// listens is held (its dial is refused, so nothing was sent) and delivered
// once, when the upstream is back.
func TestPostHeldUntilUpstreamStarts(t *testing.T) {
	up := &restartableUpstream{t: t, addr: "127.0.0.1:0"}
	up.start()
	up.stop()
	tp := startProxy(t, "http://"+up.addr, Config{})
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := tp.h1.Post(tp.url+"/", "text/plain", strings.NewReader("12345"))
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, body: string(b)}
	}()
	time.Sleep(300 * time.Millisecond)
	up.start()
	t.Cleanup(up.stop)
	select {
	case r := <-done:
		if r.err != nil || r.status != 200 || r.body != "ok POST 5" {
			t.Errorf("held POST: %d %q %v", r.status, r.body, r.err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("held POST never finished")
	}
	if rec := tp.nextAccess(); rec.Held <= 0 {
		t.Errorf("access record does not show the hold: %+v", rec)
	}
}

// A held request dials again as soon as the caller says the upstream
// started (Config.UpstreamStarted), not at its next retry: with retries
// 5 s apart, the answer still comes within a second of the start.
func TestHeldRequestDialsWhenTheUpstreamStarts(t *testing.T) {
	up := &restartableUpstream{t: t, addr: "127.0.0.1:0"}
	up.start()
	up.stop() // the port is known and refuses connections
	var mu sync.Mutex
	started := make(chan struct{})
	tp := startProxy(t, "http://"+up.addr, Config{
		testOnlyHoldRetry: 5 * time.Second,
		UpstreamStarted: func() <-chan struct{} {
			mu.Lock()
			defer mu.Unlock()
			return started
		},
	})
	answered := make(chan time.Time, 1)
	go func() {
		resp, err := tp.h1.Get(tp.url + "/")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		answered <- time.Now()
	}()
	time.Sleep(300 * time.Millisecond) // the request is held by now
	up.start()
	t.Cleanup(up.stop)
	mu.Lock()
	close(started)
	started = make(chan struct{})
	mu.Unlock()
	at := time.Now()
	select {
	case got := <-answered:
		if d := got.Sub(at); d > time.Second {
			t.Errorf("answered %s after the upstream said it started; want at once", d.Round(time.Millisecond))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer 10 s after the upstream started")
	}
}
