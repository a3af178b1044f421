package proxy

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"
)

func TestHTTP2Negotiated(t *testing.T) {
	up := newEchoUpstream(t)
	tp := startProxy(t, up.URL, Config{})
	resp, body := tp.do(tp.h2, "GET", "/h2", nil, nil)
	if resp.ProtoMajor != 2 {
		t.Fatalf("client with h2 got %s, want HTTP/2", resp.Proto)
	}
	if got, want := body, "ok GET /h2"; got != want {
		t.Errorf("body: got %q, want %q", got, want)
	}
	rec := tp.nextAccess()
	if rec.Proto != "HTTP/2.0" || rec.Status != 200 || rec.Path != "/h2" || rec.Method != "GET" ||
		rec.BytesOut != int64(len(body)) || rec.UpstreamError != nil || !strings.HasPrefix(rec.RemoteAddr, "127.0.0.1:") {
		t.Errorf("access record: %+v", rec)
	}
	resp, _ = tp.do(tp.h1, "GET", "/h1", nil, nil)
	if resp.ProtoMajor != 1 || resp.ProtoMinor != 1 {
		t.Errorf("client offering only http/1.1 got %s", resp.Proto)
	}
}

func TestBodyBufferedWithContentLength(t *testing.T) {
	up := newEchoUpstream(t)
	spool := t.TempDir()
	tp := startProxy(t, up.URL, Config{MemoryBodyBytes: 1024, TempDir: spool})
	for _, size := range []int{10, 1024, 1025, 300 << 10} {
		for _, tc := range []struct {
			name   string
			client *http.Client
		}{{"h1", tp.h1}, {"h2", tp.h2}} {
			payload := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
			// io.MultiReader hides the length: the client sends chunked (h1)
			// or without content-length (h2).
			resp, _ := tp.do(tc.client, "POST", "/upload", nil, io.MultiReader(bytes.NewReader(payload)))
			if resp.StatusCode != 200 {
				t.Fatalf("%s %d bytes: status %d", tc.name, size, resp.StatusCode)
			}
			if got, want := resp.Header.Get("X-Upstream-Content-Length"), strconv.Itoa(size); got != want {
				t.Errorf("%s %d bytes: upstream Content-Length %s, want %s", tc.name, size, got, want)
			}
			if te := resp.Header.Get("X-Upstream-Transfer-Encoding"); te != "" {
				t.Errorf("%s %d bytes: upstream Transfer-Encoding %q, want none", tc.name, size, te)
			}
			_, body := up.lastRequest()
			if !bytes.Equal(body, payload) {
				t.Errorf("%s %d bytes: upstream body differs (%d bytes)", tc.name, size, len(body))
			}
		}
	}
	if left, _ := filepath.Glob(filepath.Join(spool, "*")); len(left) != 0 {
		t.Errorf("spool files left behind: %v", left)
	}
}

func TestBodyOverLimit(t *testing.T) {
	up := newEchoUpstream(t)
	tp := startProxy(t, up.URL, Config{MaxBodyBytes: 4096, MemoryBodyBytes: 1024, TempDir: t.TempDir()})
	for _, tc := range []struct {
		name string
		body func() io.Reader
	}{
		{"declared length", func() io.Reader { return bytes.NewReader(make([]byte, 5000)) }},
		{"chunked", func() io.Reader { return io.MultiReader(bytes.NewReader(make([]byte, 5000))) }},
	} {
		resp, body := tp.do(tp.h1, "POST", "/big", nil, tc.body())
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: status %d, want 413", tc.name, resp.StatusCode)
		}
		if !strings.Contains(body, "4096") {
			t.Errorf("%s: body %q does not name the limit", tc.name, body)
		}
		if rec := tp.nextAccess(); rec.Status != 413 || rec.ClientError == nil {
			t.Errorf("%s: access record %+v", tc.name, rec)
		}
	}
	if r, _ := up.lastRequest(); r != nil {
		t.Errorf("upstream saw a request over the limit: %s %s", r.Method, r.URL)
	}
	resp, _ := tp.do(tp.h1, "POST", "/ok", nil, bytes.NewReader(make([]byte, 4096)))
	if resp.StatusCode != 200 {
		t.Errorf("body at the limit: status %d, want 200", resp.StatusCode)
	}
}

func TestStalledBodyTimesOut(t *testing.T) {
	up := newEchoUpstream(t)
	tp := startProxy(t, up.URL, Config{BodyReadTimeout: 300 * time.Millisecond})
	conn := tp.dialTLS("http/1.1")
	fmt.Fprintf(conn, "POST /stall HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nonly part")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled upload: %v", err)
	}
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("status %d, want 408", resp.StatusCode)
	}
	if r, _ := up.lastRequest(); r != nil {
		t.Errorf("upstream saw the stalled request")
	}
}

// dialTLS opens a raw TLS connection to the proxy offering proto.
func (tp *testProxy) dialTLS(proto string) *tls.Conn {
	tp.t.Helper()
	conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(tp.server.Port()),
		&tls.Config{RootCAs: tp.roots, ServerName: "localhost", NextProtos: []string{proto}})
	if err != nil {
		tp.t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	tp.t.Cleanup(func() { conn.Close() })
	return conn
}

func TestPlainHTTPRedirected(t *testing.T) {
	up := newEchoUpstream(t)
	tp := startProxy(t, up.URL, Config{})
	port := strconv.Itoa(tp.server.Port())
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
	for _, tc := range []struct{ url, host, want string }{
		{"http://localhost:" + port + "/a/b?c=d", "", "https://localhost:" + port + "/a/b?c=d"},
		{"http://127.0.0.1:" + port + "/", "", "https://127.0.0.1:" + port + "/"},
		// Issue 9: Host [::1] was redirected to https://[[::1]]:P/.
		{"http://127.0.0.1:" + port + "/v6", "[::1]", "https://[::1]:" + port + "/v6"},
		{"http://127.0.0.1:" + port + "/v6", "[::1]:80", "https://[::1]:" + port + "/v6"},
		{"http://127.0.0.1:" + port + "/", "localhost", "https://localhost:" + port + "/"},
	} {
		req, _ := http.NewRequest("GET", tc.url, nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusPermanentRedirect {
			t.Errorf("%s: status %d, want 308", tc.url, resp.StatusCode)
		}
		if got := resp.Header.Get("Location"); got != tc.want {
			t.Errorf("%s with Host %q: Location %q, want %q", tc.url, tc.host, got, tc.want)
		}
		if rec := tp.nextAccess(); !rec.Redirected || rec.Status != 308 {
			t.Errorf("access record %+v", rec)
		}
	}
	// The redirect is followed to a working https page.
	follow := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tp.roots}}, Timeout: 10 * time.Second}
	defer follow.CloseIdleConnections()
	resp, err := follow.Get("http://localhost:" + port + "/followed")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok GET /followed" || resp.Request.URL.Scheme != "https" {
		t.Errorf("after redirect: %q at %s", body, resp.Request.URL)
	}
}

func TestWebSocketEcho(t *testing.T) {
	up := httptest.NewServer(websocket.Handler(func(ws *websocket.Conn) {
		var msg string
		for websocket.Message.Receive(ws, &msg) == nil {
			if websocket.Message.Send(ws, msg) != nil {
				return
			}
		}
	}))
	defer up.Close()
	tp := startProxy(t, up.URL, Config{})
	cfg, err := websocket.NewConfig("wss://localhost:"+strconv.Itoa(tp.server.Port())+"/ws", "https://localhost")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TlsConfig = &tls.Config{RootCAs: tp.roots}
	ws, err := websocket.DialConfig(cfg)
	if err != nil {
		t.Fatalf("websocket through the proxy: %v", err)
	}
	defer ws.Close()
	ws.SetDeadline(time.Now().Add(10 * time.Second))
	for _, msg := range []string{"hello", strings.Repeat("x", 100000), "bye"} {
		if err := websocket.Message.Send(ws, msg); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := websocket.Message.Receive(ws, &got); err != nil {
			t.Fatal(err)
		}
		if got != msg {
			t.Errorf("echo: got %d bytes, want %d", len(got), len(msg))
		}
	}
	ws.Close()
	if rec := tp.nextAccess(); rec.Status != http.StatusSwitchingProtocols {
		t.Errorf("access record for the upgrade: %+v", rec)
	}
}

func TestServerSentEventsStreamed(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		select { // the response stays open until the client saw the first event
		case <-release:
		case <-time.After(20 * time.Second):
		}
		fmt.Fprint(w, "data: last\n\n")
	}))
	defer up.Close()
	defer close(release)
	tp := startProxy(t, up.URL, Config{})
	for _, c := range []*http.Client{tp.h1, tp.h2} {
		resp, err := c.Get(tp.url + "/events")
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || line != "data: first\n" {
			t.Errorf("%s: first event: %q, %v", resp.Proto, line, err)
		}
		release <- struct{}{}
		resp.Body.Close()
	}
}

func TestBadGatewayPages(t *testing.T) {
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	logs := []string{"Traceback (most recent call last):", `  File "app.py", line 1`, "ImportError: <no module named 'x'> & more"}
	tp := startProxy(t, dead, Config{HoldTimeout: 200 * time.Millisecond, LastLogLines: func() []string { return logs }})

	resp, body := tp.do(tp.h1, "GET", "/", http.Header{"Accept": {"text/html,application/xhtml+xml;q=0.9"}}, nil)
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("browser got Content-Type %q", ct)
	}
	for _, want := range []string{"<title>502 Bad Gateway", dead, "connection refused",
		"ImportError: &lt;no module named &#39;x&#39;&gt; &amp; more", "Traceback"} {
		if !strings.Contains(body, want) {
			t.Errorf("HTML page lacks %q:\n%s", want, body)
		}
	}
	rec := tp.nextAccess()
	var hold *HoldTimeoutError
	if rec.Status != 502 || !errors.As(rec.UpstreamError, &hold) || rec.Held < 200*time.Millisecond {
		t.Errorf("access record %+v", rec)
	}

	resp, body = tp.do(tp.h2, "GET", "/api", http.Header{"Accept": {"application/json"}}, nil)
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("API client got Content-Type %q", ct)
	}
	for _, want := range []string{"502 Bad Gateway", dead, "connection refused", logs[2]} {
		if !strings.Contains(body, want) {
			t.Errorf("text page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<") && !strings.Contains(body, logs[2]) {
		t.Errorf("text page has markup:\n%s", body)
	}
}

func TestBadGatewayWithoutLogs(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	tp := startProxy(t, dead, Config{HoldTimeout: -1})
	_, body := tp.do(tp.h1, "GET", "/", http.Header{"Accept": {"text/html"}}, nil)
	if strings.Contains(body, "Last log lines") {
		t.Errorf("page shows a log section without logs:\n%s", body)
	}
}

func TestUpstreamDownAnswersAtOnce(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	tp := startProxy(t, dead, Config{
		HoldTimeout:  time.Minute, // would make the test time out if used
		UpstreamDown: func() string { return "the gateway exited with status 3" },
	})
	resp, body := tp.do(tp.h1, "GET", "/", nil, nil)
	if resp.StatusCode != 502 || !strings.Contains(body, "the gateway exited with status 3") {
		t.Errorf("status %d, body:\n%s", resp.StatusCode, body)
	}
}

func TestNoOutputOnStdout(t *testing.T) {
	// The proxy's own complaints (a client that hangs up mid-handshake)
	// go to ErrorLog, never to the terminal.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, w
	up := newEchoUpstream(t)
	tp := startProxy(t, up.URL, Config{})
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(tp.server.Port()))
	if err == nil {
		conn.Write([]byte{0x16, 0x03, 0x01, 0x00, 0x05, 'b', 'a', 'd', '!', '!'})
		io.Copy(io.Discard, conn)
		conn.Close()
	}
	os.Stdout, os.Stderr = oldOut, oldErr
	w.Close()
	out, _ := io.ReadAll(r)
	if len(out) != 0 {
		t.Errorf("the proxy wrote to stdout/stderr: %q", out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		tp.errLogs.mu.Lock()
		n := len(tp.errLogs.lines)
		tp.errLogs.mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			if n == 0 {
				t.Errorf("the bad handshake was not reported to ErrorLog")
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBadGatewayReasonEndsOnce pins issue 9: a reason that already ends in
// a period got a second one ("next file change..").
func TestBadGatewayReasonEndsOnce(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	reason := "gunicorn exited (exit code 3). Fix the error below and save: devstack restarts it on the next file change."
	tp := startProxy(t, dead, Config{UpstreamDown: func() string { return reason }})
	for _, accept := range []string{"text/html", "*/*"} {
		_, body := tp.do(tp.h1, "GET", "/", http.Header{"Accept": {accept}}, nil)
		if !strings.Contains(body, "next file change.") || strings.Contains(body, "change..") {
			t.Errorf("Accept %s: the reason should end in one period:\n%s", accept, body)
		}
	}
}

// TestBadGatewayLogsStayOnThisMachine: the server's log lines can hold
// anything the app printed, so the 502 page shows them only to clients on
// loopback (the proxy may listen on 0.0.0.0 when asked).
func TestBadGatewayLogsStayOnThisMachine(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead, _ := url.Parse("http://" + ln.Addr().String())
	ln.Close()
	secret := "SECRET_KEY=do-not-show"
	p, err := New(Config{Upstream: dead, HoldTimeout: -1, LastLogLines: func() []string { return []string{secret} }})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		remote string
		shown  bool
	}{
		{"127.0.0.1:50000", true}, {"[::1]:50000", true},
		{"192.168.1.20:50000", false}, {"[fe80::1]:50000", false}, {"10.0.0.2:50000", false},
	} {
		for _, accept := range []string{"text/html", "*/*"} {
			req := httptest.NewRequest("GET", "https://localhost/", nil)
			req.RemoteAddr = tc.remote
			req.Header.Set("Accept", accept)
			w := httptest.NewRecorder()
			p.ServeHTTP(w, req)
			body := w.Body.String()
			if w.Code != 502 {
				t.Fatalf("%s: status %d", tc.remote, w.Code)
			}
			if got := strings.Contains(body, secret); got != tc.shown {
				t.Errorf("client %s, Accept %s: log lines shown %v, want %v:\n%s", tc.remote, accept, got, tc.shown, body)
			}
			if hidden := strings.Contains(body, "shown only"); hidden == tc.shown {
				t.Errorf("client %s, Accept %s: no word that the log lines were left out:\n%s", tc.remote, accept, body)
			}
		}
	}
}
