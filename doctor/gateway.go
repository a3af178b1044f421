package doctor

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/devstack-dev/devstack/templates"
)

// localTrust is what the gateway should trust locally: the addresses
// devstack's proxy connects from.
const localTrust = "127.0.0.1,::1"

// gatewayTrust is the gateway's side of the hand-off: whom it believes
// X-Forwarded-Proto from, where that list was set, and the address the
// proxy connected from.
type gatewayTrust struct {
	server   string   // "gunicorn", "uvicorn", or "uvicorn (UvicornWorker)"
	version  string   // of the server that matches the list
	setting  string   // "forwarded_allow_ips" or "--forwarded-allow-ips"
	ips      []string // the list, as the server holds it
	source   string   // "gunicorn.conf.py:3", "command line", "FORWARDED_ALLOW_IPS", "default"
	peer     string   // the address the proxy connected from; "" when unknown
	networks bool     // the server matches networks (gunicorn ≥ 22, uvicorn ≥ 0.30)
	headers  bool     // uvicorn's --proxy-headers is on (always true for gunicorn)
}

// trust describes the gateway's trust in the proxy; false when the
// gateway is not one devstack knows.
func (ev Evidence) trust() (gatewayTrust, bool) {
	s := ev.Probe.Server
	if s == nil {
		return gatewayTrust{}, false
	}
	t := gatewayTrust{server: s.Name, version: s.Version, setting: "forwarded_allow_ips", ips: s.ForwardedAllowIPs,
		source: s.ForwardedAllowIPsSource, headers: true}
	switch {
	case s.Name == "gunicorn" && s.Uvicorn != nil:
		// UvicornWorker hands gunicorn's list to uvicorn, which matches it.
		t.server, t.version, t.headers = "uvicorn (UvicornWorker)", s.Uvicorn.Version, s.Uvicorn.ProxyHeaders
		if s.Uvicorn.ForwardedAllowIPs != nil {
			t.ips = s.Uvicorn.ForwardedAllowIPs
		}
		t.networks = versionAtLeast(t.version, 0, 30)
	case s.Name == "gunicorn":
		t.networks = versionAtLeast(t.version, 22, 0)
	case s.Name == "uvicorn":
		t.setting = "--forwarded-allow-ips"
		t.networks = versionAtLeast(t.version, 0, 30)
		t.headers = s.ProxyHeaders == nil || *s.ProxyHeaders
	default:
		return gatewayTrust{}, false
	}
	if t.ips == nil {
		return gatewayTrust{}, false
	}
	g := ev.Probe.Gateway
	if a, _ := g["REMOTE_ADDR"].(string); a != "" {
		t.peer = a
	} else if a, _ := g["peer"].(string); a != "" {
		t.peer = a
	}
	return t, true
}

// trusts reports whether the server believes forwarded headers from addr.
func (t gatewayTrust) trusts(addr string) bool {
	for _, entry := range t.ips {
		if entry == "*" || entry == addr {
			return true
		}
		if t.networks {
			if _, n, err := net.ParseCIDR(entry); err == nil {
				if ip := net.ParseIP(addr); ip != nil && n.Contains(ip) {
					return true
				}
			}
		}
	}
	return false
}

// hostNames are the list's entries that are neither addresses nor
// networks: the server compares the connecting address, so they never match.
func (t gatewayTrust) hostNames() []string {
	var names []string
	for _, entry := range t.ips {
		if entry == "*" || net.ParseIP(entry) != nil {
			continue
		}
		if _, _, err := net.ParseCIDR(entry); err == nil && t.networks {
			continue
		}
		names = append(names, entry)
	}
	return names
}

func (t gatewayTrust) list() string { return strings.Join(t.ips, ",") }

// described is "forwarded_allow_ips = 10.0.0.5 (gunicorn.conf.py:3)".
func (t gatewayTrust) described() string {
	def := t.server
	if t.worker() {
		def = "gunicorn" // UvicornWorker hands gunicorn's default to uvicorn
	}
	from := map[string]string{"": "", "default": " (" + def + "'s default)", "command line": " (on the command line)",
		"FORWARDED_ALLOW_IPS": " (from FORWARDED_ALLOW_IPS in the environment)"}
	s, ok := from[t.source]
	if !ok {
		s = " (" + t.source + ")"
	}
	return fmt.Sprintf("%s = %s%s", t.setting, t.list(), s)
}

// worker reports whether uvicorn runs under gunicorn's UvicornWorker.
func (t gatewayTrust) worker() bool { return strings.HasSuffix(t.server, "(UvicornWorker)") }

// fromProcfile reports whether the list is set on the Procfile's web
// line, which devstack carried over to the gateway.
func (t gatewayTrust) fromProcfile() bool { return strings.HasPrefix(t.source, "Procfile:") }

// where is the project's config line that sets the list, if any.
func (t gatewayTrust) where() string {
	if _, _, ok := strings.Cut(t.source, ":"); ok && t.source != "command line" {
		return t.source
	}
	return ""
}

// fix says how to trust the local proxy locally while production keeps
// its own list.
func (t gatewayTrust) fix() string {
	switch {
	case t.fromProcfile():
		// gunicorn and uvicorn read FORWARDED_ALLOW_IPS when no option
		// sets the list; the option wins over it.
		reader := t.server
		if t.worker() {
			reader = "gunicorn, which UvicornWorker follows,"
		}
		return fmt.Sprintf("the web line in %s passes --forwarded-allow-ips %s, which wins over the environment: drop it from the web line and set "+
			"FORWARDED_ALLOW_IPS=%s in production's environment instead (%s reads it); then, for local runs only, in .env: FORWARDED_ALLOW_IPS=%s",
			t.source, t.list(), t.list(), reader, localTrust)
	case t.where() != "":
		return fmt.Sprintf(`in %s, read the list from the environment: forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", %q) `+
			"(production keeps %s); then, for local runs only, in .env: FORWARDED_ALLOW_IPS=%s",
			t.where(), t.list(), t.list(), localTrust)
	case t.source == "command line":
		return fmt.Sprintf("the command line's %s %s wins over the environment: pass it in production's command only "+
			"(drop it from args in devstack.toml or GUNICORN_CMD_ARGS), and for local runs set FORWARDED_ALLOW_IPS=%s in .env",
			t.setting, t.list(), localTrust)
	case t.source == "FORWARDED_ALLOW_IPS":
		return fmt.Sprintf("FORWARDED_ALLOW_IPS is %s in the app's environment: for local runs set FORWARDED_ALLOW_IPS=%s in .env "+
			"(production keeps its own)", t.list(), localTrust)
	}
	return fmt.Sprintf("for local runs set FORWARDED_ALLOW_IPS=%s in .env (production sets its proxy's address)", localTrust)
}

// checkForwardedAllowIPs: does the gateway believe the proxy? Judged from
// the evidence: the address the proxy connected from against the
// gateway's list, and the scheme the app ended up with.
func checkForwardedAllowIPs(ev Evidence) (Result, bool) {
	t, ok := ev.trust()
	if !ok {
		return Result{}, false
	}
	peer := t.peer
	if peer == "" {
		peer = "an unknown address"
	}
	r := Result{ID: IDForwardedAllowIPs, Where: t.where(),
		Detail: fmt.Sprintf("%s; the proxy connected from %s; the gateway passed %s and the app sees %s",
			t.described(), peer, ev.gatewaySaw(), orUnknown(ev.Probe.Scheme))}
	own := ev.Probe.Server.ProjectSettings
	_, setsProxyIPs := own["proxy_allow_ips"]
	_, setsForwarded := own["forwarded_allow_ips"]
	names := t.hostNames()
	switch {
	case len(names) > 0:
		r.Status = Fail
		r.Summary = fmt.Sprintf("%s holds %s, which %s never matches: it compares the connecting IP address", t.setting, quoteAll(names), t.server)
		r.Fix = fmt.Sprintf("list IP addresses, not host names: here %s; in production, the proxy's address", localTrust)
		if !t.networks {
			r.Fix += fmt.Sprintf(" (%s %s matches single addresses only, no networks)", t.server, t.version)
		}
	case !t.headers:
		r.Status = Fail
		r.Summary = "uvicorn runs without --proxy-headers: it never reads X-Forwarded-Proto or X-Forwarded-For"
		r.Fix = "drop --no-proxy-headers (or proxy_headers=False) so uvicorn reads the proxy's headers"
		if src := ev.Probe.Server.ProxyHeadersSource; strings.HasPrefix(src, "Procfile:") {
			r.Where = src
			r.Fix = "drop --no-proxy-headers from the web line in " + src + " so uvicorn reads the proxy's headers, here and in production"
		}
	case t.peer != "" && !t.trusts(t.peer):
		if ev.Probe.Scheme == "https" {
			r.Status = Info
			r.Summary = fmt.Sprintf("%s does not trust the local proxy (%s), but the app reads the scheme itself", t.server, t.peer)
			r.Fix = t.fix()
			break
		}
		r.Status = Fail
		r.Summary = fmt.Sprintf("%s does not trust the proxy: it connected from %s, which %s does not list, so %s ignored X-Forwarded-Proto and the app sees http",
			t.server, t.peer, t.setting, t.server)
		if setsProxyIPs && !setsForwarded {
			r.Summary += "; proxy_allow_ips is set instead, which only applies to the PROXY protocol"
		}
		r.Fix = t.fix()
	case setsProxyIPs && !setsForwarded:
		r.Status = Warn
		r.Summary = "proxy_allow_ips is set but forwarded_allow_ips is not: proxy_allow_ips only applies to the PROXY protocol, " +
			"so a production proxy at another address will not be trusted for X-Forwarded-Proto"
		r.Where = own["proxy_allow_ips"].Where()
		r.Fix = fmt.Sprintf("name the setting forwarded_allow_ips (in %s), read from the environment so local runs can trust %s",
			own["proxy_allow_ips"].File, localTrust)
	case slices.Contains(t.ips, "*"):
		exposed := productionBind(ev)
		if len(exposed) > 0 {
			r.Status = Warn
			r.Summary = fmt.Sprintf("%s = \"*\" while production binds the gateway to %s: anyone who reaches it can forge X-Forwarded-Proto and X-Forwarded-For",
				t.setting, strings.Join(exposed, ", "))
			r.Where = ev.Probe.Server.ProjectSettings["bind"].Where()
			r.Fix = "list the production proxy's address instead of \"*\", or bind the gateway where only the proxy reaches it (127.0.0.1, a unix socket)"
			break
		}
		r.Status, r.Summary = Pass, fmt.Sprintf("%s = \"*\" and the gateway listens only where the proxy reaches it", t.setting)
	case t.peer == "":
		r.Status, r.Summary = Pass, fmt.Sprintf("%s trusts forwarded headers from %s", t.server, t.list())
	default:
		r.Status, r.Summary = Pass, fmt.Sprintf("%s trusts the proxy's address %s", t.server, t.peer)
	}
	return r, true
}

// productionBind is the project's own gunicorn bind (what production
// runs with) where it reaches beyond loopback.
func productionBind(ev Evidence) []string {
	src, ok := ev.Probe.Server.ProjectSettings["bind"]
	if !ok {
		return nil
	}
	v, known := src.Known()
	if !known {
		return nil
	}
	var binds []string
	switch v := v.(type) {
	case string:
		binds = []string{v}
	case []any:
		for _, b := range v {
			if s, ok := b.(string); ok {
				binds = append(binds, s)
			}
		}
	}
	var open []string
	for _, b := range binds {
		if !loopbackBind(b) {
			open = append(open, b)
		}
	}
	return open
}

// checkClientAddress: the app must see the address of the client the
// proxy served (what the proxy put in X-Forwarded-For), not nothing.
func checkClientAddress(ev Evidence) (Result, bool) {
	p := ev.Probe
	if a := p.AppResponse; !p.ReachedFramework && a != nil && (a.Status >= 400 || a.Error != "") {
		return Result{}, false // app-reached explains the refusal
	}
	xff := p.Headers["x-forwarded-for"]
	client := strings.TrimSpace(xff[strings.LastIndexByte(xff, ',')+1:])
	r := Result{ID: IDClientAddress, Detail: fmt.Sprintf("the proxy sent X-Forwarded-For: %s; the app sees %s", orUnknown(xff), orNone(p.RemoteAddr))}
	t, known := ev.trust()
	if p.RemoteAddr == "" {
		r.Status = Fail
		r.Summary = "the app sees no client address behind the proxy (it is None): logs, rate limits and audit trails lose the client"
		if known && strings.HasPrefix(t.server, "uvicorn") && !versionAtLeast(t.version, 0, 30) && client != "" && t.trusts(client) {
			r.Detail += fmt.Sprintf("; uvicorn %s trusts %s (%s) and, before 0.30, sets the client to None when every X-Forwarded-For address "+
				"is trusted: here the browser and the proxy share %s (encode/uvicorn#1068)", t.version, client, t.described(), client)
			r.Fix = "upgrade uvicorn to 0.30 or later (pip install 'uvicorn>=0.30'); with uvicorn " + t.version +
				", set FORWARDED_ALLOW_IPS=* in .env for local runs only (safe while the gateway listens on loopback, as under devstack)"
		} else {
			r.Fix = "find the middleware that drops the client address (the gateway passed " + gatewayClient(ev) + ")"
		}
		return r, true
	}
	if client == "" || p.RemoteAddr == client {
		r.Status, r.Summary = Pass, "the app sees the client's address "+p.RemoteAddr
		return r, true
	}
	r.Status = Warn
	r.Summary = fmt.Sprintf("the app sees %s, not the client's address %s: in production every request will seem to come from the proxy",
		p.RemoteAddr, client)
	switch {
	case p.Framework.Name == "flask":
		r.Fix = "read X-Forwarded-For with ProxyFix(app.wsgi_app, x_for=1, x_proto=1) (one proxy in front)"
	case known && strings.HasPrefix(t.server, "uvicorn"):
		r.Fix = "let uvicorn trust the proxy (" + IDForwardedAllowIPs + "): " + t.fix()
	default:
		r.Status = Info // gunicorn never rewrites REMOTE_ADDR: apps read X-Forwarded-For themselves
		r.Summary = fmt.Sprintf("the app sees the proxy's address %s, not the client's %s: gunicorn passes the connecting address as REMOTE_ADDR", p.RemoteAddr, client)
		r.Fix = "where the client's address matters (logs, rate limits), read the last X-Forwarded-For value set by your proxy"
	}
	return r, true
}

func gatewayClient(ev Evidence) string {
	g := ev.Probe.Gateway
	if a, ok := g["REMOTE_ADDR"]; ok {
		return "REMOTE_ADDR " + orNone(fmt.Sprint(orNil(a)))
	}
	return "client " + quote(g["client"])
}

// checkSchemeForced: a plain-http request straight to the gateway, with
// no forwarding header, must look like http; an app that says https is
// not reading the proxy's header but assuming it (an inner hop or a
// middleware rewriting the scheme, or https hard-coded).
func checkSchemeForced(ev Evidence) (Result, bool) {
	d := ev.DirectProbe
	if d == nil || (d.Scheme == "" && d.SchemeError != "") {
		return Result{}, false
	}
	r := Result{ID: IDSchemeForced, Detail: fmt.Sprintf("GET straight to the gateway over http, without X-Forwarded-Proto: the gateway passed %s and %s",
		Evidence{Probe: *d}.gatewaySaw(), appDecided(*d))}
	if d.Scheme != "https" {
		r.Status, r.Summary = Pass, "a plain-http request without X-Forwarded-Proto is seen as http: the scheme comes from the proxy"
		return r, true
	}
	r.Status = Warn
	if g, _ := d.Gateway["wsgi.url_scheme"].(string); g == "https" {
		r.Summary = "the gateway calls a plain-http request with no X-Forwarded-Proto https: the scheme is forced before the app"
	} else {
		r.Summary = "the app calls a plain-http request with no X-Forwarded-Proto https: something in the app forces https instead of reading the proxy's header"
	}
	r.Detail += "; health checks and any plain-http path then get Secure cookies and https links, and a proxy that forgets the header goes unnoticed"
	r.Fix = "derive the scheme from the proxy's X-Forwarded-Proto (Django: SECURE_PROXY_SSL_HEADER; Flask: ProxyFix(x_proto=1)) " +
		"instead of setting wsgi.url_scheme or the scope's scheme to https"
	return r, true
}

// checkProtoChain: behind two proxies that each add to X-Forwarded-Proto
// ("https, http"), Django before 4.1 and gunicorn compare the whole value.
func checkProtoChain(ev Evidence) (Result, bool) {
	c := ev.ChainProbe
	if c == nil || ev.Probe.Scheme != "https" || c.SchemeError != "" {
		return Result{}, false
	}
	r := Result{ID: IDProtoChain, Detail: fmt.Sprintf("X-Forwarded-Proto: %s straight to the gateway: the gateway passed %s and %s",
		chainedProto, Evidence{Probe: *c}.gatewaySaw(), appDecided(*c))}
	if c.Scheme == "https" {
		r.Status, r.Summary = Pass, "a multi-value X-Forwarded-Proto (\"https, http\") is read by its first value"
		return r, true
	}
	r.Status = Info
	server := "the gateway"
	if ev.Probe.Server != nil && ev.Probe.Server.Name != "" {
		server = ev.Probe.Server.Name
	}
	who := server + " compares the whole value with \"https\""
	if scope, ok := c.Gateway["scheme"].(string); ok && scope == chainedProto {
		// uvicorn copies the header into the scope as it is.
		who = server + " passes the whole value on as the request's scheme"
	}
	if ev.Probe.Framework.Name == "django" && ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] != nil && !versionAtLeast(ev.Probe.Framework.Version, 4, 1) {
		who = "Django " + ev.Probe.Framework.Version + " compares the whole value (4.1 and later read the first)"
	}
	saw := c.Scheme
	switch {
	case c.Scheme == "" && c.IsSecure != nil:
		saw = "no scheme"
	case c.Scheme == "":
		saw = "something other than https"
	}
	r.Summary = "behind proxies that append to X-Forwarded-Proto (\"https, http\") the app would see " + saw + ": " + who
	r.Fix = "let the outermost proxy set X-Forwarded-Proto and inner hops pass it unchanged (nginx: proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto)"
	if strings.HasPrefix(who, "Django") {
		r.Fix += ", or upgrade to Django 4.1 or later"
	}
	return r, true
}

// appDecided says which scheme the app decided from a probe's report,
// true of every gateway: under uvicorn the scope's scheme is the header's
// value as sent, and a Starlette app given "https, http" builds a request
// URL with no scheme at all.
func appDecided(p templates.ProbeReport) string {
	switch {
	case p.Scheme != "":
		return fmt.Sprintf("the app decided %q", p.Scheme)
	case p.IsSecure != nil:
		if g, ok := p.Gateway["scheme"].(string); ok && g != "" {
			return fmt.Sprintf("the app's request URL has no scheme (%q is not one)", g)
		}
		return "the app's request URL has no scheme"
	default:
		return "the app did not report the scheme it saw"
	}
}

// chainedProto is the X-Forwarded-Proto a two-proxy chain sends: the
// outer hop terminated TLS, the inner one appended its own plain http.
const chainedProto = "https, http"

func versionAtLeast(version string, major, minor int) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}

func orUnknown(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

func orNone(s string) string {
	if s == "" || s == "<nil>" {
		return "None"
	}
	return s
}

func orNil(v any) any {
	if v == nil {
		return ""
	}
	return v
}
