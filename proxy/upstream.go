package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// upstreamTransport chooses how each request reaches the upstream.
//
// Requests that are safe to repeat (GET, HEAD…) go over pooled keep-alive
// connections; every other request gets a connection of its own. When the
// upstream restarts it closes its idle keep-alive connections, and may drop
// a connection whose request it read just as it began shutting down. A
// request caught that way was sent but never answered: a safe one is sent
// again, as net/http itself does on reused connections; a POST must never
// be sent twice, so it never meets a pooled connection. Its own dial is
// refused while the upstream is down, and a refused dial is the failure the
// proxy waits out.
type upstreamTransport struct {
	lean   *leanPool       // safe, non-upgrade requests to an http:// upstream
	pooled *http.Transport // upgrades, and everything safe to an https:// upstream
	fresh  *http.Transport // requests that are not safe to repeat
}

// maxReplays bounds how often a safe request dropped unanswered is re-sent.
const maxReplays = 3

func (t *upstreamTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !isReplayable(req) {
		return t.fresh.RoundTrip(req)
	}
	if _, upgrade := req.Header["Upgrade"]; t.lean != nil && !upgrade {
		return t.lean.roundTrip(req)
	}
	for attempt := 1; ; attempt++ {
		resp, err := t.pooled.RoundTrip(req)
		if err == nil || attempt > maxReplays || !droppedUnanswered(err) || req.Context().Err() != nil {
			return resp, err
		}
		if req, err = rewound(req); err != nil {
			return nil, err
		}
	}
}

func (t *upstreamTransport) closeIdleConnections() {
	t.pooled.CloseIdleConnections()
	t.fresh.CloseIdleConnections()
	if t.lean != nil {
		t.lean.closeIdle()
	}
}

// rewound returns req with a fresh body for sending it again.
func rewound(req *http.Request) (*http.Request, error) {
	if req.GetBody == nil {
		return req, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	again := *req
	again.Body = body
	return &again, nil
}

// isReplayable reports whether the transport may send req again after a
// connection failed under it, by the rule net/http applies: a safe method
// or an idempotency key.
func isReplayable(req *http.Request) bool {
	switch req.Method {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	_, key := req.Header["Idempotency-Key"]
	_, xkey := req.Header["X-Idempotency-Key"]
	return key || xkey
}

// droppedUnanswered reports whether err means the upstream closed the
// connection before sending any response.
func droppedUnanswered(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// leanPool is a small HTTP/1.1 client for the common case: a safe request
// to a plain-http upstream on loopback, over a pooled keep-alive connection.
// It does on the request's own goroutine what http.Transport does with two
// more goroutines per connection and channel hand-offs between them; that
// was a tenth of the proxy's CPU time per request in profiles. It has no
// background reader, so a connection the upstream closed while idle is only
// found out when used: the request is then sent again (it is safe to) and
// every other idle connection is dropped, since they are likely stale too.
type leanPool struct {
	addr        string
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
	maxIdle     int
	idleTimeout time.Duration

	mu   sync.Mutex
	idle []*leanConn // most recently used last
}

type leanConn struct {
	net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
}

func (p *leanPool) roundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		c, reused, err := p.get(req.Context())
		if err != nil {
			return nil, err
		}
		resp, err := p.send(c, req)
		if err == nil {
			return resp, nil
		}
		c.Close()
		if !droppedUnanswered(err) || req.Context().Err() != nil {
			return nil, err
		}
		if reused {
			// A stale keep-alive connection: its siblings are likely
			// stale too, and a stale one costs no attempt.
			p.closeIdle()
			attempt--
		}
		if attempt >= maxReplays {
			return nil, err
		}
		if req, err = rewound(req); err != nil {
			return nil, err
		}
	}
}

// get returns an idle connection, or dials a new one.
func (p *leanPool) get(ctx context.Context) (c *leanConn, reused bool, err error) {
	p.mu.Lock()
	for len(p.idle) > 0 {
		c = p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if time.Since(c.idleSince) < p.idleTimeout {
			p.mu.Unlock()
			return c, true, nil
		}
		c.Close()
	}
	p.mu.Unlock()
	conn, err := p.dial(ctx, "tcp", p.addr)
	if err != nil {
		return nil, false, err
	}
	return &leanConn{Conn: conn, br: bufio.NewReaderSize(conn, 8<<10), bw: bufio.NewWriterSize(conn, 8<<10)}, false, nil
}

func (p *leanPool) put(c *leanConn) {
	c.idleSince = time.Now()
	p.mu.Lock()
	if len(p.idle) < p.maxIdle {
		p.idle = append(p.idle, c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

func (p *leanPool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		c.Close()
	}
}

// aLongTimeAgo is a deadline that has passed: setting it interrupts a
// blocked read or write at once.
var aLongTimeAgo = time.Unix(1, 0)

// send writes req on c and reads the response head. The body is read by the
// caller; the connection goes back to the pool when it reaches the end.
func (p *leanPool) send(c *leanConn, req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(aLongTimeAgo) })
	fail := func(err error) (*http.Response, error) {
		stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if err := req.Write(c.bw); err != nil {
		return fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(err)
	}
	for {
		resp, err := http.ReadResponse(c.br, req)
		if err != nil {
			return fail(err)
		}
		// 100 Continue, 103 Early Hints: informational, the answer follows.
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		keep := !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols
		if resp.Body == http.NoBody {
			p.finish(c, stop, keep)
			return resp, nil
		}
		resp.Body = &leanBody{body: resp.Body, conn: c, pool: p, stop: stop, keep: keep}
		return resp, nil
	}
}

// finish returns c to the pool if the exchange ended cleanly, or closes it.
func (p *leanPool) finish(c *leanConn, stop func() bool, keep bool) {
	if stop() && keep {
		p.put(c)
		return
	}
	c.Close()
}

// leanBody is a response body whose connection is reused once it has been
// read to the end, and closed if it is abandoned before.
type leanBody struct {
	body io.ReadCloser
	conn *leanConn
	pool *leanPool
	stop func() bool
	keep bool
	done bool
}

func (b *leanBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	if err == io.EOF {
		b.done = true
		b.pool.finish(b.conn, b.stop, b.keep)
	}
	return n, err
}

func (b *leanBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	b.stop()
	return b.conn.Close()
}
