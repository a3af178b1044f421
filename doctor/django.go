package doctor

// The checks of Django's own trust settings: the proxy header, the hosts,
// CSRF, USE_X_FORWARDED_HOST, HSTS, and the redirect a health check meets.

import (
	"cmp"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// checkProxySSLHeader: is Django's SECURE_PROXY_SSL_HEADER the header the
// proxy sends, in the form Django reads?
func checkProxySSLHeader(ev Evidence) (Result, bool) {
	r := Result{ID: IDProxySSLHeader}
	v := ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"]
	if v == nil {
		gateway := "the gateway"
		if ev.Probe.Server != nil && ev.Probe.Server.Name != "" {
			gateway = ev.Probe.Server.Name
		}
		switch {
		case ev.Probe.Scheme == "https" && ev.Probe.Server != nil && slices.Contains(ev.Probe.Server.ForwardedAllowIPs, "*"):
			// Trusting every address holds behind any proxy (Heroku's
			// way); what "*" risks is forwarded-allow-ips's and
			// gateway-exposed's to say.
			r.Status = Pass
			r.Summary = "SECURE_PROXY_SSL_HEADER is not set: https comes from " + gateway + ", which trusts X-Forwarded-Proto from every address (forwarded_allow_ips = \"*\")"
			r.Detail = "the gateway passed " + ev.gatewaySaw() + "; Django takes the scheme from it"
			return r, true
		case ev.Probe.Scheme == "https":
			r.Status, r.Summary = Warn, "SECURE_PROXY_SSL_HEADER is not set: https comes only from "+gateway+" trusting the proxy's address"
			r.Detail = fmt.Sprintf("the gateway passed %s because its trust list (%s) includes the proxy's address. "+
				"Behind a proxy on another host or network (a load balancer, a container network) that trust does not hold, "+
				"and Django sees http.", ev.gatewaySaw(), forwardedAllowIPs(ev))
		default:
			r.Status, r.Summary = Fail, "SECURE_PROXY_SSL_HEADER is not set, and nothing else tells Django the request was https"
		}
		r.Fix = "in " + cmp.Or(ev.sharedSettingsFile(), "your settings module") + ": " + djangoProxyHeaderSetup
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
	if ev.Probe.Scheme == "" {
		r.Detail = fmt.Sprintf("Origin: %s, Referer: %s; the app cannot tell the scheme (%s)", c.Origin, c.Referer, IDScheme)
	}
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
	var wrong, slash, plain, otherPort []string
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
		case modern && sameHostOtherPort(s, ev.Origin):
			otherPort = append(otherPort, s)
		}
	}
	switch {
	case len(wrong) > 0 && modern:
		r.Status = Fail
		r.Summary = fmt.Sprintf("Django %s wants CSRF_TRUSTED_ORIGINS with a scheme; %s never %s", ev.Probe.Framework.Version, quoteAll(wrong), agree(len(wrong), "matches", "match"))
		r.Fix = "write each origin with its scheme, e.g. " + fmt.Sprintf("%q", "https://"+strings.TrimPrefix(wrong[0], "*."))
		r.Detail += " (Django's system check 4_0.E001)"
	case len(wrong) > 0:
		r.Status = Fail
		r.Summary = fmt.Sprintf("Django %s wants CSRF_TRUSTED_ORIGINS as host names; %s never %s", ev.Probe.Framework.Version, quoteAll(wrong), agree(len(wrong), "matches", "match"))
		r.Fix = fmt.Sprintf("write host names, e.g. %q; Django 4.0 and later take origins with a scheme", ev.host())
	case len(slash)+len(plain)+len(otherPort) > 0:
		// Band-aids added to silence a 403: none is the browser's origin,
		// so each one hides the real cause (usually the scheme).
		var said, fixes []string
		if len(slash) > 0 {
			said = append(said, quoteAll(slash)+" "+agree(len(slash), "ends", "end")+" with a slash, which origins never do")
			fixes = append(fixes, "drop the trailing slash")
		}
		if len(otherPort) > 0 {
			said = append(said, fmt.Sprintf("%s %s another port than the browser's %s", quoteAll(otherPort), agree(len(otherPort), "names", "name"), ev.Origin))
			fixes = append(fixes, "name the port the browser uses (or no entry at all: Django accepts the site's own origin)")
		}
		if len(plain) > 0 {
			said = append(said, quoteAll(plain)+" "+agree(len(plain), "trusts", "trust")+" plain http behind the https proxy, a sign the app once saw http")
			fixes = append(fixes, "trust the https origins the browser uses")
		}
		r.Status = Warn
		r.Summary = "CSRF_TRUSTED_ORIGINS " + strings.Join(said, "; ")
		r.Fix = strings.Join(fixes, "; ")
	default:
		r.Status, r.Summary = Pass, "CSRF_TRUSTED_ORIGINS entries are in the form this Django reads"
	}
	return r, true
}

// sameHostOtherPort reports whether the origin entry names the host of the
// browser's origin with another port: an entry that never matches the site.
func sameHostOtherPort(entry, origin string) bool {
	e, err1 := url.Parse(entry)
	o, err2 := url.Parse(origin)
	if err1 != nil || err2 != nil || e.Hostname() != o.Hostname() {
		return false
	}
	return portOf(e) != portOf(o)
}

// portOf is the URL's port, or its scheme's default.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "http" {
		return "80"
	}
	return "443"
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

func djangoMajor(ev Evidence) int {
	major, _, _ := strings.Cut(ev.Probe.Framework.Version, ".")
	n, _ := strconv.Atoi(major)
	return n
}

// agree is the verb that agrees with n entries: one, or many.
func agree(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
