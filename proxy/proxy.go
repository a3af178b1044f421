package proxy

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Proxy is the reverse-proxy handler: it forwards each request to the
// upstream with the forwarding headers of Config.Headers, after reading its
// body in full. Listen serves it over TLS.
type Proxy struct {
	cfg       Config
	upstream  string // the upstream URL, for error pages
	rp        *httputil.ReverseProxy
	transport *upstreamTransport
	bodies    *bodyBuffers
	gate      upstreamGate // Pause holds requests here during a restart
	errorLog  *log.Logger

	readyOnce sync.Once
	ready     chan struct{}
}

var _ http.Handler = (*Proxy)(nil)

// errResponseAborted marks a response the upstream broke off after its
// headers were already sent to the client.
var errResponseAborted = errors.New("upstream response aborted")

// New returns a Proxy for cfg.
func New(cfg Config) (*Proxy, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		cfg:      cfg,
		upstream: cfg.Upstream.Scheme + "://" + cfg.Upstream.Host,
		errorLog: log.New(logFunc(cfg.ErrorLog), "", 0),
		ready:    make(chan struct{}),
	}
	p.bodies = newBodyBuffers(&p.cfg)
	dialer := &holdingDialer{
		dialer:  net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second},
		hold:    cfg.HoldTimeout,
		retry:   holdRetryInterval,
		down:    cfg.UpstreamDown,
		started: cfg.UpstreamStarted,
	}
	if cfg.testOnlyHoldRetry > 0 {
		dialer.retry = cfg.testOnlyHoldRetry
	}
	// One local upstream, never reached through an HTTP proxy from the
	// environment, its bodies passed through exactly as it sent them (no
	// transparent gzip).
	fresh := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		DisableKeepAlives:     true,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		DisableCompression:    true,
		ExpectContinueTimeout: 0, // the body is already buffered: send it at once
		WriteBufferSize:       32 << 10,
		ReadBufferSize:        32 << 10,
		TLSClientConfig:       cfg.testOnlyUpstreamTLS,
	}
	port := cfg.Upstream.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[cfg.Upstream.Scheme]
	}
	pool := &leanPool{
		addr:        net.JoinHostPort(cfg.Upstream.Hostname(), port),
		dial:        dialer.DialContext,
		maxIdle:     1024,
		idleTimeout: 90 * time.Second,
	}
	if cfg.Upstream.Scheme == "https" {
		pool.tls = cfg.testOnlyUpstreamTLS.Clone()
		if pool.tls == nil {
			pool.tls = &tls.Config{}
		}
		pool.tls.ServerName = cfg.Upstream.Hostname()
		pool.tls.NextProtos = []string{"http/1.1"}
	}
	p.transport = &upstreamTransport{pool: pool, fresh: fresh}
	target := cfg.Upstream
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = target.Scheme
			pr.Out.URL.Host = target.Host
			pr.Out.Host = pr.In.Host // the upstream sees the Host the browser used
			// The proxy already answered "100 Continue" while reading the body.
			delete(pr.Out.Header, "Expect")
			cfg.Headers.setForwardingHeaders(pr.Out.Header, pr.In.RemoteAddr, pr.In.Host)
		},
		Transport:      &gatedTransport{gate: &p.gate, next: p.transport},
		BufferPool:     copyBuffers,
		ErrorLog:       p.errorLog,
		ModifyResponse: recordUpstreamStatus,
		ErrorHandler:   p.serveUpstreamError,
		// Streaming responses (text/event-stream, unknown length) are
		// flushed after every write by ReverseProxy itself; fixed-length
		// ones are written as they come.
		FlushInterval: 0,
	}
	return p, nil
}

// Ready is closed after the first request the upstream answered.
func (p *Proxy) Ready() <-chan struct{} { return p.ready }

// Upstream returns the upstream's scheme://host.
func (p *Proxy) Upstream() string { return p.upstream }

// CloseIdleConnections closes the idle connections to the upstream.
func (p *Proxy) CloseIdleConnections() { p.transport.closeIdleConnections() }

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	state := &requestState{Context: r.Context()}
	rec := &responseRecorder{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			if state.upstreamErr == nil {
				state.upstreamErr = errResponseAborted
			}
			p.finish(r, state, rec, start)
			panic(v) // http.ErrAbortHandler: the server closes the connection quietly
		}
		p.finish(r, state, rec, start)
	}()

	if p.cfg.Files != nil {
		if roots := p.cfg.Files(); len(roots) > 0 && p.serveFiles(rec, r, state, roots) {
			return
		}
	}
	body, err := p.readBody(w, r)
	if err != nil {
		state.clientErr = err
		status := http.StatusBadRequest
		var be *bodyError
		if errors.As(err, &be) {
			status = be.status
		}
		// Even when the read failed because the client stalled (which
		// also cancels the request's context), the client may still be
		// listening for an answer.
		rec.Header().Set("Connection", "close")
		http.Error(rec, http.StatusText(status)+": "+err.Error(), status)
		return
	}
	out := r.WithContext(state)
	if out.Host == "" {
		// HTTP/1.0 without Host, HTTP/2 without :authority: the request
		// is for the proxy's own origin, and the app is told so, as a
		// browser would have named it.
		out.Host = ownHost(r)
	}
	if upgradesToH2C(r.Header) {
		// h2c is HTTP/2 over cleartext: meaningless inside TLS, where the
		// client chose its protocol in the handshake, and an upstream that
		// accepted would tunnel the connection past the header policy.
		// Refused as a server without h2c refuses it: the request goes on
		// as an ordinary one.
		out.Header = r.Header.Clone()
		delete(out.Header, "Upgrade")
		delete(out.Header, "Http2-Settings")
	}
	if body != nil {
		defer body.release()
		out.TransferEncoding = nil
		out.ContentLength = body.size
		if body.size == 0 {
			out.Body = http.NoBody
		} else {
			out.Body = body.reader()
			out.GetBody = func() (io.ReadCloser, error) { return body.reader(), nil }
		}
	}
	p.rp.ServeHTTP(rec, out)
}

// ownHost is the Host of the proxy's own origin, https://localhost:PORT,
// for the port r arrived on.
func ownHost(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		return "localhost:" + strconv.Itoa(a.Port)
	}
	return "localhost"
}

// upgradesToH2C reports whether h asks to upgrade to h2c.
func upgradesToH2C(h http.Header) bool {
	for _, v := range h["Upgrade"] {
		for token := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(token), "h2c") {
				return true
			}
		}
	}
	return false
}

// finish emits the access record and notes the first success.
func (p *Proxy) finish(r *http.Request, state *requestState, rec *responseRecorder, start time.Time) {
	if state.upstreamStatus != 0 && state.upstreamErr == nil {
		p.readyOnce.Do(func() { close(p.ready) })
	}
	if p.cfg.OnAccess == nil {
		return
	}
	status := rec.status
	if status == 0 {
		status = state.upstreamStatus // 101: the connection was hijacked
	}
	p.cfg.OnAccess(AccessRecord{
		Time:          start,
		Method:        r.Method,
		Host:          r.Host,
		Path:          r.RequestURI,
		Proto:         r.Proto,
		Status:        status,
		Duration:      time.Since(start),
		BytesOut:      rec.bytes,
		RemoteAddr:    r.RemoteAddr,
		Held:          time.Duration(state.held.Load()),
		UpstreamError: state.upstreamErr,
		ClientError:   state.clientErr,
		File:          state.file,
	})
}

// recordUpstreamStatus notes the upstream's status before ReverseProxy
// sends it on (or hijacks the connection for a 101).
func recordUpstreamStatus(res *http.Response) error {
	if state, ok := res.Request.Context().Value(stateKey{}).(*requestState); ok {
		state.upstreamStatus = res.StatusCode
	}
	return nil
}

// serveUpstreamError answers a request the upstream could not serve.
func (p *Proxy) serveUpstreamError(w http.ResponseWriter, r *http.Request, err error) {
	state, _ := r.Context().Value(stateKey{}).(*requestState)
	if state != nil {
		state.upstreamErr = err
		state.upstreamStatus = 0
	}
	if r.Context().Err() != nil {
		// The client went away while waiting; nobody reads the answer.
		// 499 is what nginx logs for it.
		if rec, ok := w.(*responseRecorder); ok && rec.status == 0 {
			rec.status = 499
		}
		return
	}
	page := upstreamErrorPage(p.upstream, err)
	if p.cfg.LastLogLines != nil {
		// Log lines can hold anything the app printed (settings,
		// tokens, data): they stay on this machine.
		if isLoopback(r.RemoteAddr) {
			page.LogLines = p.cfg.LastLogLines()
		} else {
			page.LogsHidden = true
		}
	}
	page.write(w, r)
}

// copyBuffers recycles the 32 KiB buffers ReverseProxy copies bodies with.
var copyBuffers = &bufferPool{pool: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}

type bufferPool struct{ pool sync.Pool }

func (b *bufferPool) Get() []byte  { return *b.pool.Get().(*[]byte) }
func (b *bufferPool) Put(p []byte) { b.pool.Put(&p) }

// logFunc adapts a message callback to the io.Writer log.Logger wants.
type logFunc func(string)

func (f logFunc) Write(p []byte) (int, error) {
	if f != nil {
		f(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
