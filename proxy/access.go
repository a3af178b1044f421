package proxy

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// AccessRecord describes one finished request, for Config.OnAccess.
type AccessRecord struct {
	Time       time.Time     // when the request arrived
	Method     string        // GET, POST…
	Host       string        // the Host the client used, with port
	Path       string        // the request target: path and query, as sent
	Proto      string        // HTTP/2.0, HTTP/1.1
	Status     int           // status sent to the client (101 for upgrades)
	Duration   time.Duration // from arrival to the end of the response
	BytesOut   int64         // response body bytes sent to the client
	RemoteAddr string        // the client's ip:port
	// Held is how long the request waited for the upstream to accept
	// connections (it was restarting); zero when it was up.
	Held time.Duration
	// UpstreamError is why the upstream did not answer (refused, down,
	// broken connection); nil when it did. Errors that are the client's
	// (a body over the limit, a stalled upload) are in ClientError.
	UpstreamError error
	// ClientError is why the proxy refused the request itself (413, 408).
	ClientError error
	// Redirected is true for a plain-HTTP request answered with a redirect
	// to https.
	Redirected bool
	// File is the file the proxy answered with itself (Config.Files), the
	// upstream never asked; empty otherwise.
	File string
}

// stateKey is the context key of a request's *requestState.
type stateKey struct{}

// requestState is what the proxy learns about one request while serving it.
// It is also the request's context (one allocation for both), so the
// transport's dialer can find it: the transport keeps a context's values
// when it detaches the dial from the request's cancellation.
type requestState struct {
	context.Context
	held           atomic.Int64 // time.Duration it waited: for a paused proxy, for refused dials
	upstreamStatus int          // status of the upstream's response, 0 if none
	upstreamErr    error
	clientErr      error
	file           string // the file served from a Config.Files root
}

func (s *requestState) Value(key any) any {
	if key == (stateKey{}) {
		return s
	}
	return s.Context.Value(key)
}

// responseRecorder counts what is sent to the client.
type responseRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *responseRecorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
		// A response without Content-Type stays without one: Go's server
		// would guess one from the body, and a page that works locally
		// only thanks to the guess (with X-Content-Type-Options: nosniff,
		// say) would break behind nginx, which guesses nothing.
		if h := w.Header(); h["Content-Type"] == nil {
			h["Content-Type"] = nil
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Flush lets streaming responses (SSE, chunked) reach the client at once.
func (w *responseRecorder) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack serves protocol upgrades (WebSocket).
func (w *responseRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap gives http.ResponseController the underlying writer (deadlines,
// full-duplex, hijacking).
func (w *responseRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
