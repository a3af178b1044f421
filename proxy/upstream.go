package proxy

import (
	"errors"
	"io"
	"net/http"
	"syscall"
)

// upstreamTransport chooses how each request reaches the upstream.
//
// Requests that are safe to repeat (GET, HEAD…) go over pooled keep-alive
// connections; every other request, and every protocol upgrade, gets a
// connection of its own. When the upstream restarts it closes its idle
// keep-alive connections, and may drop a connection whose request it read
// just as it began shutting down. A request caught that way was sent but
// never answered: a safe one is sent again, as net/http itself does on
// reused connections; a POST must never be sent twice, so it never meets a
// pooled connection. Its own dial is refused while the upstream is down,
// and a refused dial is the failure the proxy waits out.
type upstreamTransport struct {
	pool  *leanPool       // safe requests that upgrade nothing
	fresh *http.Transport // everything else, one connection each
}

// maxReplays bounds how often a safe request dropped unanswered is re-sent.
const maxReplays = 3

func (t *upstreamTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, upgrade := req.Header["Upgrade"]; upgrade || !isReplayable(req) {
		// With keep-alives off, net/http still sends an upgrade request
		// without "Connection: close", and hands over the connection on 101.
		return t.fresh.RoundTrip(req)
	}
	return t.pool.roundTrip(req)
}

func (t *upstreamTransport) closeIdleConnections() {
	t.fresh.CloseIdleConnections()
	t.pool.closeIdle()
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
