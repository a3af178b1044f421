package session

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/internal/record"
)

// TestProxyServesAndReportsEvents runs the proxy-only session from Go: it
// says where it listens and when the upstream answers, forwards with the
// forwarding headers, reports each request as an access event, and stops
// cleanly when its context ends.
func TestProxyServesAndReportsEvents(t *testing.T) {
	isolate(t)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path+" via "+r.Header.Get("X-Forwarded-Proto"))
	}))
	defer upstream.Close()

	seen := record.New[events.Event]()
	var notices []Notice
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Proxy(ctx, ProxyOptions{To: upstream.URL, Port: 0, Hosts: []string{"127.0.0.1"},
			Notify: func(n Notice) { notices = append(notices, n) }, OnEvent: seen.Add})
	}()
	wait := func(what string, match func(events.Event) bool) events.Event {
		t.Helper()
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		defer wcancel()
		e, _, err := seen.Wait(wctx, 0, nil, match)
		if err != nil {
			t.Fatalf("no %s: %v; events: %+v", what, err, seen.Items())
		}
		return e
	}
	ready := wait("ready message", func(e events.Event) bool {
		return e.Kind == events.KindMessage && e.Source == events.SourceDevstack && strings.HasPrefix(e.Text, "ready https://localhost:")
	})
	origin, _, _ := strings.Cut(strings.TrimPrefix(ready.Text, "ready "), " -> ")

	pem, err := os.ReadFile(filepath.Join(os.Getenv("CAROOT"), "rootCA.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(origin + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, want := string(body), "/hello via https"; got != want {
		t.Errorf("through the proxy: got %q, want %q", got, want)
	}
	access := wait("access event", func(e events.Event) bool { return e.Kind == events.KindAccess && e.Access.Path == "/hello" })
	if access.Source != events.SourceProxy || access.Access.Status != 200 || access.Access.Method != "GET" {
		t.Errorf("access event: %+v", access)
	}
	if len(notices) == 0 || !strings.HasPrefix(notices[0].Text, "created a local certificate authority") {
		t.Errorf("notices: got %+v, want the new CA first", notices)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Proxy after its context ended: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Proxy did not return after its context ended")
	}
}

// TestProxyRefusesBadInput: the errors the command line shows, with hints.
func TestProxyRefusesBadInput(t *testing.T) {
	isolate(t)
	for _, opts := range []ProxyOptions{{}, {To: "http://127.0.0.1:1", Port: 70000}} {
		err := Proxy(context.Background(), opts)
		var h interface{ Hint() string }
		if err == nil || !errors.As(err, &h) || h.Hint() == "" {
			t.Errorf("Proxy(%+v): got %v, want an error with a hint", opts, err)
		}
	}
}
