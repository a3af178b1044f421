// Package project works out what a directory is: which framework, which
// Python interpreter, which WSGI/ASGI target, which gateway command, which
// environment, which extra processes and which files to watch.
//
// Everything is read once, by Detect, and returned as a plain value that the
// orchestrator runs and the doctor inspects. The one exception is the
// children's environment: ReadEnv reads the env files and the config's env
// again before every restart, so that an edit to .env takes effect.
package project

import "time"

// Framework is the web framework the app is written with.
type Framework string

// The frameworks Detect recognises.
const (
	Django    Framework = "django"
	Flask     Framework = "flask"
	FastAPI   Framework = "fastapi"
	Starlette Framework = "starlette"
	WSGI      Framework = "wsgi"   // a plain WSGI callable, no known framework
	ASGI      Framework = "asgi"   // a plain ASGI callable, no known framework
	Custom    Framework = "custom" // only a command is known (-- COMMAND or command = …)
)

// Module is the Python module that must be importable for the framework, or
// "" when there is none to check (plain WSGI/ASGI, custom commands).
func (f Framework) Module() string {
	switch f {
	case Django, Flask, FastAPI, Starlette:
		return string(f)
	}
	return ""
}

// Kind is how the gateway talks to the app.
type Kind string

// The kinds of gateway.
const (
	KindWSGI    Kind = "wsgi"    // gunicorn runs a WSGI callable
	KindASGI    Kind = "asgi"    // uvicorn runs an ASGI callable
	KindCommand Kind = "command" // the user's own command listens on the app port
)

// The gateway servers.
const (
	ServerGunicorn = "gunicorn"
	ServerUvicorn  = "uvicorn"
	ServerCommand  = "command"
)

// Project is everything devstack needs to run and check one app.
type Project struct {
	Dir string // absolute project directory: where the config and .env are, what is watched
	// AppDir is the gateway's working directory: Dir, or the directory of a
	// manage.py one level down (backend/, src/…).
	AppDir string
	// PythonPath is a directory, relative to AppDir, that the gateway adds
	// to the import path for Target to import (a src/ layout), "" if none.
	PythonPath string
	// Layout says how the app was found, for the start-up line: "manage.py",
	// "FLASK_APP in .flaskenv", "app/main.py", "flaskr/__init__.py"… ""
	// when the config or a flag named it.
	Layout     string
	ConfigFile string    // devstack.toml or pyproject.toml that was read, "" if none
	Framework  Framework // what the app is written with
	Kind       Kind      // WSGI, ASGI or a custom command

	// Interpreter is the Python that runs the gateway. Its Path is "" only
	// for a custom command when no interpreter could import the framework.
	Interpreter Interpreter

	Target         string // gateway target "pkg.module:callable"; "" for a custom command
	SettingsModule string // Django settings module ("mysite.settings"), "" otherwise
	SettingsFile   string // the settings file that module names, when found on disk
	ManagePy       string // path of manage.py for Django projects
	AppFile        string // the file the target was found in (app.py, mysite/wsgi.py…), when known
	GunicornConfig string // the project's own gunicorn.conf.py (gunicorn reads it from Dir), "" if none

	Server      string   // "gunicorn", "uvicorn" or "command"
	GatewayArgv []string // the production command, {port} already replaced by AppPort
	// GatewayShell is true when a custom command string needed a shell
	// (pipes, &&, $VAR…): GatewayArgv is then ["/bin/sh", "-c", command].
	GatewayShell bool
	GatewayEnv   []string // KEY=VALUE for the gateway only (PORT for custom commands)
	// GatewayFrom is "Procfile:2" when the server and its options came
	// from the Procfile's web line (no server, args or command in the
	// config or the flags, and the line runs the app devstack serves);
	// "" otherwise. GatewayOptions are the options carried over from it
	// (in GatewayArgv too), GatewayDropped the ones devstack decides
	// itself ("--workers", "--bind"), as written there.
	GatewayFrom    string
	GatewayOptions []string
	GatewayDropped []string

	// Env holds KEY=VALUE pairs to add to every child's environment (not
	// devstack's own): the env files, the config's env over them, then
	// PYTHONUNBUFFERED=1,
	// DJANGO_SETTINGS_MODULE when known and the virtualenv's PATH/VIRTUAL_ENV.
	// Variables already set in devstack's environment win over env files and
	// are left out.
	Env      []string
	EnvFiles []string // env files that were read, in order
	// CABundle is true when the children get a CA bundle (the public roots
	// and devstack's CA) through SSL_CERT_FILE and its kin; ca_bundle =
	// false in the config turns it off. Default true.
	CABundle bool
	envPlan  envPlan // how Env was built, for ReadEnv

	// interpreterReq is the interpreter search, for CandidatesWithModule.
	interpreterReq interpreterRequest

	Processes []Process // extra processes from [processes] and Procfile.dev

	Watch WatchRules

	Port    int      // HTTPS proxy port
	AppPort int      // gateway port on Host
	Host    string   // address the gateway binds to
	Hosts   []string // extra host names for the certificate and ALLOWED_HOSTS checks
	Proxy   ProxySettings

	// Warnings are things worth telling the user that do not stop the stack
	// (an ignored Procfile "web" entry, a config setting that has no effect).
	Warnings []string
	// EnvLinesSkipped are the env-file lines devstack could not read and
	// skipped, as python-dotenv does (they are in Warnings too): devstack
	// doctor tells them as well.
	EnvLinesSkipped []string
	// PythonVersionWarnings say that the interpreter chosen is not the
	// Python the project declares, or that a declaration could not be read
	// (they are in Warnings too): devstack doctor tells them as well.
	PythonVersionWarnings []string
}

// Interpreter is the Python chosen to run the gateway, with what it can import.
type Interpreter struct {
	Path    string // as found (a venv's bin/python, a PATH entry); run this one
	Source  string // why it was considered: "--python", "config python", ".venv", "PATH"…
	Version string // Python version, "3.11.2"
	Venv    string // the virtualenv directory when Path belongs to one

	FrameworkModule  string // "django", "flask"… or "" when none is needed
	FrameworkVersion string
	GatewayModule    string // "gunicorn" or "uvicorn", "" for custom commands
	GatewayVersion   string

	// Versions of every module the doctor cares about ("" = not installed).
	DjangoVersion    string
	FlaskVersion     string
	FastAPIVersion   string
	StarletteVersion string
	GunicornVersion  string
	UvicornVersion   string

	// CertifiBundle is certifi's cacert.pem as this interpreter would load
	// it ("" when it has no certifi, or one that names the system's roots).
	CertifiBundle string

	// gaps are the project's declared requirements (requirements*.txt,
	// pyproject.toml) this interpreter does not fulfil.
	gaps []requirementGap

	Tried []Candidate // every candidate checked, in search order
}

// Candidate is one interpreter the search looked at.
type Candidate struct {
	Path    string   // as found
	Source  string   // "--python", "config python", ".venv", "venv", "VIRTUAL_ENV", "PATH"
	Version string   // Python version, "" if it did not run
	Missing []string // required modules it could not import
	Err     string   // why it could not be checked at all (timeout, not executable…)
}

// OK reports whether the candidate can run the app.
func (c Candidate) OK() bool { return c.Err == "" && len(c.Missing) == 0 }

// Process is an extra process that runs beside the gateway (a worker, a
// frontend build watcher).
type Process struct {
	Name    string
	Command string   // the command as written, for display
	Argv    []string // what to execute
	// Shell is true when the command needed a shell (pipes, &&, $VAR…):
	// Argv is then ["/bin/sh", "-c", Command]. This is the one exception to
	// "exec the real command"; signal the process group.
	Shell     bool
	Dir       string   // absolute working directory (the project directory by default)
	Env       []string // KEY=VALUE added on top of Project.Env
	RestartOn []string // globs (relative to Dir of the project) whose changes restart it; empty = never
	Source    string   // "devstack.toml" or "Procfile.dev:3"
}

// WatchRules say which file changes reload the gateway. Patterns are
// slash-separated and relative to the project directory; "**" matches any
// number of directories; a pattern without a slash matches a name at any
// depth (like .gitignore); a trailing slash matches only directories.
type WatchRules struct {
	Include []string // default ["**"]: everything
	Exclude []string // watch.exclude from the config, on top of the watcher's built-in ignores and .gitignore
}

// ProxySettings is the header policy and limits of the HTTPS proxy. The
// proxy always removes what a client sent in the headers it sets itself.
type ProxySettings struct {
	ForwardedProto bool          // X-Forwarded-Proto: https (default true)
	ForwardedFor   bool          // X-Forwarded-For: client address (default true)
	ForwardedHost  bool          // X-Forwarded-Host: the browser's Host (default true)
	ForwardedSSL   bool          // X-Forwarded-Ssl: on (default false; gunicorn reads it as a scheme header)
	RealIP         bool          // X-Real-IP: client address (default false)
	MaxBody        int64         // largest request body in bytes, buffered before the gateway sees it (default 100 MiB)
	HoldTimeout    time.Duration // how long a request waits for a restarting gateway (default 10s)
}
