package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server is a Proxy listening for HTTPS on one port of one or more
// addresses. A plain-HTTP request arriving on that port is redirected to
// https instead of getting Go's "client sent an HTTP request to an HTTPS
// server".
type Server struct {
	proxy     *Proxy
	listeners []net.Listener
	port      int

	https    *http.Server
	redirect *http.Server
	tlsConns *connQueue // connections that started a TLS handshake
	rawConns *connQueue // connections that spoke anything else

	// cancelUpgrades ends hijacked connections (WebSockets) after a
	// graceful shutdown, which does not track them.
	baseCtx        context.Context
	cancelUpgrades context.CancelFunc

	mu       sync.Mutex
	sniffing map[net.Conn]struct{} // accepted, first byte not yet read
	closed   bool
}

// DefaultHosts are the addresses the proxy binds when none are given: the
// IPv4 and IPv6 loopback addresses (::1 only where the machine has it).
var DefaultHosts = []string{"127.0.0.1", "::1"}

// ListenError is a failure to bind an address.
type ListenError struct {
	Addr string
	Err  error
}

func (e *ListenError) Error() string { return fmt.Sprintf("listening on %s: %v", e.Addr, e.Err) }
func (e *ListenError) Unwrap() error { return e.Err }

// Hint says the one thing to do about it.
func (e *ListenError) Hint() string {
	_, port, _ := net.SplitHostPort(e.Addr)
	switch {
	case errors.Is(e.Err, syscall.EADDRINUSE):
		return fmt.Sprintf("another program is using port %s: stop it, or pick another port with --port", port)
	case errors.Is(e.Err, syscall.EACCES):
		return "ports below 1024 need extra privileges: pick a higher one with --port"
	case errors.Is(e.Err, syscall.EADDRNOTAVAIL):
		return "that address does not belong to this machine: use --host 127.0.0.1"
	}
	return "pick another address with --host or another port with --port"
}

// Listen binds port (0 picks a free one) on each of hosts (DefaultHosts
// when empty; "localhost" means both loopback addresses). Every address gets
// the same port. Call Serve to start answering.
func (p *Proxy) Listen(hosts []string, port int) (*Server, error) {
	if p.cfg.TLS == nil {
		return nil, errors.New("no TLS configuration for the proxy")
	}
	if port < 0 || port > 65535 {
		return nil, &ListenError{Addr: net.JoinHostPort("", strconv.Itoa(port)), Err: errors.New("port out of range 0-65535")}
	}
	optional := len(hosts) == 0
	if optional || slices.Contains(hosts, "localhost") {
		hosts = slices.DeleteFunc(slices.Clone(hosts), func(h string) bool { return h == "localhost" })
		hosts = append(hosts, DefaultHosts...)
		optional = true
	}
	hosts = slices.Compact(hosts)

	var lns []net.Listener
	var err error
	// With port 0 the first listener picks the port and the others must
	// get the same one; if another program holds it there, try again.
	for attempt := 0; attempt < 5; attempt++ {
		lns, err = listenAll(hosts, port, optional)
		if err == nil || port != 0 || !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if addr := p.selfUpstream(lns); addr != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return nil, &SelfUpstreamError{Upstream: p.cfg.Upstream.String(), Addr: addr.String()}
	}
	s := &Server{
		proxy:     p,
		listeners: lns,
		port:      lns[0].Addr().(*net.TCPAddr).Port,
		sniffing:  map[net.Conn]struct{}{},
	}
	s.baseCtx, s.cancelUpgrades = context.WithCancel(context.Background())
	s.tlsConns = newConnQueue(lns[0].Addr())
	s.rawConns = newConnQueue(lns[0].Addr())

	tlsConfig := p.cfg.TLS.Clone()
	if len(tlsConfig.NextProtos) == 0 {
		tlsConfig.NextProtos = []string{"h2", "http/1.1"}
	}
	s.https = &http.Server{
		Handler:           p,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: p.cfg.ReadHeaderTimeout,
		IdleTimeout:       p.cfg.IdleTimeout,
		ErrorLog:          p.errorLog,
		BaseContext:       func(net.Listener) context.Context { return s.baseCtx },
	}
	s.redirect = &http.Server{
		Handler:           http.HandlerFunc(s.redirectToHTTPS),
		ReadHeaderTimeout: p.cfg.ReadHeaderTimeout,
		IdleTimeout:       p.cfg.ReadHeaderTimeout,
		ErrorLog:          p.errorLog,
	}
	return s, nil
}

func listenAll(hosts []string, port int, optional bool) ([]net.Listener, error) {
	var lns []net.Listener
	fail := func(err error) ([]net.Listener, error) {
		for _, ln := range lns {
			ln.Close()
		}
		return nil, err
	}
	for _, host := range hosts {
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		network := "tcp"
		if ip := net.ParseIP(host); ip != nil {
			network = "tcp4"
			if ip.To4() == nil {
				network = "tcp6"
			}
		}
		ln, err := net.Listen(network, addr)
		if err != nil {
			if optional && host == "::1" && len(hosts) > 1 && noIPv6(err) {
				continue // a machine without IPv6 loopback
			}
			return fail(&ListenError{Addr: addr, Err: unwrapOpError(err)})
		}
		lns = append(lns, ln)
		if port == 0 {
			port = ln.Addr().(*net.TCPAddr).Port
		}
	}
	if len(lns) == 0 {
		return nil, errors.New("no address to listen on")
	}
	return lns, nil
}

func noIPv6(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT) ||
		errors.Is(err, syscall.EPROTONOSUPPORT)
}

// unwrapOpError drops net.OpError's "listen tcp4 127.0.0.1:8080:" prefix,
// which ListenError already says.
func unwrapOpError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// Addrs returns the bound addresses.
func (s *Server) Addrs() []net.Addr {
	addrs := make([]net.Addr, len(s.listeners))
	for i, ln := range s.listeners {
		addrs[i] = ln.Addr()
	}
	return addrs
}

// Port returns the bound port.
func (s *Server) Port() int { return s.port }

// URL returns the address a browser on this machine uses: https://localhost:PORT
// when the proxy listens on loopback (or every address), else the first
// address it listens on (a --host of 127.0.0.2 or a LAN address).
func (s *Server) URL() string {
	host := "localhost"
	if ip := s.onlyAddress(); ip != nil {
		host = ip.String()
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(s.port))
}

// onlyAddress is the first address the server listens on when none of them
// is the loopback address localhost names, nor a wildcard; else nil.
func (s *Server) onlyAddress() net.IP {
	var first net.IP
	for _, ln := range s.listeners {
		tcp, ok := ln.Addr().(*net.TCPAddr)
		if !ok {
			continue
		}
		if tcp.IP.Equal(net.IPv4(127, 0, 0, 1)) || tcp.IP.Equal(net.IPv6loopback) || tcp.IP.IsUnspecified() {
			return nil
		}
		if first == nil {
			first = tcp.IP
		}
	}
	return first
}

// dialAddr is an address of the server a client on this machine reaches
// it at: the first one bound, loopback for a wildcard.
func (s *Server) dialAddr() string {
	for _, ln := range s.listeners {
		tcp, ok := ln.Addr().(*net.TCPAddr)
		if !ok {
			continue
		}
		return net.JoinHostPort(dialable(tcp.IP).String(), strconv.Itoa(s.port))
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Serve answers connections until Shutdown or Close; it then returns nil.
func (s *Server) Serve() error {
	errs := make(chan error, 2+len(s.listeners))
	var wg sync.WaitGroup
	for _, ln := range s.listeners {
		wg.Go(func() { errs <- s.acceptLoop(ln) })
	}
	wg.Go(func() { errs <- s.https.Serve(s.tlsConns) })
	wg.Go(func() { errs <- s.redirect.Serve(s.rawConns) })
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			return err
		}
	}
	return nil
}

// Shutdown stops accepting, lets requests in flight finish (until ctx is
// done), then ends upgraded connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAccepting()
	var wg sync.WaitGroup
	var errHTTPS, errRedirect error
	wg.Go(func() { errHTTPS = s.https.Shutdown(ctx) })
	wg.Go(func() { errRedirect = s.redirect.Shutdown(ctx) })
	wg.Wait()
	s.cancelUpgrades()
	s.proxy.CloseIdleConnections()
	return errors.Join(errHTTPS, errRedirect)
}

// Close stops at once, dropping requests in flight.
func (s *Server) Close() error {
	s.stopAccepting()
	err := errors.Join(s.https.Close(), s.redirect.Close())
	s.cancelUpgrades()
	s.proxy.CloseIdleConnections()
	return err
}

func (s *Server) stopAccepting() {
	s.mu.Lock()
	s.closed = true
	for c := range s.sniffing {
		c.Close()
	}
	s.mu.Unlock()
	for _, ln := range s.listeners {
		ln.Close()
	}
}

// acceptLoop hands every connection to route, on its own goroutine so a
// client that never sends its first byte delays nobody else.
func (s *Server) acceptLoop(ln net.Listener) error {
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of file descriptors and the like: wait, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.proxy.errorLog.Printf("proxy: accept error: %v; retrying in %v", err, backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		go s.route(c)
	}
}

// route reads the first byte of c: a TLS handshake record starts with 0x16;
// anything else is plain HTTP, answered with a redirect to https.
func (s *Server) route(c net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close()
		return
	}
	s.sniffing[c] = struct{}{}
	s.mu.Unlock()

	var first [1]byte
	_ = c.SetReadDeadline(time.Now().Add(s.proxy.cfg.ReadHeaderTimeout))
	_, err := c.Read(first[:])
	_ = c.SetReadDeadline(time.Time{})

	s.mu.Lock()
	delete(s.sniffing, c)
	s.mu.Unlock()
	if err != nil {
		c.Close()
		return
	}
	pc := &peekedConn{Conn: c, first: first[0], pending: true}
	if first[0] == 0x16 {
		s.tlsConns.push(tls.Server(pc, s.https.TLSConfig))
		return
	}
	s.rawConns.push(pc)
}

// redirectToHTTPS answers a plain-HTTP request with 308 to the same URL over
// https, on the same port.
func (s *Server) redirectToHTTPS(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]") // "[::1]"
	}
	if host == "" {
		host = "localhost"
	}
	target := "https://" + net.JoinHostPort(host, strconv.Itoa(s.port)) + r.URL.RequestURI()
	w.Header().Set("Connection", "close")
	http.Redirect(w, r, target, http.StatusPermanentRedirect)
	if f := s.proxy.cfg.OnAccess; f != nil {
		f(AccessRecord{
			Time: start, Method: r.Method, Host: r.Host, Path: r.RequestURI, Proto: r.Proto,
			Status: http.StatusPermanentRedirect, Duration: time.Since(start),
			RemoteAddr: r.RemoteAddr, Redirected: true,
		})
	}
}

// peekedConn gives back the byte route read before handing the connection on.
type peekedConn struct {
	net.Conn
	first   byte
	pending bool
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if c.pending && len(p) > 0 {
		p[0] = c.first
		c.pending = false
		return 1, nil
	}
	return c.Conn.Read(p)
}

// connQueue is a net.Listener fed by route, so http.Server can serve
// connections it did not accept itself.
type connQueue struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (q *connQueue) push(c net.Conn) {
	select {
	case q.conns <- c:
	case <-q.done:
		c.Close()
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }
