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

// The statuses, from the most to the least urgent.
const (
	Fail   = events.Fail
	NotRun = events.NotRun
	Warn   = events.Warn
	Info   = events.Info
	Pass   = events.Pass
)

// Statuses lists every status, most urgent first (the report's order).
var Statuses = events.CheckStatuses

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
	// DirectProbe is the probe's report for a request sent straight to the
	// gateway over plain http without any forwarding header; nil when not
	// asked (see CollectDirect).
	DirectProbe *templates.ProbeReport
	// ChainProbe is the probe's report for a request sent straight to the
	// gateway as a chain of two proxies would forward it
	// ("X-Forwarded-Proto: https, http"); nil when not asked.
	ChainProbe *templates.ProbeReport
	// SettingsOverride is the settings module the run was asked to use
	// (doctor --settings), "" for the project's own.
	SettingsOverride string
	// OtherHosts are the verdicts for the project's other host names
	// (devstack.toml's hosts), asked like Probe with that name.
	OtherHosts []HostVerdict
	// Headers are the forwarding headers the proxy sets (canonical names,
	// e.g. "X-Forwarded-Proto").
	Headers []string
	// Dir is the project's directory, for the checks that read files the
	// app does not load (nginx-config); "" leaves them out.
	Dir string
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
// fixed order. For Django, each result names the settings module evaluated
// and, where one setting decides it, the file and line it is set at.
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
	add(checkClientAddress(ev))
	add(checkSchemeForced(ev))
	add(checkProtoChain(ev))
	if ev.Probe.Framework.Name == "django" {
		add(checkProxySSLHeader(ev))
		add(checkAllowedHosts(ev))
		add(checkCSRFOrigin(ev))
		add(checkCSRFTrustedOrigins(ev))
		add(checkForwardedHost(ev))
		add(checkForwardedPort(ev))
		add(checkSecureCookies(ev))
		add(checkHSTS(ev))
		add(checkStaticProduction(ev))
		add(checkStaticPublishesCode(ev))
		add(checkDirectRedirect(ev))
	}
	if ev.Probe.Framework.Name == "flask" {
		add(checkProxyFix(ev))
	}
	if s := ev.Probe.Server; s != nil {
		add(checkForwardedAllowIPs(ev))
		if s.Name == "gunicorn" {
			add(checkSchemeHeaders(ev))
			add(checkGatewayExposed(ev))
			add(checkUvicornWorker(ev))
		}
	}
	add(checkNginxConfig(ev))
	if ev.Probe.Framework.Name == "django" {
		for i := range results {
			ev.locate(&results[i])
			ev.judgeForDevelopment(&results[i])
		}
	}
	return results
}

// productionConcerns are checks about what production serves, not what
// breaks here: in development settings (DEBUG on, the project's own module
// rather than one asked for with --settings) they are advice for the
// production settings, not warnings; a warning that fires on every
// correctly configured project teaches users to ignore warnings.
var productionConcerns = map[string]bool{IDStaticProduction: true}

func (ev Evidence) judgeForDevelopment(r *Result) {
	if r.Status == Warn && productionConcerns[r.ID] && ev.debug() && ev.SettingsOverride == "" {
		r.Status = Info
		r.Summary += " (these are development settings, DEBUG on: production's settings must take care of it)"
	}
}

// Counts returns how many results failed, warned and passed.
func Counts(results []Result) (fails, warns, passes int) {
	t := Tally(results)
	return t[Fail], t[Warn], t[Pass]
}

// Tally counts the results of each status.
func Tally(results []Result) map[Status]int {
	t := make(map[Status]int, len(Statuses))
	for _, s := range Statuses {
		t[s] = 0
	}
	for _, r := range results {
		t[r.Status]++
	}
	return t
}

// Shown keeps the results a report shows: everything with all, otherwise
// everything but hardening advice (Info).
func Shown(results []Result, all bool) []Result {
	if all {
		return results
	}
	var out []Result
	for _, r := range results {
		if r.Status != Info {
			out = append(out, r)
		}
	}
	return out
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
		if strings.ContainsAny(s, ", ") || s == "" {
			return fmt.Sprintf("scope scheme %q", s) // as uvicorn copied X-Forwarded-Proto
		}
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
