package templates

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// ProbePathPrefix starts every probe path.
const ProbePathPrefix = "/.devstack/probe/"

// NewProbePath returns a fresh secret path for EnvProbePath: the prefix and
// 128 random bits, so no one who does not read devstack's environment can
// reach the probe.
func NewProbePath() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating the probe path: %w", err)
	}
	return ProbePathPrefix + hex.EncodeToString(b[:]), nil
}

// ProbeReport is the probe's JSON answer: what the gateway passed on and
// what the framework made of it. Send the probe request through the proxy
// with the Origin and Referer a browser would send when submitting a form of
// the site, so that the CSRF verdict answers for such a form.
type ProbeReport struct {
	Probe      int    `json:"probe"`      // format version, 1
	PID        int    `json:"pid"`        // the worker that answered
	Generation int    `json:"generation"` // gunicorn only; 0 under uvicorn
	Python     string `json:"python"`

	Server *ProbeServer `json:"server"` // nil when unknown

	// Gateway is the WSGI environ (wsgi.url_scheme, REMOTE_ADDR, HTTP_HOST…)
	// or ASGI scope (scheme, client, server) before any app middleware.
	Gateway map[string]any `json:"gateway"`
	// Headers are the forwarding-related request headers the app received
	// (host, x-forwarded-*, forwarded, origin, referer), names in lower case.
	Headers map[string]string `json:"headers"`

	// ReachedFramework is false when the request never got to the
	// framework's handler; the fields below are then the gateway's view and
	// AppResponse says what the app answered instead.
	ReachedFramework bool            `json:"reached_framework"`
	AppResponse      *ProbeAppAnswer `json:"app_response,omitempty"`

	Framework   ProbeFramework `json:"framework"`
	Scheme      string         `json:"scheme"`
	IsSecure    *bool          `json:"is_secure"`              // nil if the scheme could not be decided
	SchemeError string         `json:"scheme_error,omitempty"` // Django's ImproperlyConfigured message
	Host        string         `json:"host"`
	HostError   string         `json:"host_error,omitempty"` // Django's DisallowedHost message
	RemoteAddr  string         `json:"remote_addr"`
	AbsoluteURL string         `json:"absolute_url"` // the site root as the app would link to it

	CSRF       *ProbeCSRF       `json:"csrf,omitempty"`       // Django only
	Settings   map[string]any   `json:"settings,omitempty"`   // Django's trust-related settings
	Middleware []map[string]any `json:"middleware,omitempty"` // Flask: WSGI middleware, outermost first
	Static     *StaticReport    `json:"static,omitempty"`     // Django: where static and media files are
	// Port is Django's request.get_port() (X-Forwarded-Port with
	// USE_X_FORWARDED_PORT, else the gateway's SERVER_PORT); "" elsewhere.
	Port string `json:"port,omitempty"`

	// SettingsSources says where the Django settings module sets each trust
	// setting (following `from .base import *`) and, when the project has
	// one beside it, what its production module sets (Django only).
	SettingsSources *SettingsModule `json:"settings_sources,omitempty"`
}

// SettingsModule is a Django settings module read without running it
// (templates/devstack_settings.py).
type SettingsModule struct {
	Module string   `json:"module"`
	File   string   `json:"file"`  // relative to the project when inside it
	Files  []string `json:"files"` // the module's file, then each star-imported one
	// Settings are the trust settings the module sets, by name.
	Settings map[string]SettingSource `json:"settings"`
	Error    string                   `json:"error"` // why the module could not be read
	// Production is the production module beside this one
	// ("config.settings.production" beside "config.settings.local").
	Production *SettingsModule `json:"production,omitempty"`
}

// SettingSource is one assignment of a setting.
type SettingSource struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Expr string `json:"expr"` // the assigned expression as written
	// Value is the literal assigned (or the literal default of an
	// environment lookup); absent when it is computed.
	Value json.RawMessage `json:"value,omitempty"`
}

// Where is "file:line".
func (s SettingSource) Where() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// Known reports whether the value is known without running the module,
// and decodes it.
func (s SettingSource) Known() (any, bool) {
	if len(s.Value) == 0 {
		return nil, false
	}
	var v any
	if err := json.Unmarshal(s.Value, &v); err != nil {
		return nil, false
	}
	return v, true
}

// ProbeServer describes the gateway process. The trust fields are gunicorn's
// effective configuration (nil under uvicorn, whose settings are its argv).
type ProbeServer struct {
	Name                string            `json:"name"` // "gunicorn" or "uvicorn"
	Version             string            `json:"version"`
	WorkerClass         string            `json:"worker_class,omitempty"`
	Workers             int               `json:"workers,omitempty"`
	ProcName            string            `json:"proc_name,omitempty"`
	Bind                []string          `json:"bind,omitempty"`
	ForwardedAllowIPs   []string          `json:"forwarded_allow_ips,omitempty"`
	SecureSchemeHeaders map[string]string `json:"secure_scheme_headers,omitempty"`
	ProxyAllowIPs       []string          `json:"proxy_allow_ips,omitempty"`
	ProjectConfig       string            `json:"project_config,omitempty"` // the project's gunicorn.conf.py
	// ForwardedAllowIPsSource is where the trust list came from: the
	// project's config file and line ("gunicorn.conf.py:3"), "command line",
	// the Procfile's web line devstack carried it over from ("Procfile:2"),
	// "FORWARDED_ALLOW_IPS" (the environment) or "default".
	ForwardedAllowIPsSource string `json:"forwarded_allow_ips_source,omitempty"`
	// ProjectSettings are the trust settings the project's gunicorn.conf.py
	// sets itself (bind, forwarded_allow_ips…): what production runs with.
	ProjectSettings map[string]SettingSource `json:"project_settings,omitempty"`
	// ProxyHeaders is uvicorn's --proxy-headers (nil under gunicorn).
	ProxyHeaders *bool `json:"proxy_headers,omitempty"`
	// ProxyHeadersSource is where uvicorn's --proxy-headers or
	// --no-proxy-headers was given: "command line", or the Procfile's web
	// line devstack carried it over from ("Procfile:2"); "" when neither
	// was (uvicorn's default).
	ProxyHeadersSource string `json:"proxy_headers_source,omitempty"`
	// Uvicorn is the uvicorn layer under gunicorn's UvicornWorker.
	Uvicorn *ProbeUvicorn `json:"uvicorn,omitempty"`
}

// ProbeUvicorn is uvicorn's own trust configuration under UvicornWorker.
type ProbeUvicorn struct {
	Version           string   `json:"version"`
	ProxyHeaders      bool     `json:"proxy_headers"`
	ForwardedAllowIPs []string `json:"forwarded_allow_ips"`
}

// ProbeFramework names the framework that answered: "django", "flask",
// "starlette", "fastapi", or "wsgi"/"asgi" when none was reached.
type ProbeFramework struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// ProbeCSRF is Django's CSRF middleware verdict on a POST carrying the probe
// request's Origin and Referer.
type ProbeCSRF struct {
	MiddlewareEnabled bool   `json:"middleware_enabled"`
	Origin            string `json:"origin"`
	Referer           string `json:"referer"`
	// Checked is the check that decided: "origin" (Django 4.0+ with an
	// Origin header), "referer" (https requests otherwise) or "token-only".
	Checked string `json:"checked"`
	OK      bool   `json:"ok"`
	Reason  string `json:"reason"` // Django's own 403 reason when !OK
}

// ProbeAppAnswer is the app's response to a probe that never reached the
// framework (e.g. a middleware's 400).
type ProbeAppAnswer struct {
	Status int    `json:"status"` // 0 if the app sent no response
	Body   string `json:"body"`   // the first 300 bytes
	Error  string `json:"error"`  // the exception the app raised, if any
}
