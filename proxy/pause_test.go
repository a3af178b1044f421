package proxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Issue 9: a restart pauses the proxy. Pause returns only after the request
// in flight was answered in full, and a request sent while paused reaches
// the upstream only after resume — once.
func TestPauseDrainsInFlightAndHoldsNewRequests(t *testing.T) {
	var arrived atomic.Int32
	slowStarted := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/slow" {
			close(slowStarted)
			time.Sleep(300 * time.Millisecond)
		}
		io.WriteString(w, r.URL.Path+" "+string(body))
	}))
	t.Cleanup(upstream.Close)
	tp := startProxy(t, upstream.URL, Config{})

	slowDone := postAsync(tp.h1, tp.url+"/slow", "a")
	<-slowStarted

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resume, drained := tp.server.proxy.Pause(ctx)
	if !drained {
		t.Fatal("Pause: the request in flight was not answered within 5 s")
	}
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("Pause returned after %s, before the slow request was answered", waited)
	}
	if got := <-slowDone; got != "/slow a" {
		t.Errorf("the request in flight during Pause: got %q, want %q", got, "/slow a")
	}

	heldDone := postAsync(tp.h2, tp.url+"/held", "b")
	time.Sleep(200 * time.Millisecond)
	if n := arrived.Load(); n != 1 {
		t.Fatalf("%d requests reached the upstream while paused, want only the one sent before", n)
	}
	select {
	case got := <-heldDone:
		t.Fatalf("a request sent while paused was answered before resume: %q", got)
	default:
	}
	resume()
	resume() // a second call changes nothing
	select {
	case got := <-heldDone:
		if got != "/held b" {
			t.Errorf("the held request: got %q, want %q", got, "/held b")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the held request was not answered within 5 s of resume")
	}
	if n := arrived.Load(); n != 2 {
		t.Errorf("the upstream saw %d requests, want 2 (none sent twice)", n)
	}
	rec := waitAccess(t, tp, "/held")
	if rec.Held < 20*time.Millisecond {
		t.Errorf("access record of the held request: Held %s, want the time it waited", rec.Held)
	}
}

// postAsync posts body to url through c in the background; the channel
// gets the response body, or the error's text.
func postAsync(c *http.Client, url, body string) <-chan string {
	done := make(chan string, 1)
	go func() {
		resp, err := c.Post(url, "text/plain", strings.NewReader(body))
		if err != nil {
			done <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- string(b)
	}()
	return done
}

// waitAccess returns the access record of the next request to path.
func waitAccess(t *testing.T, tp *testProxy, path string) AccessRecord {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case rec := <-tp.access:
			if rec.Path == path {
				return rec
			}
		case <-timeout:
			t.Fatalf("no access record for %s", path)
		}
	}
}
