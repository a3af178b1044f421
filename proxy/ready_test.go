package proxy

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// AwaitReady returns once an upstream that starts late has answered a check
// sent through the proxy.
func TestAwaitReadyWaitsForALateUpstream(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens yet: the proxy holds the check
	tp := startProxy(t, "http://"+addr, Config{})

	var served atomic.Int32
	go func() {
		time.Sleep(300 * time.Millisecond)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Error(err)
			return
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served.Add(1)
		})}
		t.Cleanup(func() { srv.Close() })
		srv.Serve(l)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if !tp.server.AwaitReady(ctx, ReadyCheck{RootCAs: tp.roots}) {
		t.Fatal("AwaitReady gave up although the upstream came up")
	}
	if served.Load() == 0 {
		t.Error("AwaitReady returned before the upstream answered a request")
	}
}

// While Paused says so, no check is sent; AwaitReady gives up when ctx ends.
func TestAwaitReadyPausedSendsNothing(t *testing.T) {
	up := newEchoUpstream(t)
	tp := startProxy(t, up.URL, Config{})
	var asked atomic.Int32
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	ready := tp.server.AwaitReady(ctx, ReadyCheck{
		RootCAs:  tp.roots,
		Interval: 20 * time.Millisecond,
		Paused:   func() bool { asked.Add(1); return true },
	})
	if ready {
		t.Error("AwaitReady reported ready although every check was paused")
	}
	if asked.Load() < 2 {
		t.Errorf("Paused was asked %d times, want it asked again after each interval", asked.Load())
	}
	if r, _ := up.lastRequest(); r != nil {
		t.Errorf("a paused check reached the upstream: %s %s", r.Method, r.URL)
	}
}

// Issue 9: a proxy listening on 127.0.0.2 only (--host) never became ready:
// the check went to localhost, where nothing listened. It goes to the
// address bound, and the URL names it.
func TestAwaitReadyOnAnotherLoopbackAddress(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("127.0.0.2 is not usable here: %v", err)
	}
	probe.Close()
	up := newEchoUpstream(t)
	u, _ := url.Parse(up.URL)
	serverTLS, roots := testTLS(t)
	p, err := New(Config{Upstream: u, TLS: serverTLS})
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Listen([]string{"127.0.0.2"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !s.AwaitReady(ctx, ReadyCheck{RootCAs: roots, Interval: 50 * time.Millisecond}) {
		t.Fatal("AwaitReady never saw the upstream answer through a proxy on 127.0.0.2")
	}
	if got, want := s.URL(), "https://127.0.0.2:"+strconv.Itoa(s.Port()); got != want {
		t.Errorf("URL: got %q, want %q", got, want)
	}
}
