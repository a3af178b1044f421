// Package proxy is devstack's embedded TLS reverse proxy: it terminates
// HTTPS (HTTP/2 and HTTP/1.1) in front of one local upstream server and
// forwards requests the way a trusted production proxy does. It sets the
// forwarding headers and strips any the client forged, reads request bodies
// in full before the upstream sees them (as nginx does, so slow clients
// cannot tie up a sync worker), holds requests while the upstream restarts,
// answers with a helpful error page when the upstream stays away, and serves
// static and media files itself from the directories the caller names, as
// production's nginx does.
//
// The package knows nothing about processes: the caller passes the upstream
// URL, a tls.Config and a few hooks.
package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultHoldTimeout       = 10 * time.Second
	DefaultMaxBodyBytes      = 100 << 20 // 100 MiB
	DefaultMemoryBodyBytes   = 1 << 20   // 1 MiB
	DefaultMemoryBodyTotal   = 32 << 20  // 32 MiB
	DefaultMaxSpooledBodies  = 32
	DefaultBodyReadTimeout   = 60 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultDialTimeout       = 3 * time.Second

	// holdRetryInterval is how often a refused dial is tried again while
	// the upstream restarts: short enough that a request waits at most this
	// long after the server is back, long enough not to spin.
	holdRetryInterval = 25 * time.Millisecond
)

// Config is everything a Proxy needs. Only Upstream is required; every
// other field documents its default.
type Config struct {
	// Upstream is the server requests are forwarded to, e.g.
	// http://127.0.0.1:8000. Its path, if any, is ignored: the request path
	// is passed through unchanged. Required.
	Upstream *url.URL

	// TLS is the server configuration used by Listen (certificates, ALPN).
	// "h2" and "http/1.1" are offered when NextProtos is empty. Required by
	// Listen, unused by ServeHTTP.
	TLS *tls.Config

	// Headers chooses which forwarding headers reach the upstream. The zero
	// value sends X-Forwarded-Proto, X-Forwarded-For and X-Forwarded-Host,
	// as Caddy does.
	Headers HeaderPolicy

	// HoldTimeout is how long a request waits for the upstream to accept
	// connections again when it refuses them (it is restarting) before the
	// client gets a 502 page. Default DefaultHoldTimeout (10 s); negative
	// disables holding.
	HoldTimeout time.Duration

	// MaxBodyBytes is the largest request body accepted; larger ones get 413.
	// Default DefaultMaxBodyBytes (100 MiB; nginx's own default is 1 MiB,
	// too small for uploads during development). Negative means no limit.
	MaxBodyBytes int64

	// MemoryBodyBytes is how much of a request body is kept in memory;
	// beyond it the body spills to a temporary file, removed after the
	// request. Default DefaultMemoryBodyBytes (1 MiB).
	MemoryBodyBytes int64

	// MemoryBodyBytesTotal is how much memory the bodies of all requests
	// in progress may hold together; a body that would go past it spills
	// to a temporary file, whatever its size. Memory is set aside as body
	// bytes arrive, never for what a Content-Length only announces.
	// Default DefaultMemoryBodyTotal (32 MiB).
	MemoryBodyBytesTotal int64

	// MaxSpooledBodies is how many bodies may be spooled to temporary
	// files at once. One more waits for a file to be released, for up to
	// BodyReadTimeout, then gets 503. Default DefaultMaxSpooledBodies (32;
	// with MaxBodyBytes' default, at most 3.2 GiB of disk).
	MaxSpooledBodies int

	// BodyReadTimeout is the longest the proxy waits for the next piece of
	// a request body (like nginx's client_body_timeout); a client that
	// stalls longer gets 408. Default DefaultBodyReadTimeout (60 s).
	BodyReadTimeout time.Duration

	// ReadHeaderTimeout bounds how long a client may take to send the TLS
	// handshake and request headers. Default DefaultReadHeaderTimeout (10 s).
	ReadHeaderTimeout time.Duration

	// IdleTimeout closes keep-alive connections idle this long. Default
	// DefaultIdleTimeout (120 s).
	IdleTimeout time.Duration

	// DialTimeout bounds one connection attempt to the upstream. Default
	// DefaultDialTimeout (3 s).
	DialTimeout time.Duration

	// TempDir is where large request bodies are spooled. Default
	// os.TempDir().
	TempDir string

	// OnAccess receives one record per request, after the response is
	// finished. It is called on the request's goroutine, so it must be
	// quick. Nil means no access records.
	OnAccess func(AccessRecord)

	// LastLogLines returns the upstream server's latest log lines, shown on
	// the 502 page. Nil means the page shows none.
	LastLogLines func() []string

	// UpstreamDown lets the caller say that the upstream is down and not
	// coming back by itself (it crashed, or failed to start): a non-empty
	// reason makes requests get the 502 page at once, with that reason,
	// instead of being held. An empty reason means "expected up". Nil means
	// the proxy only learns about the upstream by dialing it.
	UpstreamDown func() (reason string)

	// UpstreamStarted returns a channel closed when the upstream server
	// says it has started listening (the caller replaces it for the next
	// start). A request held while the upstream refuses connections dials
	// again at once then, rather than at its next retry, up to 25 ms later:
	// that wait was part of every cold start and restart. Nil means only
	// the retries.
	UpstreamStarted func() <-chan struct{}

	// Files returns the directories the proxy serves files from itself,
	// as production's nginx serves static and media files (see FileRoot).
	// A GET or HEAD whose path starts with a root's URLPrefix is answered
	// by the first root, in order, that holds the file; when none does,
	// the request goes to the upstream. A path under a prefix with ".." or
	// a NUL byte gets 400, a link out of a root 403. Files is called for
	// every request, so the roots may change while the proxy runs; the
	// caller must not modify a slice it returned. Nil means every request
	// goes to the upstream.
	Files func() []FileRoot

	// ErrorLog receives the server's internal error messages (TLS handshake
	// failures, broken connections). The proxy never writes to stdout or
	// stderr itself. Nil discards them.
	ErrorLog func(msg string)

	// testOnlyHoldRetry, when not zero, replaces holdRetryInterval.
	testOnlyHoldRetry time.Duration
	// testOnlyUpstreamTLS replaces the system roots for an https upstream.
	testOnlyUpstreamTLS *tls.Config
	// testOnlyBodyRead, when not nil, is told how many body bytes each
	// read from a client brought in.
	testOnlyBodyRead func(n int)
}

// withDefaults checks c and fills in the defaults of its zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.Upstream == nil {
		return c, errors.New("no upstream URL")
	}
	if err := checkUpstream(c.Upstream); err != nil {
		return c, err
	}
	if c.HoldTimeout == 0 {
		c.HoldTimeout = DefaultHoldTimeout
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MemoryBodyBytes <= 0 {
		c.MemoryBodyBytes = DefaultMemoryBodyBytes
	}
	if c.MemoryBodyBytesTotal <= 0 {
		c.MemoryBodyBytesTotal = DefaultMemoryBodyTotal
	}
	if c.MaxSpooledBodies <= 0 {
		c.MaxSpooledBodies = DefaultMaxSpooledBodies
	}
	if c.BodyReadTimeout <= 0 {
		c.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	return c, nil
}

// UpstreamError is returned for an upstream URL the proxy cannot use.
type UpstreamError struct {
	URL    string
	Reason string
}

func (e *UpstreamError) Error() string {
	return fmt.Sprintf("invalid upstream URL %q: %s", e.URL, e.Reason)
}

// Hint tells the user what a usable upstream looks like.
func (e *UpstreamError) Hint() string {
	return "give the address of the server to put behind the proxy, e.g. --to http://127.0.0.1:8000"
}

func checkUpstream(u *url.URL) error {
	bad := func(reason string) error { return &UpstreamError{URL: u.String(), Reason: reason} }
	switch u.Scheme {
	case "http", "https":
	case "":
		return bad("no scheme (http:// or https://)")
	default:
		return bad(fmt.Sprintf("unsupported scheme %q (want http or https)", u.Scheme))
	}
	if u.Host == "" || u.Hostname() == "" {
		return bad("no host")
	}
	if u.User != nil {
		return bad("user information is not supported")
	}
	return nil
}

// ParseUpstream parses and checks an upstream URL given on the command line.
// A bare "host:port" or ":port" is taken as http://host:port.
func ParseUpstream(s string) (*url.URL, error) {
	if s == "" {
		return nil, &UpstreamError{URL: s, Reason: "empty"}
	}
	raw := s
	if !hasScheme(s) {
		// "localhost:8000" would parse as scheme "localhost".
		raw = "http://" + s
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &UpstreamError{URL: s, Reason: "not a URL"}
	}
	if u.Host != "" && u.Hostname() == "" && u.Port() != "" {
		u.Host = "127.0.0.1:" + u.Port()
	}
	if err := checkUpstream(u); err != nil {
		return nil, &UpstreamError{URL: s, Reason: err.(*UpstreamError).Reason}
	}
	return u, nil
}

func hasScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case c == ':' && i > 0:
			return len(s) > i+2 && s[i+1:i+3] == "//"
		default:
			return false
		}
	}
	return false
}
