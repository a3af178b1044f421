package proxy

import (
	"net"
	"net/http"
	"strings"
)

// HeaderPolicy chooses the forwarding headers the proxy sets on requests to
// the upstream, so the local proxy can send exactly what the production one
// sends. The zero value sends what Caddy sends: X-Forwarded-Proto,
// X-Forwarded-For and X-Forwarded-Host.
//
// Whatever the policy, every forwarding header the client sent is removed
// first (see IsForwardingHeader): like a trusted edge proxy, devstack is the
// only source of these headers, so a client can never forge them.
type HeaderPolicy struct {
	// OmitProto stops "X-Forwarded-Proto: https". Default false (sent).
	OmitProto bool
	// OmitFor stops "X-Forwarded-For: <client IP>" (the address alone,
	// without port or brackets). Default false (sent).
	OmitFor bool
	// OmitHost stops "X-Forwarded-Host: <host:port the browser used>".
	// Default false (sent).
	OmitHost bool

	// SSL sends "X-Forwarded-Ssl: on", as nginx setups with
	// `proxy_set_header X-Forwarded-Ssl on` do. Default false.
	SSL bool
	// Protocol sends "X-Forwarded-Protocol: ssl" (one of gunicorn's default
	// secure_scheme_headers). Default false.
	Protocol bool
	// Port sends "X-Forwarded-Port: <port the browser used>" (Django's
	// USE_X_FORWARDED_PORT reads it). Default false.
	Port bool
	// RealIP sends "X-Real-IP: <client IP>", as the common nginx line
	// `proxy_set_header X-Real-IP $remote_addr` does. Default false.
	RealIP bool
	// Forwarded sends the RFC 7239 header,
	// `Forwarded: for=<client>;host="<host:port>";proto=https`. Default false.
	Forwarded bool
}

// Canonical names of the headers the proxy sets.
const (
	headerProto     = "X-Forwarded-Proto"
	headerFor       = "X-Forwarded-For"
	headerHost      = "X-Forwarded-Host"
	headerSSL       = "X-Forwarded-Ssl"
	headerProtocol  = "X-Forwarded-Protocol"
	headerPort      = "X-Forwarded-Port"
	headerRealIP    = "X-Real-Ip"
	headerForwarded = "Forwarded"
)

// Constant header values, shared by every request: nothing downstream of
// the proxy modifies a header's value slice, so they need no copy.
var (
	valueHTTPS = []string{"https"}
	valueOn    = []string{"on"}
	valueSSL   = []string{"ssl"}
)

// Names reports the header names the policy sets, in a stable order.
func (p HeaderPolicy) Names() []string {
	var names []string
	add := func(on bool, name string) {
		if on {
			names = append(names, name)
		}
	}
	add(!p.OmitProto, headerProto)
	add(!p.OmitFor, headerFor)
	add(!p.OmitHost, headerHost)
	add(p.SSL, headerSSL)
	add(p.Protocol, headerProtocol)
	add(p.Port, headerPort)
	add(p.RealIP, "X-Real-IP")
	add(p.Forwarded, headerForwarded)
	return names
}

// IsForwardingHeader reports whether a request header with this name could
// make an upstream believe something about the client, the scheme, the host
// or the prefix the app is mounted under that only the proxy may say:
// Forwarded, X-Real-IP and every X-Forwarded-* header (X-Forwarded-Ssl and
// X-Forwarded-Protocol included); X-Scheme (read by Tornado and common
// reverse-proxy middlewares); SCRIPT_NAME, which gunicorn takes from a
// header of that name as the app's mount point (and PATH_INFO, which its
// forwarder_headers setting lists beside it); and X-Script-Name, the
// header nginx setups send for the same purpose. Case is ignored and "_"
// counts as "-", because some servers (gunicorn before 22, CGI-style
// environs) turn X_Forwarded_Proto into the same variable as
// X-Forwarded-Proto.
func IsForwardingHeader(name string) bool {
	return hasPrefixFold(name, "x-forwarded") ||
		equalFold(name, "forwarded") ||
		equalFold(name, "x-real-ip") ||
		equalFold(name, "x-scheme") ||
		equalFold(name, "script-name") ||
		equalFold(name, "path-info") ||
		equalFold(name, "x-script-name")
}

// foldHeaderByte lower-cases c and maps '_' to '-'.
func foldHeaderByte(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c + ('a' - 'A')
	case c == '_':
		return '-'
	}
	return c
}

// hasPrefixFold reports whether s starts with prefix (lower case, '-') under
// foldHeaderByte.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if foldHeaderByte(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

func equalFold(s, lower string) bool {
	return len(s) == len(lower) && hasPrefixFold(s, lower)
}

// stripForwardingHeaders deletes every forwarding header from h.
func stripForwardingHeaders(h http.Header) {
	for name := range h {
		if IsForwardingHeader(name) {
			delete(h, name)
		}
	}
}

// setForwardingHeaders removes the client's forwarding headers from h and
// sets the policy's, for a request from remoteAddr ("ip:port") to host (the
// Host the client used).
func (p HeaderPolicy) setForwardingHeaders(h http.Header, remoteAddr, host string) {
	stripForwardingHeaders(h)
	ip := clientIP(remoteAddr)
	// One allocation for both values; each header gets a full-capacity
	// slice of it, so an append to one can never write into the other.
	values := []string{ip, host}
	ipValue, hostValue := values[0:1:1], values[1:2:2]
	if !p.OmitProto {
		h[headerProto] = valueHTTPS
	}
	if !p.OmitFor && ip != "" {
		h[headerFor] = ipValue
	}
	if !p.OmitHost && host != "" {
		h[headerHost] = hostValue
	}
	if p.SSL {
		h[headerSSL] = valueOn
	}
	if p.Protocol {
		h[headerProtocol] = valueSSL
	}
	if p.Port {
		if port := hostPort(host); port != "" {
			h[headerPort] = []string{port}
		}
	}
	if p.RealIP && ip != "" {
		h[headerRealIP] = ipValue
	}
	if p.Forwarded {
		h[headerForwarded] = []string{forwardedValue(ip, host)}
	}
}

// clientIP returns the address part of "ip:port", without brackets or an
// IPv6 zone.
func clientIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = strings.Trim(remoteAddr, "[]")
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	return host
}

// hostPort returns the port of a Host header value, or "443" when it has
// none (the browser used the https default).
func hostPort(host string) string {
	if host == "" {
		return ""
	}
	if _, port, err := net.SplitHostPort(host); err == nil && port != "" {
		return port
	}
	return "443"
}

// forwardedValue builds an RFC 7239 element. IPv6 addresses are bracketed
// and quoted; values that are not tokens are quoted.
func forwardedValue(ip, host string) string {
	var b strings.Builder
	if ip != "" {
		b.WriteString("for=")
		if strings.Contains(ip, ":") {
			b.WriteString(`"[` + ip + `]"`)
		} else {
			b.WriteString(quoteIfNeeded(ip))
		}
		b.WriteByte(';')
	}
	if host != "" {
		b.WriteString("host=")
		b.WriteString(quoteIfNeeded(host))
		b.WriteByte(';')
	}
	b.WriteString("proto=https")
	return b.String()
}

func quoteIfNeeded(s string) string {
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
			return `"` + r.Replace(s) + `"`
		}
	}
	return s
}

// isTokenByte reports whether c may appear in an RFC 9110 token.
func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
