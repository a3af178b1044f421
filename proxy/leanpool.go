package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// leanPool is a small HTTP/1.1 client for the common case: a safe request
// to the upstream over a pooled keep-alive connection. It does on the
// request's own goroutine what http.Transport does with two more goroutines
// per connection and channel hand-offs between them; that was a tenth of
// the proxy's CPU time per request in profiles. Measured against
// http.Transport in the same run (BenchmarkUpstreamPool, 16 clients, 2
// cores, load average 19): 26–29 µs of CPU per proxied GET against 37–42 µs,
// checks below included. http.Transport also failed
// TestStrayBytesConcurrentClients: it returns a connection to its pool
// before its reader has looked for stray bytes, so under concurrent
// requests one still took a stray answer.
//
// A keep-alive connection carries one response after another with nothing
// to tell where one ends but the framing the upstream chose, so a byte the
// upstream sent outside any response (a body after a HEAD, a 204 or a 304,
// as gunicorn 20 does under --threads; more bytes than its Content-Length)
// would be read as the answer to the next request on that connection, and
// every later answer would go to the wrong client. The pool therefore
// reuses a connection only when nothing is waiting on it: not in the read
// buffer when its response ends, not in the socket (a non-blocking peek)
// just before the next request is written. Bytes that arrive only after a
// request was written are that request's answer as far as any client can
// tell; the one case where a misbehaving upstream's bytes may still be on
// their way, a HEAD (gunicorn writes the head and the unwanted body
// separately), never keeps its connection at all. The peek also finds
// connections the upstream closed while they sat idle, so they are dropped
// before use rather than failing the request that took them.
type leanPool struct {
	addr        string
	tls         *tls.Config // nil for a plain-http upstream
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
	maxIdle     int
	idleTimeout time.Duration

	mu   sync.Mutex
	idle []*leanConn // most recently used last
}

// tlsHandshakeTimeout bounds the handshake with an https upstream.
const tlsHandshakeTimeout = 10 * time.Second

type leanConn struct {
	net.Conn
	raw       net.Conn  // the TCP connection under Conn
	tls       *tls.Conn // Conn, for an https upstream
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

// get returns an idle connection with nothing waiting on it, or dials a
// new one.
func (p *leanPool) get(ctx context.Context) (c *leanConn, reused bool, err error) {
	for {
		p.mu.Lock()
		if len(p.idle) == 0 {
			p.mu.Unlock()
			break
		}
		c = p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		p.mu.Unlock()
		if time.Since(c.idleSince) < p.idleTimeout && c.quiet() {
			return c, true, nil
		}
		c.Close()
	}
	c, err = p.connect(ctx)
	return c, false, err
}

func (p *leanPool) connect(ctx context.Context) (*leanConn, error) {
	conn, err := p.dial(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	c := &leanConn{Conn: conn, raw: conn}
	if p.tls != nil {
		c.tls = tls.Client(conn, p.tls)
		hctx, cancel := context.WithTimeout(ctx, tlsHandshakeTimeout)
		err := c.tls.HandshakeContext(hctx)
		cancel()
		if err != nil {
			conn.Close()
			return nil, err
		}
		c.Conn = c.tls
	}
	c.br = bufio.NewReaderSize(c.Conn, 8<<10)
	c.bw = bufio.NewWriterSize(c.Conn, 8<<10)
	return c, nil
}

// quiet reports whether nothing has arrived on c since its last response
// ended and the upstream has not closed it: only then may a request be
// written on it.
func (c *leanConn) quiet() bool {
	if c.br.Buffered() > 0 {
		return false
	}
	if c.tls != nil {
		// Records tls.Conn already took off the socket show only through
		// a read; with a deadline in the past it takes nothing new from
		// the socket, and its timeout does not break the connection.
		_ = c.raw.SetReadDeadline(aLongTimeAgo)
		_, err := c.br.Peek(1)
		_ = c.raw.SetReadDeadline(time.Time{})
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return false
		}
	}
	return socketQuiet(c.raw)
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
		keep := !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols &&
			req.Method != http.MethodHead
		if resp.Body == http.NoBody {
			p.finish(c, stop, keep)
			return resp, nil
		}
		resp.Body = &leanBody{body: resp.Body, conn: c, pool: p, stop: stop, keep: keep}
		return resp, nil
	}
}

// finish returns c to the pool if the exchange ended cleanly with nothing
// left over, or closes it.
func (p *leanPool) finish(c *leanConn, stop func() bool, keep bool) {
	if stop() && keep && c.br.Buffered() == 0 {
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
