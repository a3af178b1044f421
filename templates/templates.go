// Package templates holds the Python files devstack runs inside the app's own
// interpreter: the gunicorn configuration wrapper, the probe shim that
// reports what the framework sees, and the uvicorn entry point that installs
// it. They are real .py files, embedded at build time and written to a
// per-run directory with WriteTo.
package templates

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
)

//go:embed *.py
var files embed.FS

// The files WriteTo writes.
const (
	// GunicornConf is passed to gunicorn with -c. It loads the project's
	// own gunicorn.conf.py (EnvProjectGunicornConf), pre-imports framework
	// modules in the master (EnvPreimport), installs the probe in each
	// worker and prints the Marker lines.
	GunicornConf = "devstack_gunicorn_conf.py"
	// Probe is the probe shim, imported by the other two files.
	Probe = "devstack_probe.py"
	// ASGIEntry is the module uvicorn is pointed at (ASGIApp) instead of the
	// project's app, which it imports (EnvASGIApp) and wraps with the probe.
	ASGIEntry = "devstack_asgi.py"
	// SettingsReader tells where a Django settings module sets each trust
	// setting, following `from .base import *`, without running it; the
	// probe uses it, and it runs as a script for a module that cannot be
	// imported.
	SettingsReader = "devstack_settings.py"
	// UvicornSupervisor is run with `python -m` (UvicornModule) in place of
	// `python -m uvicorn`, with the project's uvicorn arguments: it keeps a
	// standby process for reloads (EnvGatewayControl) and prints the Marker
	// lines, as GunicornConf does for gunicorn.
	UvicornSupervisor = "devstack_uvicorn.py"
	// Fork holds what the gunicorn workers and the uvicorn processes do
	// after a fork: pre-fault memory, die with their parent.
	Fork = "devstack_fork.py"
)

// UvicornModule is the module name of UvicornSupervisor, for `python -m`.
const UvicornModule = "devstack_uvicorn"

// ASGIApp is the uvicorn app argument that serves the project's ASGI app
// through ASGIEntry; the per-run directory must be on PYTHONPATH.
const ASGIApp = "devstack_asgi:app"

// Environment variables the Python files read.
const (
	// EnvProbePath is the per-run secret path the probe answers (see
	// NewProbePath). Unset, the probe is not installed.
	EnvProbePath = "DEVSTACK_PROBE_PATH"
	// EnvProjectGunicornConf is the project's gunicorn.conf.py, if it has
	// one; GunicornConf takes its settings and hooks over unchanged.
	EnvProjectGunicornConf = "DEVSTACK_PROJECT_GUNICORN_CONF"
	// EnvGatewayArgsFrom names where the gateway's own options on its
	// command line came from ("Procfile:2"), so the probe reports a trust
	// list set there by that line; unset, it reports "command line".
	EnvGatewayArgsFrom = "DEVSTACK_GATEWAY_ARGS_FROM"
	// EnvPreimport is a comma-separated list of modules the gunicorn master
	// imports before forking workers (see DjangoPreimport).
	EnvPreimport = "DEVSTACK_PREIMPORT"
	// EnvPreimportLearned is a file where each gunicorn worker writes the
	// library modules it imported and from which the master pre-imports
	// them once a worker reports it booted (and at every configuration
	// load), skipping any that reads Django's settings. Unset, nothing is
	// learned.
	EnvPreimportLearned = "DEVSTACK_PREIMPORT_LEARNED"
	// EnvGatewayControl is the path of the FIFO the gunicorn master (or the
	// uvicorn supervisor) creates for reload requests: a line written there
	// followed by SIGWINCH to the master brings up a new generation through
	// the standby worker (see GunicornConf and UvicornSupervisor). Unset,
	// gunicorn reloads are SIGHUPs and uvicorn reloads are restarts.
	EnvGatewayControl = "DEVSTACK_GATEWAY_CONTROL"
	// EnvGatewayMarkers is the number of the file descriptor GunicornConf
	// writes its Marker lines to: a pipe devstack reads apart from the
	// gateway's output, so nothing the app prints can pass for a marker.
	// Unset, the markers go to stderr (for running the wrapper by hand).
	EnvGatewayMarkers = "DEVSTACK_GATEWAY_MARKER_FD"
	// EnvASGIApp is the project's ASGI app as "module:attribute".
	EnvASGIApp = "DEVSTACK_ASGI_APP"
)

// DjangoPreimport are the Django modules worth importing in the gunicorn
// master: together they are most of a worker's start-up cost (on the sample
// site a cold worker spent 0.9 s importing the app, 0.1 s with these loaded),
// and none of them reads the project's settings. Modules that do (e.g.
// django.contrib.auth.middleware) must stay out: settings loaded in the
// master would survive a reload.
var DjangoPreimport = []string{
	"django.core.handlers.wsgi",
	"django.core.handlers.asgi",
	"django.contrib.admin",
	"django.contrib.sessions.middleware",
	"django.contrib.messages.middleware",
	"django.contrib.staticfiles.handlers",
	"django.middleware.security",
	"django.middleware.common",
	"django.middleware.csrf",
	"django.middleware.clickjacking",
	"django.db.backends.sqlite3.base",
}

// FlaskPreimport are the Flask modules worth importing in the gunicorn master.
var FlaskPreimport = []string{"flask", "werkzeug.middleware.proxy_fix"}

// StarlettePreimport are the Starlette modules worth importing in the uvicorn
// supervisor; a module that is not installed is skipped.
var StarlettePreimport = []string{
	"starlette.applications", "starlette.routing", "starlette.responses",
	"starlette.requests", "starlette.middleware", "starlette.staticfiles",
	"starlette.templating", "jinja2",
}

// FastAPIPreimport are the FastAPI modules worth importing in the uvicorn
// supervisor: on the sample app, importing fastapi and pydantic is most of a
// cold start.
var FastAPIPreimport = append([]string{
	"fastapi", "fastapi.routing", "fastapi.responses", "fastapi.templating",
	"fastapi.staticfiles", "fastapi.middleware", "pydantic",
}, StarlettePreimport...)

// Names lists the files WriteTo writes.
func Names() []string {
	return []string{GunicornConf, Probe, ASGIEntry, Static, UvicornSupervisor, Fork, SettingsReader}
}

// WriteTo writes every file into dir (created if needed), readable by all
// and writable by the owner, replacing older copies.
func WriteTo(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the helper directory: %w", err)
	}
	for _, name := range Names() {
		data, err := files.ReadFile(name)
		if err != nil {
			return fmt.Errorf("reading embedded %s: %w", name, err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		// WriteFile keeps the mode of an existing file.
		if err := os.Chmod(path, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}
