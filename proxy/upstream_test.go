package proxy

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// countingUpstream counts the connections it accepts.
func countingUpstream(t *testing.T, idleTimeout time.Duration) (*httptest.Server, *atomic.Int32) {
	var conns atomic.Int32
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	up.Config.IdleTimeout = idleTimeout
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	up.Start()
	t.Cleanup(up.Close)
	return up, &conns
}

func TestUpstreamConnectionsReused(t *testing.T) {
	up, conns := countingUpstream(t, time.Minute)
	tp := startProxy(t, up.URL, Config{})
	for range 20 {
		if resp, body := tp.do(tp.h1, "GET", "/", nil, nil); resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("20 sequential GETs used %d upstream connections, want 1", n)
	}
}

// TestStaleUpstreamConnections: the upstream closes idle keep-alive
// connections (gunicorn after 2 s, uvicorn after 5 s); the proxy finds out
// only when it uses one, and must still answer every request.
func TestStaleUpstreamConnections(t *testing.T) {
	up, conns := countingUpstream(t, 100*time.Millisecond)
	tp := startProxy(t, up.URL, Config{})
	// Several connections in the pool at once.
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 5 {
				tp.do(tp.h1, "GET", "/", nil, nil)
			}
		}()
	}
	for range 4 {
		<-done
	}
	before := conns.Load()
	time.Sleep(400 * time.Millisecond) // the upstream closes them all
	for i := range 5 {
		if resp, body := tp.do(tp.h1, "GET", "/", nil, nil); resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("GET %d after idle close: %d %q", i, resp.StatusCode, body)
		}
	}
	if conns.Load() == before {
		t.Errorf("no new upstream connection after the old ones were closed")
	}
}

// TestAbandonedResponseNotReused: a client that leaves in the middle of a
// response must not leave its half-read upstream connection in the pool,
// where the next request would read the rest of the old body.
func TestAbandonedResponseNotReused(t *testing.T) {
	big := make([]byte, 4<<20)
	for i := range big {
		big[i] = 'x'
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Write(big)
			return
		}
		io.WriteString(w, "small")
	}))
	defer up.Close()
	tp := startProxy(t, up.URL, Config{})
	resp, err := tp.h1.Get(tp.url + "/big")
	if err != nil {
		t.Fatal(err)
	}
	io.ReadFull(resp.Body, make([]byte, 1000))
	resp.Body.Close() // abandons the rest
	for range 5 {
		if resp, body := tp.do(tp.h1, "GET", "/small", nil, nil); resp.StatusCode != 200 || body != "small" {
			t.Fatalf("after an abandoned response: %d %.40q", resp.StatusCode, body)
		}
	}
}
