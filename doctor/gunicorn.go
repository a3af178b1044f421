package doctor

// The checks of gunicorn's own settings: the scheme headers it reads, who
// can reach it, and UvicornWorker's hand-off to uvicorn.

import (
	"fmt"
	"net"
	"slices"
	"strings"
)

// checkSchemeHeaders: gunicorn decides the scheme from every header in
// secure_scheme_headers; those the proxy does not set come from the client
// unless a production proxy clears them.
func checkSchemeHeaders(ev Evidence) (Result, bool) {
	headers := ev.Probe.Server.SecureSchemeHeaders
	if len(headers) == 0 || ev.Probe.Server.Uvicorn != nil {
		// Under UvicornWorker uvicorn decides the scheme, from
		// X-Forwarded-Proto only (uvicorn-worker says so when they are set).
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
		r.Fix = "bind the gateway to 127.0.0.1 (the proxy is on the same host; under devstack: host in devstack.toml, or DEVSTACK_HOST), " +
			"or firewall it so only the proxy reaches it"
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
