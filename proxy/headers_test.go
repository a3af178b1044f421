package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestIsForwardingHeader(t *testing.T) {
	for _, name := range []string{
		"X-Forwarded-For", "x-forwarded-for", "X-FORWARDED-FOR", "X_Forwarded_For", "x_forwarded_for",
		"X-Forwarded-Proto", "X_Forwarded_Proto", "x-forwarded-proto", "X-Forwarded_Proto",
		"X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Ssl", "X_FORWARDED_SSL",
		"X-Forwarded-Protocol", "x-forwarded-protocol", "X-Forwarded-Scheme", "X-Forwarded-Prefix",
		"X-Forwarded-Server", "X-Forwarded", "Forwarded", "FORWARDED", "X-Real-IP", "X-Real-Ip",
		"x_real_ip", "X_REAL_IP", "SCRIPT_NAME", "Script-Name", "script_name", "PATH_INFO", "Path-Info",
		"X-Script-Name", "X_SCRIPT_NAME", "X-Scheme", "x_scheme",
	} {
		if !IsForwardingHeader(name) {
			t.Errorf("IsForwardingHeader(%q) = false, want true", name)
		}
	}
	for _, name := range []string{
		"Host", "Forwarded-For", "X-Real", "X-Real-IPv6", "Xforwarded-For", "X-Forward-For",
		"Accept", "Forwardedx", "Real-IP", "", "Script", "Script-Names", "X-Schemes", "Path",
	} {
		if IsForwardingHeader(name) {
			t.Errorf("IsForwardingHeader(%q) = true, want false", name)
		}
	}
}

func TestForwardedValue(t *testing.T) {
	tests := []struct{ ip, host, want string }{
		{"127.0.0.1", "localhost:8080", `for=127.0.0.1;host="localhost:8080";proto=https`},
		{"::1", "[::1]:8443", `for="[::1]";host="[::1]:8443";proto=https`},
		{"10.1.2.3", "example.test", `for=10.1.2.3;host=example.test;proto=https`},
		{"", "", `proto=https`},
	}
	for _, tt := range tests {
		if got := forwardedValue(tt.ip, tt.host); got != tt.want {
			t.Errorf("forwardedValue(%q, %q): got %q, want %q", tt.ip, tt.host, got, tt.want)
		}
	}
}

// forgedHeaders are what a client might send to pass itself off as the proxy.
var forgedHeaders = http.Header{
	"X-Forwarded-For":      {"6.6.6.6"},
	"x-forwarded-proto":    {"http"},
	"X-FORWARDED-HOST":     {"evil.test"},
	"X_Forwarded_Proto":    {"http"},
	"X_Forwarded_For":      {"6.6.6.6"},
	"X-Forwarded-Ssl":      {"off"},
	"x_forwarded_ssl":      {"on"},
	"X-Forwarded-Protocol": {"http"},
	"X-Forwarded-Port":     {"80"},
	"X-Forwarded-Prefix":   {"/evil"},
	"Forwarded":            {"for=6.6.6.6;proto=http"},
	"X-Real-IP":            {"6.6.6.6"},
	"x_real_ip":            {"6.6.6.6"},
	"SCRIPT_NAME":          {"/evil"},
	"PATH_INFO":            {"/evil"},
	"X-Script-Name":        {"/evil"},
	"X-Scheme":             {"http"},
}

func TestForwardingHeadersEndToEnd(t *testing.T) {
	up := newEchoUpstream(t)
	tp := startProxy(t, up.URL, Config{})
	for _, tc := range []struct {
		name   string
		client *http.Client
		proto  int
	}{{"http1", tp.h1, 1}, {"http2", tp.h2, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := tp.do(tc.client, "GET", "/path?q=1", forgedHeaders, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if resp.ProtoMajor != tc.proto {
				t.Errorf("client got HTTP/%d, want HTTP/%d", resp.ProtoMajor, tc.proto)
			}
			r, _ := up.lastRequest()
			host := "localhost:" + strconv.Itoa(tp.server.Port())
			want := map[string]string{
				"X-Forwarded-Proto": "https",
				"X-Forwarded-For":   "127.0.0.1",
				"X-Forwarded-Host":  host,
			}
			checkForwarding(t, r.Header, want)
			if r.Host != host {
				t.Errorf("upstream Host: got %q, want %q", r.Host, host)
			}
			if got, want := r.URL.RequestURI(), "/path?q=1"; got != want {
				t.Errorf("upstream path: got %q, want %q", got, want)
			}
		})
	}
}

// checkForwarding fails unless the forwarding headers in h are exactly want.
func checkForwarding(t *testing.T, h http.Header, want map[string]string) {
	t.Helper()
	for name, vs := range h {
		if !IsForwardingHeader(name) {
			continue
		}
		w, ok := want[http.CanonicalHeaderKey(name)]
		if !ok {
			t.Errorf("upstream got forwarding header %s: %q, which the proxy does not send", name, vs)
			continue
		}
		if len(vs) != 1 || vs[0] != w {
			t.Errorf("upstream %s: got %q, want %q", name, vs, w)
		}
	}
	for name := range want {
		if _, ok := h[name]; !ok {
			t.Errorf("upstream did not get %s", name)
		}
	}
}

func TestHeaderPolicyEveryHeader(t *testing.T) {
	up := newEchoUpstream(t)
	tp := startProxy(t, up.URL, Config{Headers: HeaderPolicy{
		SSL: true, Protocol: true, Port: true, RealIP: true, Forwarded: true,
	}})
	// Through ::1, with the Host the browser would use for it.
	port := strconv.Itoa(tp.server.Port())
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tp.roots}}}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest("GET", "https://[::1]:"+port+"/", nil)
	for k, v := range forgedHeaders {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	resp.Body.Close()
	r, _ := up.lastRequest()
	checkForwarding(t, r.Header, map[string]string{
		"X-Forwarded-Proto":    "https",
		"X-Forwarded-For":      "::1",
		"X-Forwarded-Host":     "[::1]:" + port,
		"X-Forwarded-Ssl":      "on",
		"X-Forwarded-Protocol": "ssl",
		"X-Forwarded-Port":     port,
		"X-Real-Ip":            "::1",
		"Forwarded":            `for="[::1]";host="[::1]:` + port + `";proto=https`,
	})
}

func TestHeaderPolicyOmit(t *testing.T) {
	up := newEchoUpstream(t)
	tp := startProxy(t, up.URL, Config{Headers: HeaderPolicy{OmitProto: true, OmitFor: true, OmitHost: true, RealIP: true}})
	tp.do(tp.h1, "GET", "/", forgedHeaders, nil)
	r, _ := up.lastRequest()
	checkForwarding(t, r.Header, map[string]string{"X-Real-Ip": "127.0.0.1"})
}

// TestForgedHeadersOnTheWire writes header lines by hand, in forms Go's
// client would normalise away: repeated, odd case, underscores, hidden in
// Connection.
func TestForgedHeadersOnTheWire(t *testing.T) {
	up := newEchoUpstream(t)
	tp := startProxy(t, up.URL, Config{})
	port := strconv.Itoa(tp.server.Port())
	conn, err := tls.Dial("tcp", "127.0.0.1:"+port, &tls.Config{RootCAs: tp.roots, ServerName: "localhost", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /wire HTTP/1.1\r\nHost: localhost:%s\r\n"+
		"x-forwarded-proto: http\r\nX-Forwarded-Proto: http\r\nX-FORWARDED-FOR: 1.1.1.1\r\n"+
		"X-Forwarded-For: 2.2.2.2\r\nx_forwarded_host: evil\r\nX_FORWARDED_PROTO: http\r\n"+
		"forwarded: proto=http\r\nX-REAL-IP: 3.3.3.3\r\nConnection: keep-alive, X-Forwarded-Proto\r\n"+
		"X-Forwarded-Ssl: on\r\nX-Forwarded-Protocol: ssl\r\n\r\n", port)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r, _ := up.lastRequest()
	checkForwarding(t, r.Header, map[string]string{
		"X-Forwarded-Proto": "https",
		"X-Forwarded-For":   "127.0.0.1",
		"X-Forwarded-Host":  "localhost:" + port,
	})
}

// FuzzHeaders sends random header names and values through the proxy: no
// forwarding header but the proxy's own may reach the upstream, and nothing
// may panic.
func FuzzHeaders(f *testing.F) {
	for _, seed := range [][3]string{
		{"X-Forwarded-For", "6.6.6.6", "X-Real-IP"},
		{"x_forwarded_proto", "http", "Forwarded"},
		{"X-FORWARDED-HOST", "evil:1", "x-forwarded-ssl"},
		{"X-Forwarded-Protocol", "ssl", "X_Forwarded_Port"},
		{"Forwarded", "for=1.2.3.4;proto=http", "X-Real_Ip"},
		{"X-Forwarded", "", "x-forwarded-"},
		{"Host", "evil", "Connection"},
		{"Connection", "X-Forwarded-For, close", "X-Forwarded-For"},
		{"Content-Length", "5", "Transfer-Encoding"},
		{"X-Ok", "value\twith tab", "X\x00Bad"},
		{"Ünicode", "ü", "x-forwarded-for "},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	up := newEchoUpstream(f)
	u, _ := url.Parse(up.URL)
	p, err := New(Config{Upstream: u, Headers: HeaderPolicy{RealIP: true}, HoldTimeout: -1})
	if err != nil {
		f.Fatal(err)
	}
	front := httptest.NewServer(p)
	f.Cleanup(front.Close)
	f.Fuzz(func(t *testing.T, name1, value1, name2 string) {
		req, err := http.NewRequest("GET", front.URL+"/fuzz", nil)
		if err != nil {
			t.Skip()
		}
		req.Header[name1] = []string{value1}
		req.Header[name2] = []string{value1, "x"}
		req.Header[strings.ToLower(name1)] = []string{"lower"}
		before, _ := up.lastRequest()
		resp, err := front.Client().Do(req)
		if err != nil {
			return // Go's client refused to send an invalid header: fine
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		r, _ := up.lastRequest()
		if resp.StatusCode != 200 || r == before {
			return // rejected by the proxy's server or transport before the upstream
		}
		for name, vs := range r.Header {
			if !IsForwardingHeader(name) {
				continue
			}
			want := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1",
				"X-Forwarded-Host": r.Host, "X-Real-Ip": "127.0.0.1"}[name]
			if want == "" || len(vs) != 1 || vs[0] != want {
				t.Fatalf("forged header reached the upstream: %s: %q (client sent %q: %q, %q)", name, vs, name1, value1, name2)
			}
		}
	})
}

func TestHostHeaderPassedThrough(t *testing.T) {
	up := newEchoUpstream(t)
	tp := startProxy(t, up.URL, Config{})
	// A client that connects to 127.0.0.1 but names another host, as a
	// browser does for a name in /etc/hosts.
	port := strconv.Itoa(tp.server.Port())
	c := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: tp.roots, ServerName: "localhost"},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
		},
	}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("https://myapp.localhost:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r, _ := up.lastRequest()
	if got, want := r.Host, "myapp.localhost:"+port; got != want {
		t.Errorf("upstream Host: got %q, want %q", got, want)
	}
	if got, want := r.Header.Get("X-Forwarded-Host"), "myapp.localhost:"+port; got != want {
		t.Errorf("X-Forwarded-Host: got %q, want %q", got, want)
	}
}
