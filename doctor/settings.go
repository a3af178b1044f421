package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/devstack-dev/devstack/templates"
)

// settingOf is the Django setting that decides each check, for the file and
// line its result names.
var settingOf = map[string]string{
	IDScheme:             "SECURE_PROXY_SSL_HEADER",
	IDProxySSLHeader:     "SECURE_PROXY_SSL_HEADER",
	IDSSLRedirectLoop:    "SECURE_SSL_REDIRECT",
	IDDirectRedirect:     "SECURE_SSL_REDIRECT",
	IDAllowedHosts:       "ALLOWED_HOSTS",
	IDCSRFOrigin:         "CSRF_TRUSTED_ORIGINS",
	IDCSRFTrustedOrigins: "CSRF_TRUSTED_ORIGINS",
	IDForwardedHost:      "USE_X_FORWARDED_HOST",
	IDForwardedPort:      "USE_X_FORWARDED_PORT",
	IDSecureCookies:      "SESSION_COOKIE_SECURE",
	IDHSTS:               "SECURE_HSTS_SECONDS",
	IDProtoChain:         "SECURE_PROXY_SSL_HEADER",
}

// settingsModule is the Django settings module the app ran with.
func (ev Evidence) settingsModule() string {
	if m, _ := ev.Probe.Settings["SETTINGS_MODULE"].(string); m != "" {
		return m
	}
	if s := ev.Probe.SettingsSources; s != nil {
		return s.Module
	}
	return ""
}

// where is the file and line the running settings module sets name at, or
// the module's own file when it does not set it.
func (ev Evidence) where(name string) string {
	s := ev.Probe.SettingsSources
	if s == nil {
		return ""
	}
	if src, ok := s.Settings[name]; ok {
		return src.Where()
	}
	if name == "SECURE_PROXY_SSL_HEADER" {
		return ev.sharedSettingsFile()
	}
	return s.File
}

// sharedSettingsFile is where a setting every environment needs belongs:
// the file both the running module and production's import (base.py in
// cookiecutter-django's layout), else the running module's own file.
func (ev Evidence) sharedSettingsFile() string {
	s := ev.Probe.SettingsSources
	if s == nil {
		return ""
	}
	if prod := ev.production(); prod != nil {
		for _, f := range s.Files {
			if f != s.File && slices.Contains(prod.Files, f) {
				return f
			}
		}
	}
	return s.File
}

// settingsFile names the file a missing setting belongs in, for fixes
// ("in config/settings/local.py: …").
func (ev Evidence) settingsFile() string {
	if s := ev.Probe.SettingsSources; s != nil && s.File != "" {
		return s.File
	}
	return "your settings module"
}

// locate fills in a Django result's module and, unless the check set it,
// the place of the setting that decides it.
func (ev Evidence) locate(r *Result) {
	if r.Module == "" {
		r.Module = ev.settingsModule()
	}
	if r.Where == "" {
		if name, ok := settingOf[r.ID]; ok {
			r.Where = ev.where(name)
		}
	}
}

// debug reports whether the running settings have DEBUG on: local
// development settings, not production's.
func (ev Evidence) debug() bool {
	v, _ := ev.Probe.Settings["DEBUG"].(bool)
	return v
}

// production is the production settings module read beside the running
// one (nil when the app runs production's, or there is none).
func (ev Evidence) production() *templates.SettingsModule {
	if s := ev.Probe.SettingsSources; s != nil && s.Production != nil && s.Production.Error == "" {
		return s.Production
	}
	return nil
}

// checkSecureCookies: session and CSRF cookies must be Secure where the
// site is public. That is production's concern: local settings (DEBUG on)
// are judged by the production module beside them when there is one, and
// otherwise get advice only.
func checkSecureCookies(ev Evidence) (Result, bool) {
	names := []string{"SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"}
	r := Result{ID: IDSecureCookies}
	if prod := ev.production(); prod != nil && ev.debug() {
		r.Module = prod.Module
		var missing, unknown []string
		for _, name := range names {
			src, set := prod.Settings[name]
			v, known := src.Known()
			switch {
			case !set:
				missing = append(missing, name)
			case !known:
				unknown = append(unknown, fmt.Sprintf("%s = %s (%s)", name, src.Expr, src.Where()))
			case v != true:
				missing = append(missing, name)
				r.Where = src.Where()
			}
		}
		switch {
		case len(missing) > 0:
			r.Status = Warn
			r.Summary = fmt.Sprintf("production settings (%s) leave %s off: browsers will send those cookies over plain http",
				prod.Module, strings.Join(missing, " and "))
			if r.Where == "" {
				r.Where = prod.File
			}
			r.Fix = fmt.Sprintf("in %s: %s = True", prod.File, strings.Join(missing, " = True and "))
		case len(unknown) > 0:
			r.Status, r.Summary = Info, "production settings ("+prod.Module+") compute the Secure cookie settings; devstack cannot tell their value without production's environment"
			r.Detail = strings.Join(unknown, "; ")
			r.Fix = "check them with the production environment: devstack doctor --settings " + prod.Module
		default:
			r.Status, r.Summary = Pass, "production settings ("+prod.Module+") mark session and CSRF cookies Secure"
			r.Where = prod.Settings["SESSION_COOKIE_SECURE"].Where()
		}
		return r, true
	}
	var missing []string
	for _, name := range names {
		if v, _ := ev.Probe.Settings[name].(bool); !v {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		r.Status, r.Summary = Pass, "session and CSRF cookies are Secure"
		return r, true
	}
	r.Fix = fmt.Sprintf("set %s = True in the settings production runs", strings.Join(missing, " = True and "))
	if ev.debug() && ev.SettingsOverride == "" {
		// Development settings: cookies without Secure are what runserver
		// needs; production's settings are where this matters.
		r.Status = Info
		r.Summary = fmt.Sprintf("%s not True in these development settings (DEBUG on); production's settings must set them", strings.Join(missing, " and "))
		return r, true
	}
	r.Status = Warn
	r.Summary = fmt.Sprintf("%s not True with DEBUG off: browsers will send those cookies over plain http", strings.Join(missing, " and "))
	r.Fix = fmt.Sprintf("in %s: %s = True", ev.settingsFile(), strings.Join(missing, " = True and "))
	return r, true
}

// checkForwardedPort: with USE_X_FORWARDED_PORT Django takes the port from
// X-Forwarded-Port, which neither this proxy nor Caddy or nginx send by
// default; request.get_port() then says the gateway's port.
func checkForwardedPort(ev Evidence) (Result, bool) {
	if on, _ := ev.Probe.Settings["USE_X_FORWARDED_PORT"].(bool); !on {
		return Result{}, false
	}
	_, browserPort, _ := strings.Cut(ev.host(), ":")
	r := Result{ID: IDForwardedPort, Detail: fmt.Sprintf("USE_X_FORWARDED_PORT = True; request.get_port() is %q, the browser's port is %s; the proxy sends %s",
		ev.Probe.Port, browserPort, strings.Join(ev.Headers, ", "))}
	if ev.Probe.Port == browserPort || ev.Probe.Port == "" {
		r.Status, r.Summary = Pass, "Django takes the port from X-Forwarded-Port, and it is the browser's"
		r.Fix = "keep X-Forwarded-Port set by every proxy in front (nginx: proxy_set_header X-Forwarded-Port $server_port)"
		return r, true
	}
	r.Status = Warn
	r.Summary = fmt.Sprintf("USE_X_FORWARDED_PORT = True but no proxy sends X-Forwarded-Port: Django's request.get_port() is the gateway's %s, not the browser's %s",
		ev.Probe.Port, browserPort)
	r.Fix = "remove USE_X_FORWARDED_PORT: the Host header already carries the browser's port (nginx sends X-Forwarded-Port only " +
		"with proxy_set_header X-Forwarded-Port $server_port, and devstack's proxy, like Caddy, never does)"
	return r, true
}

// djangoLiveChecks are the checks that need the app's answer, in report
// order.
var djangoLiveChecks = []string{IDScheme, IDSSLRedirectLoop, IDClientAddress, IDSchemeForced, IDProtoChain,
	IDAllowedHosts, IDCSRFOrigin, IDCSRFTrustedOrigins, IDForwardedPort, IDStaticProduction, IDDirectRedirect, IDForwardedAllowIPs}

// CheckWithoutApp is the report for a Django settings module the app does
// not start with (doctor --settings with production's module, whose
// variables exist only in production): every check that needs the app
// could not run, for reason; those the settings files answer
// (SECURE_PROXY_SSL_HEADER's form, Secure cookies, HSTS,
// USE_X_FORWARDED_HOST, and CSRF_TRUSTED_ORIGINS when djangoVersion, the
// Django that reads them, is known) are judged from static, what the files
// set, when it is not nil. origin is where the browser would be.
func CheckWithoutApp(module, reason string, static *templates.SettingsModule, djangoVersion, origin string) []Result {
	var results []Result
	notRun := func(id string) {
		results = append(results, Result{ID: id, Status: NotRun, Module: module, Summary: "could not run: " + reason,
			Fix: "give the app what " + module + " needs to start (the modules it imports, the variables it reads), " +
				"then run devstack doctor --settings " + module + " again"})
	}
	if static == nil || static.Error != "" {
		for _, id := range []string{IDProxySSLHeader, IDSecureCookies, IDHSTS} {
			if static == nil {
				notRun(id)
				continue
			}
			// Judged from the files, which could not be read: that, not
			// the app's error, is why.
			results = append(results, Result{ID: id, Status: NotRun, Module: module, Where: static.File,
				Summary: "could not run: the settings files could not be read: " + static.Error,
				Detail:  "read from " + strings.Join(static.Files, ", ") + " without running them",
				Fix: "fix the error, or, for syntax of a newer Python than the one devstack runs, choose the Python the project is written for " +
					"(devstack doctor --python PATH, or python in devstack.toml)"})
		}
		for _, id := range djangoLiveChecks {
			notRun(id)
		}
		return results
	}
	settings := map[string]any{}
	for name, src := range static.Settings {
		if v, ok := src.Known(); ok {
			settings[name] = v
		}
	}
	ev := Evidence{SettingsOverride: module, Origin: origin, Probe: templates.ProbeReport{
		Framework: templates.ProbeFramework{Name: "django", Version: djangoVersion}, Settings: settings, SettingsSources: static}}
	ev.Probe.Settings["SETTINGS_MODULE"] = module
	fromFiles := func(r Result, ok bool) {
		if !ok {
			return
		}
		r.Detail = strings.TrimPrefix(r.Detail+"; read from "+strings.Join(static.Files, ", ")+" without running them (the app did not start)", "; ")
		ev.locate(&r)
		results = append(results, r)
	}
	_, originsKnown := settings["CSRF_TRUSTED_ORIGINS"]
	originsFromFiles := originsKnown && djangoMajor(ev) > 0
	for _, id := range djangoLiveChecks {
		if id == IDCSRFTrustedOrigins && originsFromFiles {
			fromFiles(checkCSRFTrustedOrigins(ev))
			continue
		}
		notRun(id)
	}
	src, set := static.Settings["SECURE_PROXY_SSL_HEADER"]
	value, known := src.Known()
	if !set || known && value == nil { // None is Django's default: not set
		r := Result{ID: IDProxySSLHeader, Status: Warn, Module: module, Where: static.File,
			Summary: "SECURE_PROXY_SSL_HEADER is not set: Django takes the scheme from the gateway alone",
			Fix:     "in " + static.File + ": " + djangoProxyHeaderSetup}
		fromFiles(r, true)
	} else if known {
		ev.Probe.Scheme = "https" // the form is judged, not the outcome
		fromFiles(checkProxySSLHeader(ev))
	} else {
		notRun(IDProxySSLHeader)
	}
	if _, ok := ev.Probe.Settings["DEBUG"]; !ok {
		ev.Probe.Settings["DEBUG"] = false // Django's default
	}
	fromFiles(checkSecureCookies(ev))
	fromFiles(checkHSTS(ev))
	fromFiles(checkForwardedHost(ev))
	return results
}
