// Package doctor holds the proxy-trust checks: what the app behind
// devstack's proxy sees (the probe's report, the app's own answer to "/"),
// weighed against what the proxy sends and what production proxies send,
// each finding with its fix.
package doctor

import (
	"fmt"
	"strings"

	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/templates"
)

// Status is a check's outcome; Result is one check's finding, with a
// stable ID. Both are the shared vocabulary of package events, so a result
// reaches devstack up's screen as the doctor made it.
type (
	Status = events.CheckStatus
	Result = events.CheckResult
)

const (
	Pass = events.Pass
	Warn = events.Warn
	Fail = events.Fail
)

// Evidence is what the checks read.
type Evidence struct {
	// Origin is the site as the browser sees it, "https://localhost:8080".
	Origin string
	// Probe is the probe's report for a request sent through the proxy
	// with the Origin and Referer of a form on the site.
	Probe templates.ProbeReport
	// Root is the app's answer to "GET /" through the proxy; nil when it
	// was not asked (see CollectProbe).
	Root *Answer
	// Direct is the app's answer to "GET /" sent straight to the gateway
	// over plain http, as a health check would; nil when not asked.
	Direct *Answer
	// OtherHosts are the verdicts for the project's other host names
	// (devstack.toml's hosts), asked like Probe with that name.
	OtherHosts []HostVerdict
	// Headers are the forwarding headers the proxy sets (canonical names,
	// e.g. "X-Forwarded-Proto").
	Headers []string
}

// HostVerdict is whether the app accepted one host name ("myapp.test:8080").
type HostVerdict struct {
	Host  string
	Error string // the framework's refusal; empty when accepted
}

// Answer is an HTTP response, reduced to what the checks read.
type Answer struct {
	Status   int
	Location string
	HSTS     string // the Strict-Transport-Security header
}

// Check runs every check that applies to the app and returns them in a
// fixed order.
func Check(ev Evidence) []Result {
	var results []Result
	add := func(r Result, ok bool) {
		if ok {
			results = append(results, r)
		}
	}
	add(checkAppReached(ev))
	add(checkScheme(ev))
	if ev.Root != nil {
		add(checkSSLRedirect(ev))
	}
	if ev.Probe.Framework.Name == "django" {
		add(checkProxySSLHeader(ev))
		add(checkAllowedHosts(ev))
		add(checkCSRFOrigin(ev))
		add(checkCSRFTrustedOrigins(ev))
		add(checkForwardedHost(ev))
		add(checkSecureCookies(ev))
		add(checkHSTS(ev))
		add(checkStaticProduction(ev))
		if ev.Direct != nil {
			add(checkDirectRedirect(ev))
		}
	}
	if ev.Probe.Framework.Name == "flask" {
		add(checkProxyFix(ev))
	}
	if s := ev.Probe.Server; s != nil && s.Name == "gunicorn" {
		add(checkForwardedAllowIPs(ev))
		add(checkSchemeHeaders(ev))
		add(checkGatewayExposed(ev))
	}
	return results
}

// Counts returns how many results have each status.
func Counts(results []Result) (fails, warns, passes int) {
	for _, r := range results {
		switch r.Status {
		case Fail:
			fails++
		case Warn:
			warns++
		case Pass:
			passes++
		}
	}
	return
}

// host is the browser's host and port, "localhost:8080".
func (ev Evidence) host() string {
	return strings.TrimPrefix(strings.TrimPrefix(ev.Origin, "https://"), "http://")
}

// hostname is the browser's host without the port.
func (ev Evidence) hostname() string { return hostname(ev.host()) }

// gatewaySaw describes the scheme the gateway passed on, for details.
func (ev Evidence) gatewaySaw() string {
	if s, ok := ev.Probe.Gateway["wsgi.url_scheme"].(string); ok {
		return "wsgi.url_scheme=" + s
	}
	if s, ok := ev.Probe.Gateway["scheme"].(string); ok {
		return "scope scheme " + s
	}
	return "no scheme from the gateway"
}

func quote(v any) string {
	switch v := v.(type) {
	case nil:
		return "not set"
	case string:
		return fmt.Sprintf("%q", v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = quote(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}
