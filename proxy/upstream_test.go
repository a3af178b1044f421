package proxy

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"syscall"
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

// BenchmarkUpstreamPool compares the proxy's own keep-alive pool with
// http.Transport's, in the same run: GETs from parallel clients through
// the proxy handler to a local upstream answering ~100 bytes.
//
//	go test -run '^$' -bench UpstreamPool -benchtime 3s ./proxy/
func BenchmarkUpstreamPool(b *testing.B) {
	body := []byte(`{"status":"ok","message":"hello from the benchmark upstream","padding":"0123456789abcdef"}` + "\n")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"application/json"}
		w.Write(body)
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)
	for _, pool := range []string{"lean", "http.Transport"} {
		b.Run(pool, func(b *testing.B) {
			p, err := New(Config{Upstream: u})
			if err != nil {
				b.Fatal(err)
			}
			if pool == "http.Transport" {
				std := p.transport.fresh.Clone()
				std.DisableKeepAlives = false
				std.MaxIdleConnsPerHost = p.transport.pool.maxIdle
				std.IdleConnTimeout = p.transport.pool.idleTimeout
				p.rp.Transport = std
				defer std.CloseIdleConnections()
			}
			defer p.CloseIdleConnections()
			b.ReportAllocs()
			b.SetParallelism(8) // 16 clients on 2 cores
			cpu := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("GET", "https://localhost/bench", nil)
					req.RemoteAddr = "127.0.0.1:40000"
					w := httptest.NewRecorder()
					p.ServeHTTP(w, req)
					if w.Code != 200 || w.Body.Len() != len(body) {
						b.Fatalf("%d %q", w.Code, w.Body.String())
					}
				}
			})
			// CPU time says more than wall time on a busy machine.
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU returns the CPU time this process has used so far (user and
// system), which includes the upstream's and the clients' share.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
