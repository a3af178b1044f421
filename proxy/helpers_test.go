package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// testProxy is a real Server over real TLS in front of an upstream, with
// clients that trust its CA.
type testProxy struct {
	t       testing.TB
	server  *Server
	url     string // https://localhost:PORT
	roots   *x509.CertPool
	h1      *http.Client // offers only http/1.1
	h2      *http.Client // offers h2 and http/1.1
	access  chan AccessRecord
	errLogs *lineLog
}

// lineLog collects log lines safely across goroutines.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) add(s string) { l.mu.Lock(); l.lines = append(l.lines, s); l.mu.Unlock() }

// startProxy serves cfg (its Upstream set to upstream) on a free port of
// 127.0.0.1 and ::1 over TLS with the devstack CA.
func startProxy(t testing.TB, upstream string, cfg Config) *testProxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Upstream = u
	serverTLS, roots := testTLS(t)
	cfg.TLS = serverTLS
	tp := &testProxy{t: t, roots: roots, access: make(chan AccessRecord, 1000), errLogs: &lineLog{}}
	if cfg.OnAccess == nil {
		cfg.OnAccess = func(r AccessRecord) {
			select {
			case tp.access <- r:
			default:
			}
		}
	}
	cfg.ErrorLog = tp.errLogs.add
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s, err := p.Listen(nil, 0)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Serve did not return after Shutdown")
		}
	})
	tp.server = s
	tp.url = s.URL()
	tp.h1 = &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, NextProtos: []string{"http/1.1"}}},
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	tp.h2 = &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true},
		Timeout:   30 * time.Second,
	}
	t.Cleanup(tp.h1.CloseIdleConnections)
	t.Cleanup(tp.h2.CloseIdleConnections)
	return tp
}

// get sends a GET with extra headers through client c and returns the
// response with its body read.
func (tp *testProxy) do(c *http.Client, method, path string, header http.Header, body io.Reader) (*http.Response, string) {
	tp.t.Helper()
	req, err := http.NewRequest(method, tp.url+path, body)
	if err != nil {
		tp.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs // as given: no canonicalisation
	}
	resp, err := c.Do(req)
	if err != nil {
		tp.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tp.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, string(b)
}

// nextAccess waits for the next access record.
func (tp *testProxy) nextAccess() AccessRecord {
	tp.t.Helper()
	select {
	case r := <-tp.access:
		return r
	case <-time.After(10 * time.Second):
		tp.t.Fatal("no access record within 10s")
	}
	return AccessRecord{}
}

// echoUpstream answers every request with what it received, and keeps the
// last request for inspection.
type echoUpstream struct {
	*httptest.Server
	mu   sync.Mutex
	last *http.Request
	body []byte
}

func newEchoUpstream(t testing.TB) *echoUpstream {
	e := &echoUpstream{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.last, e.body = r, b
		e.mu.Unlock()
		w.Header().Set("X-Upstream-Content-Length", strconv.FormatInt(r.ContentLength, 10))
		w.Header().Set("X-Upstream-Transfer-Encoding", join(r.TransferEncoding))
		w.Write([]byte("ok " + r.Method + " " + r.URL.RequestURI()))
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *echoUpstream) lastRequest() (*http.Request, []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last, e.body
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}
