package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// TestRequestWithoutHost pins issue 9: a request with no Host (HTTP/1.0,
// HTTP/2 without :authority) reached the app as Host 127.0.0.1:<app port>
// with no X-Forwarded-Host. It gets the proxy's own origin instead.
func TestRequestWithoutHost(t *testing.T) {
	up := newEchoUpstream(t)
	tp := startProxy(t, up.URL, Config{})
	own := "localhost:" + strconv.Itoa(tp.server.Port())
	check := func(t *testing.T) {
		t.Helper()
		r, _ := up.lastRequest()
		if r == nil {
			t.Fatal("the upstream got no request")
		}
		if r.Host != own {
			t.Errorf("upstream Host: got %q, want %q", r.Host, own)
		}
		checkForwarding(t, r.Header, map[string]string{
			"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1", "X-Forwarded-Host": own,
		})
	}
	t.Run("HTTP/1.0", func(t *testing.T) {
		c := tp.dialTLS("http/1.1")
		io.WriteString(c, "GET /no-host HTTP/1.0\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		check(t)
	})
	t.Run("HTTP/2", func(t *testing.T) {
		h := dialH2(t, tp)
		h.headers(1, true, ":method", "GET", ":scheme", "https", ":path", "/no-authority")
		if got := h.status(); got != "200" {
			t.Fatalf("status %q", got)
		}
		check(t)
	})
}

// TestH2CUpgradeRefused pins issue 9: "Upgrade: h2c" reached an upstream
// that answered 101, and the connection became a tunnel past the header
// policy. The offer is now dropped and the request served as an ordinary
// one.
func TestH2CUpgradeRefused(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			c, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer c.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
			brw.Flush()
			return
		}
		fmt.Fprintf(w, "ordinary; HTTP2-Settings %q", r.Header.Get("Http2-Settings"))
	}))
	defer up.Close()
	tp := startProxy(t, up.URL, Config{})
	for _, upgrade := range []string{"h2c", "H2C", "websocket, h2c"} {
		c := tp.dialTLS("http/1.1")
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n"+
			"Upgrade: %s\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", upgrade)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if got, want := string(body), `ordinary; HTTP2-Settings ""`; resp.StatusCode != 200 || got != want {
			t.Errorf("Upgrade: %s: %d %q, want 200 %q", upgrade, resp.StatusCode, got, want)
		}
		c.Close()
	}
}

// TestNoContentTypeGuessed: a response without Content-Type reaches the
// client without one, as nginx passes it, instead of with the type Go's
// server would guess from the body.
func TestNoContentTypeGuessed(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil // Go's test server would guess one too
		io.WriteString(w, "<html><script>alert(1)</script>")
	}))
	defer up.Close()
	tp := startProxy(t, up.URL, Config{})
	for _, c := range []*http.Client{tp.h1, tp.h2} {
		resp, _ := tp.do(c, "GET", "/", nil, nil)
		if ct, ok := resp.Header["Content-Type"]; ok {
			t.Errorf("%s: Content-Type %q added", resp.Proto, ct)
		}
	}
}
