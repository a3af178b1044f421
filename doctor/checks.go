package doctor

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
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
		r.Detail = fmt.Sprintf("the proxy sent X-Forwarded-Proto: https, the gateway passed %s, and the app decided %q. "+
			"Absolute links and redirects go to http://", ev.gatewaySaw(), p.Scheme)
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
		fix := "in " + ev.settingsFile() + ": " + djangoProxyHeaderSetup
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

// checkProxySSLHeader: is Django's SECURE_PROXY_SSL_HEADER the header the
// proxy sends, in the form Django reads?
func checkProxySSLHeader(ev Evidence) (Result, bool) {
	r := Result{ID: IDProxySSLHeader}
	v := ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"]
	if v == nil {
		if ev.Probe.Scheme == "https" {
			r.Status, r.Summary = Warn, "SECURE_PROXY_SSL_HEADER is not set: https comes only from gunicorn trusting the proxy's address"
			r.Detail = fmt.Sprintf("the gateway passed %s because its trust list (%s) includes the proxy's address. "+
				"Behind a proxy on another host or network (a load balancer, a container network) that trust does not hold, "+
				"and Django sees http.", ev.gatewaySaw(), forwardedAllowIPs(ev))
		} else {
			r.Status, r.Summary = Fail, "SECURE_PROXY_SSL_HEADER is not set, and nothing else tells Django the request was https"
		}
		r.Fix = "in " + ev.settingsFile() + ": " + djangoProxyHeaderSetup
		return r, true
	}
	pair, ok := v.([]any)
	if !ok || len(pair) != 2 {
		r.Status, r.Summary = Fail, "SECURE_PROXY_SSL_HEADER is not a (header, value) pair"
		r.Detail = "SECURE_PROXY_SSL_HEADER = " + quote(v) + "; Django raises ImproperlyConfigured on every request that asks for the scheme"
		r.Fix = djangoProxyHeaderSetup
		return r, true
	}
	name, _ := pair[0].(string)
	value, _ := pair[1].(string)
	r.Detail = "SECURE_PROXY_SSL_HEADER = " + quote(v)
	switch {
	case name != strings.ToUpper(name) || strings.Contains(name, "-"):
		r.Status, r.Summary = Fail, fmt.Sprintf("SECURE_PROXY_SSL_HEADER names the header as sent on the wire (%q), which Django never finds", name)
		r.Detail += "; Django looks the header up in request.META, where X-Forwarded-Proto is " + proxyHeaderMeta +
			", so this setting has no effect and the scheme comes from the gateway (" + ev.gatewaySaw() + ")"
	case !strings.HasPrefix(name, "HTTP_"):
		r.Status, r.Summary = Fail, fmt.Sprintf("SECURE_PROXY_SSL_HEADER's %q lacks the HTTP_ prefix of request headers in request.META", name)
		r.Detail += "; this setting has no effect"
	case name != proxyHeaderMeta && !slices.Contains(metaNames(ev.Headers), name):
		r.Status, r.Summary = Fail, fmt.Sprintf("SECURE_PROXY_SSL_HEADER reads %s, which the proxy does not send", name)
		r.Detail += "; the proxy sends " + strings.Join(ev.Headers, ", ") + " (as Caddy and nginx configured for it do)"
	case value != "https":
		r.Status, r.Summary = Fail, fmt.Sprintf("SECURE_PROXY_SSL_HEADER expects %q; the proxy sends \"https\"", value)
		r.Detail += "; Django compares the value exactly"
	default:
		r.Status, r.Summary = Pass, "SECURE_PROXY_SSL_HEADER reads the proxy's X-Forwarded-Proto"
		return r, true
	}
	r.Fix = djangoProxyHeaderSetup
	return r, true
}

// metaNames turns header names into request.META keys.
func metaNames(headers []string) []string {
	out := make([]string, len(headers))
	for i, h := range headers {
		out[i] = "HTTP_" + strings.ToUpper(strings.ReplaceAll(h, "-", "_"))
	}
	return out
}

// checkAllowedHosts: does Django accept the host the browser uses, and
// the project's other host names?
func checkAllowedHosts(ev Evidence) (Result, bool) {
	r := Result{ID: IDAllowedHosts}
	hosts, _ := ev.Probe.Settings["ALLOWED_HOSTS"].([]any)
	setting := "ALLOWED_HOSTS = " + quote(ev.Probe.Settings["ALLOWED_HOSTS"])
	refused := []HostVerdict{}
	if ev.Probe.HostError != "" {
		refused = append(refused, HostVerdict{Host: ev.host(), Error: ev.Probe.HostError})
	}
	for _, v := range ev.OtherHosts {
		if v.Error != "" {
			refused = append(refused, v)
		}
	}
	if len(refused) == 0 {
		names := []string{ev.host()}
		for _, v := range ev.OtherHosts {
			names = append(names, v.Host)
		}
		r.Status, r.Summary = Pass, "Django accepts the host "+strings.Join(names, ", ")
		r.Detail = setting
		return r, true
	}
	if ev.SettingsOverride != "" && len(refused) == 1 && refused[0].Host == ev.host() && isLoopbackName(ev.hostname()) {
		// Production's settings refusing localhost is right: ask with
		// production's names instead.
		r.Status = NotRun
		r.Summary = fmt.Sprintf("could not run as production's browsers ask: %s refuses %s, as production should, and devstack.toml names no production host",
			ev.settingsModule(), ev.host())
		r.Detail = refused[0].Error + "; " + setting
		r.Fix = "name production's host names in devstack.toml, e.g. hosts = [\"example.com\"]: doctor --settings then asks with the first"
		return r, true
	}
	r.Status = Fail
	var names, bare []string
	for _, v := range refused {
		names = append(names, v.Host)
		bare = append(bare, fmt.Sprintf("%q", hostname(v.Host)))
	}
	r.Summary = fmt.Sprintf("Django refuses the host %s: every page answers 400 Bad Request", strings.Join(names, ", "))
	r.Detail = refused[0].Error + "; " + setting
	var bad []string
	for _, h := range hosts {
		s, _ := h.(string)
		if strings.Contains(s, "://") || strings.Contains(s, "/") || (strings.Contains(s, ":") && !strings.HasPrefix(s, "[")) {
			bad = append(bad, fmt.Sprintf("%q", s))
		}
	}
	if len(bad) > 0 {
		r.Fix = fmt.Sprintf("ALLOWED_HOSTS entries are bare host names, without scheme, port or path: replace %s with %s",
			strings.Join(bad, ", "), strings.Join(bare, ", "))
	} else {
		r.Fix = fmt.Sprintf("add %s to ALLOWED_HOSTS", strings.Join(bare, ", "))
	}
	return r, true
}

// isLoopbackName reports whether host is localhost or a loopback address.
func isLoopbackName(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// hostname is host without its port.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// checkCSRFOrigin: would Django accept a form posted from the site?
func checkCSRFOrigin(ev Evidence) (Result, bool) {
	c := ev.Probe.CSRF
	if c == nil {
		return Result{}, false
	}
	r := Result{ID: IDCSRFOrigin}
	if !c.MiddlewareEnabled {
		r.Status, r.Summary = Warn, "CsrfViewMiddleware is not in MIDDLEWARE: forms are not protected against CSRF"
		r.Fix = `add "django.middleware.csrf.CsrfViewMiddleware" to MIDDLEWARE`
		return r, true
	}
	if c.OK {
		r.Status, r.Summary = Pass, fmt.Sprintf("a form posted from %s passes Django's CSRF %s check", ev.Origin, c.Checked)
		return r, true
	}
	r.Status = Fail
	r.Summary = fmt.Sprintf("a form posted from %s fails with 403: %s", ev.Origin, c.Reason)
	r.Detail = fmt.Sprintf("Origin: %s, Referer: %s; the app sees %s://%s", c.Origin, c.Referer, ev.Probe.Scheme, ev.Probe.Host)
	switch {
	case ev.Probe.HostError != "" && ev.SettingsOverride != "" && isLoopbackName(ev.hostname()):
		r.Status = NotRun
		r.Summary = "could not run: Django refuses the host " + ev.host() + " (" + IDAllowedHosts + ")"
		r.Fix = "name production's host names in devstack.toml (hosts = [\"example.com\"]), as for " + IDAllowedHosts
	case ev.Probe.HostError != "":
		r.Detail = fmt.Sprintf("Origin: %s, Referer: %s; Django refuses the host (%s)", c.Origin, c.Referer, IDAllowedHosts)
		r.Fix = "fix ALLOWED_HOSTS first (" + IDAllowedHosts + "): Django compares the Origin with the host it accepts"
	case ev.Probe.Scheme != "https":
		r.Fix = "make the app see https (" + IDScheme + "): " + schemeFix(ev)
	case djangoMajor(ev) >= 4:
		r.Fix = fmt.Sprintf("CSRF_TRUSTED_ORIGINS = [%q]", ev.Origin)
	default:
		r.Fix = fmt.Sprintf("CSRF_TRUSTED_ORIGINS = [%q] (Django 3.2 takes host names)", ev.host())
	}
	return r, true
}

// checkCSRFTrustedOrigins: are CSRF_TRUSTED_ORIGINS entries in the form
// this Django version reads?
func checkCSRFTrustedOrigins(ev Evidence) (Result, bool) {
	entries, _ := ev.Probe.Settings["CSRF_TRUSTED_ORIGINS"].([]any)
	if len(entries) == 0 {
		return Result{}, false
	}
	r := Result{ID: IDCSRFTrustedOrigins, Detail: "CSRF_TRUSTED_ORIGINS = " + quote(ev.Probe.Settings["CSRF_TRUSTED_ORIGINS"])}
	modern := djangoMajor(ev) >= 4
	var wrong, slash, plain []string
	for _, e := range entries {
		s, _ := e.(string)
		hasScheme := strings.Contains(s, "://")
		switch {
		case modern && !hasScheme, !modern && hasScheme:
			wrong = append(wrong, s)
		case strings.HasSuffix(s, "/"):
			slash = append(slash, s)
		case strings.HasPrefix(s, "http://"):
			plain = append(plain, s)
		}
	}
	switch {
	case len(wrong) > 0 && modern:
		r.Status = Fail
		r.Summary = fmt.Sprintf("Django %s wants CSRF_TRUSTED_ORIGINS with a scheme; %s never matches", ev.Probe.Framework.Version, quoteAll(wrong))
		r.Fix = "write each origin with its scheme, e.g. " + fmt.Sprintf("%q", "https://"+strings.TrimPrefix(wrong[0], "*."))
		r.Detail += " (Django's system check 4_0.E001)"
	case len(wrong) > 0:
		r.Status = Fail
		r.Summary = fmt.Sprintf("Django %s wants CSRF_TRUSTED_ORIGINS as host names; %s never matches", ev.Probe.Framework.Version, quoteAll(wrong))
		r.Fix = fmt.Sprintf("write host names, e.g. %q; Django 4.0 and later take origins with a scheme", ev.host())
	case len(slash) > 0:
		r.Status = Warn
		r.Summary = fmt.Sprintf("CSRF_TRUSTED_ORIGINS %s end with a slash; origins never do, so they never match", quoteAll(slash))
		r.Fix = "drop the trailing slash"
	case len(plain) > 0:
		r.Status = Warn
		r.Summary = fmt.Sprintf("CSRF_TRUSTED_ORIGINS trusts plain-http origins %s", quoteAll(plain))
		r.Fix = "trust the https origins the browser uses; an http:// origin behind the https proxy is a sign the app sees http"
	default:
		r.Status, r.Summary = Pass, "CSRF_TRUSTED_ORIGINS entries are in the form this Django reads"
	}
	return r, true
}

// checkForwardedHost: USE_X_FORWARDED_HOST makes the proxy responsible for
// the host.
func checkForwardedHost(ev Evidence) (Result, bool) {
	v, _ := ev.Probe.Settings["USE_X_FORWARDED_HOST"].(bool)
	if !v {
		return Result{}, false
	}
	return Result{ID: IDForwardedHost, Status: Warn,
		Summary: "USE_X_FORWARDED_HOST = True: Django takes the host from X-Forwarded-Host",
		Detail: "devstack's proxy sets X-Forwarded-Host and drops the one a client sends; a production proxy must do the same, " +
			"or any client chooses the host of password-reset links and absolute URLs",
		Fix: "keep it only if every proxy in front of the app overwrites X-Forwarded-Host; otherwise remove it " +
			"(Caddy and nginx pass the Host header through, which Django reads by default)",
	}, true
}

// checkHSTS: HSTS on localhost pins every localhost port to https.
func checkHSTS(ev Evidence) (Result, bool) {
	seconds, _ := ev.Probe.Settings["SECURE_HSTS_SECONDS"].(float64)
	r := Result{ID: IDHSTS}
	hsts := ""
	if ev.Root != nil {
		hsts = ev.Root.HSTS
	}
	if seconds <= 0 && hsts == "" {
		r.Status, r.Summary = Pass, "no HSTS for localhost"
		return r, true
	}
	if ev.SettingsOverride != "" && !ev.debug() {
		// Production settings asked for on purpose: HSTS belongs there, and
		// the doctor's own requests pin no browser.
		r.Status, r.Summary = Pass, fmt.Sprintf("production settings send HSTS (SECURE_HSTS_SECONDS = %s)", strconv.FormatFloat(seconds, 'f', -1, 64))
		r.Detail = "served only on https; devstack doctor's requests pin no browser, but devstack up with these settings would"
		return r, true
	}
	r.Status = Warn
	r.Summary = "the app sends HSTS for localhost: the browser will refuse plain http on every localhost port"
	r.Detail = fmt.Sprintf("SECURE_HSTS_SECONDS = %s", strconv.FormatFloat(seconds, 'f', -1, 64))
	if hsts != "" {
		r.Detail += "; GET / sent Strict-Transport-Security: " + hsts
	}
	r.Fix = "set SECURE_HSTS_SECONDS only in production settings (e.g. from an environment variable); " +
		"to undo it in Chrome, delete the localhost policy at chrome://net-internals/#hsts"
	return r, true
}

// checkDirectRedirect: SECURE_SSL_REDIRECT also answers requests that reach
// the gateway without the proxy, health checks among them.
func checkDirectRedirect(ev Evidence) (Result, bool) {
	if on, _ := ev.Probe.Settings["SECURE_SSL_REDIRECT"].(bool); !on {
		return Result{}, false
	}
	d := ev.Direct
	if d == nil {
		return Result{ID: IDDirectRedirect, Status: NotRun,
			Summary: "could not run: the gateway was not asked directly over http"}, true
	}
	r := Result{ID: IDDirectRedirect, Detail: fmt.Sprintf("GET / straight to the gateway over http answered %d", d.Status)}
	if d.Status >= 300 && d.Status < 400 && strings.HasPrefix(d.Location, "https://") {
		r.Status = Warn
		r.Summary = "SECURE_SSL_REDIRECT also redirects requests that reach the gateway directly: a health check on the app port gets a redirect, not its answer"
		r.Detail += " with Location: " + d.Location
		r.Fix = `exempt the health check's path: SECURE_REDIRECT_EXEMPT = [r"^healthz/$"] (without the leading slash), ` +
			"or send the health check through the proxy"
		return r, true
	}
	r.Status, r.Summary = Pass, "a request straight to the gateway is not redirected to https"
	return r, true
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

// checkSchemeHeaders: gunicorn decides the scheme from every header in
// secure_scheme_headers; those the proxy does not set come from the client
// unless a production proxy clears them.
func checkSchemeHeaders(ev Evidence) (Result, bool) {
	headers := ev.Probe.Server.SecureSchemeHeaders
	if len(headers) == 0 {
		return Result{}, false
	}
	var loose []string
	for name := range headers {
		if !slices.ContainsFunc(ev.Headers, func(h string) bool { return strings.EqualFold(h, name) }) {
			loose = append(loose, name)
		}
	}
	slices.Sort(loose)
	var pairs []string
	for name, value := range headers {
		pairs = append(pairs, fmt.Sprintf("%q: %q", name, value))
	}
	slices.Sort(pairs)
	r := Result{ID: IDSchemeHeaders, Detail: fmt.Sprintf("secure_scheme_headers = {%s}; the proxy sets %s",
		strings.Join(pairs, ", "), strings.Join(ev.Headers, ", ")),
		Where: projectWhere(ev, "secure_scheme_headers")}
	var underscored []string
	for name := range headers {
		if strings.Contains(name, "_") {
			underscored = append(underscored, name)
		}
	}
	slices.Sort(underscored)
	if len(underscored) > 0 {
		// gunicorn 22 drops request headers with "_" in their names
		// (they could smuggle a header past a proxy that strips "-").
		r.Fix = fmt.Sprintf(`name the header as sent on the wire, with dashes: secure_scheme_headers = {"X-FORWARDED-PROTO": "https"} (not %s)`, quoteAll(underscored))
		if versionAtLeast(ev.Probe.Server.Version, 22, 0) {
			r.Status = Warn
			if ev.Probe.Scheme != "https" {
				r.Status = Fail
			}
			r.Summary = fmt.Sprintf("secure_scheme_headers names %s: gunicorn %s drops request headers whose names contain \"_\", so it never matches",
				strings.Join(underscored, ", "), ev.Probe.Server.Version)
			return r, true
		}
		r.Status = Warn
		r.Summary = fmt.Sprintf("secure_scheme_headers names %s: gunicorn 22 and later drop request headers whose names contain \"_\", so it stops matching on upgrade",
			strings.Join(underscored, ", "))
		return r, true
	}
	if len(loose) == 0 {
		r.Status, r.Summary = Pass, "gunicorn reads the scheme only from headers the proxy sets"
		return r, true
	}
	// Hardening only: devstack's proxy drops these from clients, and so
	// must a production proxy; nothing is wrong until one passes them.
	r.Status = Info
	r.Summary = fmt.Sprintf("gunicorn also reads the scheme from %s, which the proxy does not set: "+
		"a production proxy that passes them from clients lets anyone get 400 Contradictory scheme headers (\"X-Forwarded-Ssl: off\")",
		strings.Join(loose, ", "))
	r.Detail += "; devstack's proxy drops them from clients, as a production proxy must"
	r.Fix = `in gunicorn.conf.py: secure_scheme_headers = {"X-FORWARDED-PROTO": "https"} ` +
		"(or have every proxy in front clear the others)"
	return r, true
}

// checkGatewayExposed: a gateway that trusts forwarded headers must not be
// reachable by anyone but the proxy, here (devstack's bind) or in
// production (the project's own bind in gunicorn.conf.py).
func checkGatewayExposed(ev Evidence) (Result, bool) {
	var open []string
	for _, b := range ev.Probe.Server.Bind {
		if !loopbackBind(b) {
			open = append(open, b)
		}
	}
	r := Result{ID: IDGatewayExposed}
	starTrust := slices.Contains(ev.Probe.Server.ForwardedAllowIPs, "*")
	trusts := starTrust || ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] != nil
	if len(open) > 0 {
		r.Detail = "bind = " + strings.Join(open, ", ")
		if !trusts {
			r.Status, r.Summary = Pass, "the gateway listens beyond loopback but trusts no forwarded header from clients"
			return r, true
		}
		r.Status = Fail
		r.Summary = "the gateway listens beyond loopback and the app trusts X-Forwarded-Proto: any client can reach it directly and forge the header"
		r.Fix = "bind the gateway to 127.0.0.1 (the proxy is on the same host), or firewall it so only the proxy reaches it"
		return r, true
	}
	r.Detail = "bind = " + strings.Join(ev.Probe.Server.Bind, ", ")
	if prod := productionBind(ev); len(prod) > 0 && trusts && !starTrust {
		// forwarded_allow_ips = "*" with it is forwarded-allow-ips's warning.
		r.Status = Info
		r.Summary = fmt.Sprintf("production binds the gateway to %s and Django trusts X-Forwarded-Proto: only the proxy may reach that address",
			strings.Join(prod, ", "))
		r.Where = projectWhere(ev, "bind")
		r.Fix = "keep the gateway's port closed to everything but the proxy (a container network, a firewall), or bind it to 127.0.0.1 or a unix socket"
		return r, true
	}
	r.Status, r.Summary = Pass, "the gateway listens on loopback only"
	return r, true
}

// checkUvicornWorker: under gunicorn's UvicornWorker, uvicorn reads the
// proxy's headers with its own rules, configured by the worker class, not
// by gunicorn's settings: uvicorn's names in gunicorn.conf.py do nothing,
// and gunicorn's secure_scheme_headers are ignored.
func checkUvicornWorker(ev Evidence) (Result, bool) {
	s := ev.Probe.Server
	if s.Uvicorn == nil {
		return Result{}, false
	}
	r := Result{ID: IDUvicornWorker, Detail: fmt.Sprintf("worker_class = %s; uvicorn %s with proxy_headers=%t, forwarded_allow_ips=%s (gunicorn's)",
		s.WorkerClass, s.Uvicorn.Version, s.Uvicorn.ProxyHeaders, strings.Join(s.Uvicorn.ForwardedAllowIPs, ","))}
	var ignored []string
	for _, name := range []string{"proxy_headers", "root_path", "server_header", "lifespan"} {
		if _, ok := s.ProjectSettings[name]; ok {
			ignored = append(ignored, name)
			if r.Where == "" {
				r.Where = s.ProjectSettings[name].Where()
			}
		}
	}
	if len(ignored) > 0 {
		r.Status = Warn
		r.Summary = fmt.Sprintf("%s sets uvicorn's %s, which gunicorn ignores: UvicornWorker configures uvicorn from its class, not from gunicorn's settings",
			s.ProjectConfig, strings.Join(ignored, ", "))
		r.Fix = `subclass UvicornWorker with CONFIG_KWARGS = {"proxy_headers": True, ...} and name it in worker_class; ` +
			"trust the proxy with gunicorn's forwarded_allow_ips, which UvicornWorker hands to uvicorn"
		return r, true
	}
	if _, ok := s.ProjectSettings["secure_scheme_headers"]; ok {
		r.Status = Info
		r.Summary = "secure_scheme_headers has no effect under UvicornWorker: uvicorn reads only X-Forwarded-Proto"
		r.Where = projectWhere(ev, "secure_scheme_headers")
		r.Fix = "remove secure_scheme_headers, or have the proxy send X-Forwarded-Proto"
		return r, true
	}
	r.Status, r.Summary = Pass, "UvicornWorker hands gunicorn's forwarded_allow_ips to uvicorn, which reads X-Forwarded-Proto"
	return r, true
}

// projectWhere is where the project's gunicorn.conf.py sets name, if it does.
func projectWhere(ev Evidence, name string) string {
	if s := ev.Probe.Server; s != nil {
		if src, ok := s.ProjectSettings[name]; ok {
			return src.Where()
		}
	}
	return ""
}

func loopbackBind(b string) bool {
	if strings.HasPrefix(b, "unix:") || strings.HasPrefix(b, "fd://") {
		return true
	}
	host, _, err := net.SplitHostPort(b)
	if err != nil {
		host = b
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func forwardedAllowIPs(ev Evidence) string {
	if ev.Probe.Server == nil || len(ev.Probe.Server.ForwardedAllowIPs) == 0 {
		return "unknown"
	}
	return strings.Join(ev.Probe.Server.ForwardedAllowIPs, ",")
}

func djangoMajor(ev Evidence) int {
	major, _, _ := strings.Cut(ev.Probe.Framework.Version, ".")
	n, _ := strconv.Atoi(major)
	return n
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
