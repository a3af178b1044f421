package doctor

import (
	"cmp"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
)

// The check IDs. They are part of the command's contract (--json, scripts).
const (
	IDAppReached           = "app-reached"
	IDScheme               = "scheme"
	IDSSLRedirectLoop      = "ssl-redirect-loop"
	IDProxySSLHeader       = "proxy-ssl-header"
	IDAllowedHosts         = "allowed-hosts"
	IDCSRFOrigin           = "csrf-origin"
	IDCSRFTrustedOrigins   = "csrf-trusted-origins"
	IDForwardedHost        = "x-forwarded-host"
	IDSecureCookies        = "secure-cookies"
	IDHSTS                 = "hsts-localhost"
	IDProxyFix             = "proxyfix"
	IDForwardedAllowIPs    = "forwarded-allow-ips"
	IDGatewayExposed       = "gateway-exposed"
	IDSchemeHeaders        = "scheme-headers"
	IDDirectRedirect       = "health-check-redirect"
	IDClientAddress        = "client-address"
	IDSchemeForced         = "scheme-forced"
	IDProtoChain           = "proto-chain"
	IDForwardedPort        = "x-forwarded-port"
	IDUvicornWorker        = "uvicorn-worker"
	proxyHeaderMeta        = "HTTP_X_FORWARDED_PROTO"
	djangoProxyHeaderSetup = `SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")`
)

// checkAppReached: did the request get to the framework, or did something
// in front of it (a host check, a middleware) refuse it?
func checkAppReached(ev Evidence) (Result, bool) {
	p := ev.Probe
	a := p.AppResponse
	if p.ReachedFramework || a == nil || (a.Status < 400 && a.Error == "") {
		return Result{}, false
	}
	r := Result{ID: IDAppReached, Status: Fail}
	if a.Error != "" {
		r.Summary = "the app raised an error before its framework saw the request: " + a.Error
	} else {
		r.Summary = fmt.Sprintf("the app answers %d before its framework sees the request", a.Status)
	}
	r.Detail = fmt.Sprintf("the answer to a request for %s: %q", ev.host(), strings.TrimSpace(a.Body))
	if strings.Contains(strings.ToLower(a.Body), "host") {
		r.Fix = fmt.Sprintf("a host check refused %s: list the bare host %q in it (Starlette's TrustedHostMiddleware "+
			"compares the host without its port)", ev.host(), ev.hostname())
	} else {
		r.Fix = "find the middleware that answers this, and let requests from the proxy through"
	}
	return r, true
}

// checkScheme: does the app see https behind the https proxy?
func checkScheme(ev Evidence) (Result, bool) {
	r := Result{ID: IDScheme}
	p := ev.Probe
	switch {
	case p.SchemeError != "":
		r.Status, r.Summary = Fail, "the app cannot tell the scheme: every request fails"
		r.Detail = p.SchemeError
		r.Fix = djangoProxyHeaderSetup
	case p.Scheme == "https":
		r.Status, r.Summary = Pass, "the app sees https behind the proxy"
		r.Detail = fmt.Sprintf("the gateway passed %s; the app's links start with %s", ev.gatewaySaw(), p.AbsoluteURL)
	default:
		r.Status, r.Summary = Fail, "the app sees http behind the https proxy"
		r.Detail = fmt.Sprintf("the proxy sent X-Forwarded-Proto: https, the gateway passed %s, and %s. "+
			"Absolute links and redirects go to http://", ev.gatewaySaw(), appDecided(p))
		if p.Framework.Name == "django" {
			r.Detail += ", Django's CSRF check refuses forms, and SECURE_SSL_REDIRECT loops"
		}
		r.Detail += "."
		r.Fix = schemeFix(ev)
	}
	return r, true
}

// schemeFix says how to make this app believe the proxy's scheme: where
// the gateway does not trust the proxy, that is the cause to fix first
// (a framework-level fix such as ProxyFix would only paper over it).
func schemeFix(ev Evidence) string {
	p := ev.Probe
	t, known := ev.trust()
	untrusted := known && t.peer != "" && !t.trusts(t.peer)
	switch p.Framework.Name {
	case "django":
		if p.Settings["SECURE_PROXY_SSL_HEADER"] != nil {
			return "correct SECURE_PROXY_SSL_HEADER (see " + IDProxySSLHeader + "): " + djangoProxyHeaderSetup
		}
		fix := "in " + cmp.Or(ev.sharedSettingsFile(), "your settings module") + ": " + djangoProxyHeaderSetup
		if untrusted {
			fix = t.server + " does not trust the proxy (" + IDForwardedAllowIPs + "): " + t.fix() +
				"; or let Django read the header itself, " + fix
		}
		return fix
	case "flask":
		if untrusted {
			return t.server + " does not trust the proxy (" + IDForwardedAllowIPs + "): " + t.fix()
		}
		if s := p.Server; s != nil && s.Name == "gunicorn" && s.Uvicorn == nil && len(s.SecureSchemeHeaders) > 0 &&
			!slices.ContainsFunc(slices.Collect(maps.Keys(s.SecureSchemeHeaders)), func(h string) bool { return strings.EqualFold(h, "X-Forwarded-Proto") }) {
			return "gunicorn's secure_scheme_headers do not name X-Forwarded-Proto (" + IDSchemeHeaders + `): secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}`
		}
		return "wrap the app: app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1) " +
			"(from werkzeug.middleware.proxy_fix import ProxyFix)"
	}
	if known && !t.headers {
		return "let uvicorn read the proxy's headers (" + IDForwardedAllowIPs + "): drop --no-proxy-headers"
	}
	if known {
		return "let " + t.server + " trust the proxy (" + IDForwardedAllowIPs + "): " + t.fix()
	}
	return `let the gateway trust the proxy's address: forwarded_allow_ips = "127.0.0.1,::1" ` +
		"(in production, the proxy's address)"
}

// checkSSLRedirect: does GET / over https redirect to itself?
func checkSSLRedirect(ev Evidence) (Result, bool) {
	r := Result{ID: IDSSLRedirectLoop}
	a := *ev.Root
	self := ev.Origin + "/"
	if a.Status >= 300 && a.Status < 400 && (a.Location == self || a.Location == "/" || a.Location == "//"+ev.host()+"/") {
		r.Status, r.Summary = Fail, "GET / over https redirects to itself: the browser stops with too many redirects"
		r.Detail = fmt.Sprintf("GET %s answered %d with Location: %s", self, a.Status, a.Location)
		if v, ok := ev.Probe.Settings["SECURE_SSL_REDIRECT"].(bool); ok && v {
			r.Detail += "; SECURE_SSL_REDIRECT = True redirects every request the app believes is http"
		}
		r.Fix = "make the app see https (" + IDScheme + "): " + schemeFix(ev)
		return r, true
	}
	r.Status, r.Summary = Pass, "GET / does not redirect to itself"
	r.Detail = fmt.Sprintf("GET %s answered %d", self, a.Status)
	return r, true
}

// hostname is host without its port.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// checkProxyFix: Werkzeug's ProxyFix counts proxies; it must count one
// per hop and read X-Forwarded-Proto.
func checkProxyFix(ev Evidence) (Result, bool) {
	var fix map[string]any
	for _, m := range ev.Probe.Middleware {
		if c, _ := m["class"].(string); strings.HasSuffix(c, ".ProxyFix") {
			fix = m
		}
	}
	if fix == nil {
		return Result{}, false
	}
	count := func(k string) int { n, _ := fix[k].(float64); return int(n) }
	r := Result{ID: IDProxyFix, Detail: fmt.Sprintf("ProxyFix(x_for=%d, x_proto=%d, x_host=%d, x_port=%d, x_prefix=%d)",
		count("x_for"), count("x_proto"), count("x_host"), count("x_port"), count("x_prefix"))}
	switch {
	case count("x_proto") == 0:
		r.Status, r.Summary = Fail, "ProxyFix ignores X-Forwarded-Proto (x_proto=0)"
		r.Fix = "ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)"
	case count("x_proto") > 1 && ev.Probe.Scheme != "https":
		r.Status = Fail
		r.Summary = fmt.Sprintf("ProxyFix counts %d proxies for X-Forwarded-Proto but one is in front: it finds one value, wants %d, and keeps http",
			count("x_proto"), count("x_proto"))
		r.Fix = "count exactly the proxies in front of the app: one here (x_for=1, x_proto=1, x_host=1)"
	case count("x_for") > 1 || count("x_proto") > 1 || count("x_host") > 1:
		r.Status, r.Summary = Warn, "ProxyFix trusts more than one proxy hop: with one proxy in front, clients can forge the extra values"
		if count("x_for") > 1 {
			r.Summary += fmt.Sprintf(" (x_for=%d: the app sees the proxy's address, or one a client wrote)", count("x_for"))
		}
		r.Fix = "count exactly the proxies in front of the app: one here (x_for=1, x_proto=1, x_host=1)"
	default:
		r.Status, r.Summary = Pass, "ProxyFix reads one proxy hop"
	}
	return r, true
}

func forwardedAllowIPs(ev Evidence) string {
	if ev.Probe.Server == nil || len(ev.Probe.Server.ForwardedAllowIPs) == 0 {
		return "unknown"
	}
	return strings.Join(ev.Probe.Server.ForwardedAllowIPs, ",")
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
