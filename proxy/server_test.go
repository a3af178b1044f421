package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func newTestProxy(t *testing.T, upstream string) *Proxy {
	p, _ := newTestProxyRoots(t, upstream)
	return p
}

func newTestProxyRoots(t *testing.T, upstream string) (*Proxy, *x509.CertPool) {
	t.Helper()
	u, _ := url.Parse(upstream)
	serverTLS, roots := testTLS(t)
	p, err := New(Config{Upstream: u, TLS: serverTLS})
	if err != nil {
		t.Fatal(err)
	}
	return p, roots
}

func TestListenDefaultsToLoopbackOnly(t *testing.T) {
	p := newTestProxy(t, "http://127.0.0.1:1")
	s, err := p.Listen(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Addrs()) == 0 {
		t.Fatal("no address bound")
	}
	for _, a := range s.Addrs() {
		tcp := a.(*net.TCPAddr)
		if !tcp.IP.IsLoopback() {
			t.Errorf("bound %v, which is not loopback", a)
		}
		if tcp.Port != s.Port() {
			t.Errorf("bound %v, want every address on port %d", a, s.Port())
		}
	}
	if s.Addrs()[0].(*net.TCPAddr).IP.To4() == nil {
		t.Errorf("first address %v is not 127.0.0.1", s.Addrs()[0])
	}
	if hasIPv6Loopback() && len(s.Addrs()) != 2 {
		t.Errorf("bound %v, want 127.0.0.1 and ::1", s.Addrs())
	}
	if got, want := s.URL(), "https://localhost:"+strconv.Itoa(s.Port()); got != want {
		t.Errorf("URL: got %q, want %q", got, want)
	}
}

func hasIPv6Loopback() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

func TestListenPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	p := newTestProxy(t, "http://127.0.0.1:1")
	s, err := p.Listen(nil, port)
	if err == nil {
		s.Close()
		t.Fatal("Listen on a busy port succeeded")
	}
	var le *ListenError
	if !errors.As(err, &le) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("error %v (%T), want a ListenError for EADDRINUSE", err, err)
	}
	want := "127.0.0.1:" + strconv.Itoa(port)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s", err, want)
	}
	if h := le.Hint(); !strings.Contains(h, "--port") || !strings.Contains(h, strconv.Itoa(port)) {
		t.Errorf("hint %q", h)
	}
}

func TestListenAllInterfacesWhenAsked(t *testing.T) {
	p := newTestProxy(t, "http://127.0.0.1:1")
	s, err := p.Listen([]string{"0.0.0.0"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if a := s.Addrs(); len(a) != 1 || !a[0].(*net.TCPAddr).IP.IsUnspecified() {
		t.Errorf("bound %v, want 0.0.0.0 only", a)
	}
}

func TestListenRejectsBadInput(t *testing.T) {
	p := newTestProxy(t, "http://127.0.0.1:1")
	if s, err := p.Listen(nil, 70000); err == nil {
		s.Close()
		t.Error("port 70000 accepted")
	}
	if s, err := p.Listen([]string{"192.0.2.1"}, 0); err == nil {
		s.Close()
		t.Error("an address of another machine accepted")
	} else if !strings.Contains(err.(*ListenError).Hint(), "--host") {
		t.Errorf("hint for a foreign address: %q", err.(*ListenError).Hint())
	}
	noTLS, _ := New(Config{Upstream: &url.URL{Scheme: "http", Host: "127.0.0.1:1"}})
	if _, err := noTLS.Listen(nil, 0); err == nil {
		t.Error("Listen without TLS config succeeded")
	}
}

func TestParseUpstream(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8000":  "http://127.0.0.1:8000",
		"127.0.0.1:8000":         "http://127.0.0.1:8000",
		"localhost:3000":         "http://localhost:3000",
		":8000":                  "http://127.0.0.1:8000",
		"https://localhost:9443": "https://localhost:9443",
		"http://[::1]:8000/app":  "http://[::1]:8000/app",
	} {
		u, err := ParseUpstream(in)
		if err != nil || u.String() != want {
			t.Errorf("ParseUpstream(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, in := range []string{"", "ftp://x:1", "http://", "http://user:pw@host:1", "http://%zz"} {
		if u, err := ParseUpstream(in); err == nil {
			t.Errorf("ParseUpstream(%q) = %v, want an error", in, u)
		} else if _, ok := err.(interface{ Hint() string }); !ok {
			t.Errorf("ParseUpstream(%q) error %v has no hint", in, err)
		}
	}
}

// TestGracefulShutdown: a request in flight when Shutdown starts finishes;
// new connections are refused.
func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	backend := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go backend.Serve(ln)
	defer backend.Close()

	p, roots := newTestProxyRoots(t, "http://"+ln.Addr().String())
	s, err := p.Listen(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := client.Get(s.URL() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- result{body: string(b)}
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached the upstream")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(ctx) }()
	// The listener closes at once.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.Port()))
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections during shutdown")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Errorf("in-flight request: %q, %v", r.body, r.err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestListenRefusesItselfAsUpstream pins issue 9: `devstack proxy --to
// https://localhost:P --port P` forwarded every request to itself, one new
// connection each time (100% CPU, +1,400 fds/s).
func TestListenRefusesItselfAsUpstream(t *testing.T) {
	_, portStr, _ := net.SplitHostPort(freeAddr(t))
	port, _ := strconv.Atoi(portStr)
	other := strconv.Itoa(port + 1)
	for _, tc := range []struct {
		upstream string
		hosts    []string
		self     bool
	}{
		{"https://localhost:" + portStr, nil, true},
		{"http://localhost:" + portStr, nil, true},
		{"http://LOCALHOST.:" + portStr, nil, true},
		{"http://myapp.localhost:" + portStr, nil, true},
		{"http://127.0.0.1:" + portStr, nil, true},
		{"http://0.0.0.0:" + portStr, nil, true},
		{"http://127.0.0.1:" + portStr, []string{"0.0.0.0"}, true},
		{"http://localhost:" + portStr, []string{"127.0.0.1"}, true},
		{"http://127.0.0.1:" + other, nil, false},
		{"http://127.0.0.2:" + portStr, []string{"127.0.0.1"}, false},
	} {
		p := newTestProxy(t, tc.upstream)
		s, err := p.Listen(tc.hosts, port)
		var self *SelfUpstreamError
		if got := errors.As(err, &self); got != tc.self {
			t.Errorf("upstream %s, hosts %v: refused as itself %v, want %v (err %v)", tc.upstream, tc.hosts, got, tc.self, err)
		}
		if err == nil {
			s.Close()
		} else if !tc.self {
			t.Errorf("upstream %s: %v", tc.upstream, err)
		}
	}
	if hasIPv6Loopback() {
		p := newTestProxy(t, "http://[::1]:"+portStr)
		if s, err := p.Listen(nil, port); err == nil {
			s.Close()
			t.Errorf("upstream [::1]:%d, the proxy's own address, accepted", port)
		}
	}
	// The port is free again after a refusal.
	p := newTestProxy(t, "http://127.0.0.1:"+other)
	s, err := p.Listen(nil, port)
	if err != nil {
		t.Fatalf("after refusals: %v", err)
	}
	s.Close()
}
