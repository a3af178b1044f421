package proxy

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// strayResponse is a complete, well-formed HTTP response: what a client
// that reuses the connection would take for the answer to its next request.
const strayResponse = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nX-Stray: yes\r\n\r\nstray answer!"

// strayUpstream is a keep-alive HTTP/1.1 server that misbehaves as gunicorn
// 20 under --threads does: after a response that has no body (the answer to
// a HEAD, a 304, a 204) it sends one anyway, and keeps the connection; after
// /extra it sends more than its Content-Length. Any other request is
// answered with "answer " and its path.
type strayUpstream struct {
	url       string
	mode      string // how the stray bytes are sent: see strayModes
	serverTLS *tls.Config

	mu    sync.Mutex
	conns []net.Conn
	ln    net.Listener

	// strayWritten receives the path of each request whose stray bytes
	// were written in "late" mode, so a test waits for them instead of
	// guessing how long they take on a busy machine.
	strayWritten chan string
}

// strayModes are the ways stray bytes reach the proxy:
//   - together: in the same write (and TLS record) as the response;
//   - records: over TLS, in a record of their own that arrives in the same
//     TCP segment as the response, so the TLS layer holds it unread;
//   - late: a moment after the response, once the proxy has read it.
var strayModes = []string{"together", "records", "late"}

// startStrayUpstream serves on a free loopback port, over TLS with
// serverTLS when it is not nil.
func startStrayUpstream(t *testing.T, mode string, serverTLS *tls.Config) *strayUpstream {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &strayUpstream{mode: mode, serverTLS: serverTLS, ln: ln, url: "http://" + ln.Addr().String(),
		strayWritten: make(chan string, 64)}
	if serverTLS != nil {
		u.url = "https://localhost:" + fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	}
	go u.serve()
	t.Cleanup(u.close)
	return u
}

func (u *strayUpstream) serve() {
	for {
		c, err := u.ln.Accept()
		if err != nil {
			return
		}
		u.mu.Lock()
		u.conns = append(u.conns, c)
		u.mu.Unlock()
		go u.serveConn(c)
	}
}

func (u *strayUpstream) close() {
	u.ln.Close()
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, c := range u.conns {
		c.Close()
	}
}

// heldConn gathers writes while hold is set, to send them as one.
type heldConn struct {
	net.Conn
	hold bool
	buf  []byte
}

func (c *heldConn) Write(p []byte) (int, error) {
	if c.hold {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *heldConn) release() error {
	c.hold = false
	_, err := c.Conn.Write(c.buf)
	c.buf = nil
	return err
}

func (u *strayUpstream) serveConn(raw net.Conn) {
	defer raw.Close()
	held := &heldConn{Conn: raw}
	var c net.Conn = held
	if u.serverTLS != nil {
		c = tls.Server(held, u.serverTLS)
	}
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		req.Body.Close()
		var head string
		switch {
		case req.Method == "HEAD":
			head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\n"
		case req.URL.Path == "/304":
			head = "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"
		case req.URL.Path == "/204":
			head = "HTTP/1.1 204 No Content\r\n\r\n"
		case req.URL.Path == "/extra":
			head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nextra"
		default:
			body := "answer " + req.URL.Path
			if _, err := fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body); err != nil {
				return
			}
			continue
		}
		switch u.mode {
		case "together":
			_, err = c.Write([]byte(head + strayResponse))
		case "records":
			held.hold = true
			c.Write([]byte(head))
			c.Write([]byte(strayResponse))
			err = held.release()
		case "late":
			if _, err = c.Write([]byte(head)); err == nil {
				time.Sleep(20 * time.Millisecond)
				if _, err = c.Write([]byte(strayResponse)); err == nil {
					select {
					case u.strayWritten <- req.URL.Path:
					default:
					}
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// awaitStray waits until the upstream has written the stray bytes that
// follow its answer to path. On loopback they are in the proxy's socket
// buffer once the write returns.
func (u *strayUpstream) awaitStray(t *testing.T, path string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-u.strayWritten:
			if got == path {
				return
			}
		case <-timeout:
			t.Fatalf("the upstream never wrote the stray bytes after %s", path)
		}
	}
}

// checkOwnAnswers sends 20 GETs one after the other: each must get the
// answer to its own path, never the stray response.
func checkOwnAnswers(t *testing.T, tp *testProxy, c *http.Client, after string) {
	t.Helper()
	for i := range 20 {
		path := fmt.Sprintf("/after/%d", i)
		resp, body := tp.do(c, "GET", path, nil, nil)
		if got, want := body, "answer "+path; resp.StatusCode != 200 || got != want {
			t.Fatalf("GET %s after %s: %d %q, want 200 %q", path, after, resp.StatusCode, got, want)
		}
	}
}

// TestStrayBytesAfterBodilessResponse pins issue 9 (high): an upstream that
// sends a body after a bodiless response must not shift every later
// response on that connection by one.
func TestStrayBytesAfterBodilessResponse(t *testing.T) {
	for _, upstream := range []string{"http", "https"} {
		for _, mode := range strayModes {
			if mode == "records" && upstream == "http" {
				continue // the same bytes as "together"
			}
			t.Run(upstream+"/"+mode, func(t *testing.T) {
				var cfg Config
				var serverTLS *tls.Config
				if upstream == "https" {
					var roots *tls.Config
					serverTLS, roots = upstreamTLS(t)
					cfg.testOnlyUpstreamTLS = roots
				}
				up := startStrayUpstream(t, mode, serverTLS)
				tp := startProxy(t, up.url, cfg)
				for _, first := range []struct{ method, path string }{
					{"HEAD", "/head"}, {"GET", "/304"}, {"GET", "/204"}, {"GET", "/extra"},
				} {
					for _, client := range []*http.Client{tp.h1, tp.h2} {
						resp, body := tp.do(client, first.method, first.path, nil, nil)
						if want := map[string]string{"/extra": "extra"}[first.path]; resp.Header.Get("X-Stray") != "" || body != want {
							t.Fatalf("%s %s: got the stray response", first.method, first.path)
						}
						if mode == "late" && first.method != "HEAD" {
							// The stray bytes are in before the next
							// request. After a HEAD the next one goes at
							// once: its connection must not be the HEAD's.
							up.awaitStray(t, first.path)
						}
						checkOwnAnswers(t, tp, client, first.method+" "+first.path)
					}
				}
			})
		}
	}
}

// TestStrayBytesConcurrentClients: with several clients at once, every
// answer still belongs to the request that asked for it.
func TestStrayBytesConcurrentClients(t *testing.T) {
	for _, upstream := range []string{"http", "https"} {
		t.Run(upstream, func(t *testing.T) {
			var cfg Config
			var serverTLS *tls.Config
			if upstream == "https" {
				var roots *tls.Config
				serverTLS, roots = upstreamTLS(t)
				cfg.testOnlyUpstreamTLS = roots
			}
			up := startStrayUpstream(t, "together", serverTLS)
			tp := startProxy(t, up.url, cfg)
			var wg sync.WaitGroup
			errs := make(chan string, 1000)
			for client := range 8 {
				c := tp.h1
				if client%2 == 1 {
					c = tp.h2
				}
				wg.Go(func() {
					for i := range 30 {
						var req *http.Request
						var want string
						switch i % 5 {
						case 0:
							req, _ = http.NewRequest("HEAD", tp.url+"/head", nil)
						case 1:
							req, _ = http.NewRequest("GET", tp.url+"/304", nil)
						case 2: // not safe to repeat: a connection of its own
							path := fmt.Sprintf("/c/%d/%d", client, i)
							req, _ = http.NewRequest("POST", tp.url+path, strings.NewReader("x"))
							want = "answer " + path
						default:
							path := fmt.Sprintf("/c/%d/%d", client, i)
							req, _ = http.NewRequest("GET", tp.url+path, nil)
							want = "answer " + path
						}
						resp, err := c.Do(req)
						if err != nil {
							errs <- fmt.Sprintf("%s %s: %v", req.Method, req.URL.Path, err)
							return
						}
						var sb strings.Builder
						_, err = bufio.NewReader(resp.Body).WriteTo(&sb)
						resp.Body.Close()
						if err != nil || sb.String() != want || resp.Header.Get("X-Stray") != "" {
							errs <- fmt.Sprintf("%s %s: %d %q (err %v), want %q", req.Method, req.URL.Path, resp.StatusCode, sb.String(), err, want)
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			n := 0
			for e := range errs {
				if n++; n <= 5 {
					t.Error(e)
				}
			}
			if n > 5 {
				t.Errorf("… %d wrong answers in all", n)
			}
		})
	}
}

// upstreamTLS returns a server configuration for an https upstream on
// localhost and the client configuration that trusts it.
func upstreamTLS(t *testing.T) (server, client *tls.Config) {
	serverTLS, roots := testTLS(t)
	serverTLS.NextProtos = []string{"http/1.1"}
	return serverTLS, &tls.Config{RootCAs: roots}
}
