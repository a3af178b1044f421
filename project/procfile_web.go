package project

import (
	"fmt"
	"path/filepath"
	"strings"
)

// This file reads the Procfile's web line (Heroku's, Render's, Dokku's)
// as production runs it: which server, which app, and the options that
// decide how the app sees a forwarded request. devstack carries those
// over to the gateway it runs; the options that say where and how many
// processes listen are devstack's own and are dropped.

// webLine is the gunicorn or uvicorn command of a Procfile's web line.
type webLine struct {
	Source  string   // "Procfile:2"
	Server  string   // ServerGunicorn or ServerUvicorn
	Target  string   // the app as written: "main:app", "wsgi" ("" when absent)
	Chdir   string   // gunicorn's --chdir
	PathDir string   // gunicorn's --pythonpath, uvicorn's --app-dir
	Kept    []string // options carried over, each "--flag" or "--flag=value" (value not yet expanded)
	Dropped []string // options devstack decides itself, as written: "--workers", "--bind"
	Unknown []string // options devstack does not know, left out
}

// webOption is how devstack treats one option of gunicorn or uvicorn.
type webOption struct {
	value bool // takes a value: "--flag value", "--flag=value", "-fvalue"
	keep  bool // carried over to the gateway
}

var (
	keepValue = webOption{value: true, keep: true}
	keepFlag  = webOption{keep: true}
	dropValue = webOption{value: true}
	dropFlag  = webOption{}
)

// gunicornOptions are gunicorn's options (its settings' command-line
// names). Kept: the worker class and its concurrency, the trust lists,
// the PROXY protocol, the config file, the app's environment, limits and
// timeouts. Dropped: bind, workers, reloading, daemon and pid, log files,
// privileges, TLS (devstack's proxy terminates it), worker recycling,
// preloading (devstack decides how code is loaded and reloaded), and
// --chdir/--pythonpath, which devstack turns into its own import path.
var gunicornOptions = map[string]webOption{
	"-k": keepValue, "--worker-class": keepValue, "--threads": keepValue, "--worker-connections": keepValue,
	"--forwarded-allow-ips": keepValue, "--proxy-allow-from": keepValue, "--proxy-protocol": keepFlag,
	"--forwarder-headers": keepValue, "--header-map": keepValue, "--strip-header-spaces": keepFlag,
	"-c": keepValue, "--config": keepValue, "-e": keepValue, "--env": keepValue,
	"-t": keepValue, "--timeout": keepValue, "--graceful-timeout": keepValue, "--keep-alive": keepValue,
	"--limit-request-line": keepValue, "--limit-request-fields": keepValue, "--limit-request-field_size": keepValue,
	"--permit-unconventional-http-method": keepFlag, "--permit-unconventional-http-version": keepFlag,
	"--casefold-http-method": keepFlag, "--permit-obsolete-folding": keepFlag,
	"-n": keepValue, "--name": keepValue, "--log-level": keepValue, "--access-logformat": keepValue,
	"--capture-output": keepFlag, "-R": keepFlag, "--enable-stdio-inheritance": keepFlag, "--no-sendfile": keepFlag,

	"-b": dropValue, "--bind": dropValue, "-w": dropValue, "--workers": dropValue, "--backlog": dropValue,
	"--reuse-port": dropFlag, "--reload": dropFlag, "--reload-engine": dropValue, "--reload-extra-file": dropValue,
	"--preload": dropFlag, "-D": dropFlag, "--daemon": dropFlag, "-p": dropValue, "--pid": dropValue,
	"--max-requests": dropValue, "--max-requests-jitter": dropValue, "--worker-tmp-dir": dropValue,
	"--log-file": dropValue, "--access-logfile": dropValue, "--error-logfile": dropValue, "--log-config": dropValue,
	"--log-config-json": dropValue, "--log-syslog": dropFlag, "--log-syslog-to": dropValue, "--log-syslog-prefix": dropValue,
	"--log-syslog-facility": dropValue, "--statsd-host": dropValue, "--statsd-prefix": dropValue, "--dogstatsd-tags": dropValue,
	"-u": dropValue, "--user": dropValue, "-g": dropValue, "--group": dropValue, "-m": dropValue, "--umask": dropValue,
	"--initgroups": dropFlag, "--keyfile": dropValue, "--certfile": dropValue, "--ca-certs": dropValue,
	"--ssl-version": dropValue, "--cert-reqs": dropValue, "--ciphers": dropValue, "--do-handshake-on-connect": dropFlag,
	"--suppress-ragged-eofs": dropFlag, "--check-config": dropFlag, "--print-config": dropFlag, "--spew": dropFlag,
	"--paste": dropValue, "--paster": dropValue, "--chdir": dropValue, "--pythonpath": dropValue,
}

// uvicornOptions are uvicorn's options. Kept: proxy headers and their
// trust list, the root path, the app's env file, the protocol choices,
// headers, limits and timeouts, --factory. Dropped: host, port, socket,
// reloading, workers, TLS, backlog, worker recycling, the logging config,
// and --app-dir, which devstack turns into its own import path.
var uvicornOptions = map[string]webOption{
	"--proxy-headers": keepFlag, "--no-proxy-headers": keepFlag, "--forwarded-allow-ips": keepValue,
	"--root-path": keepValue, "--env-file": keepValue, "--factory": keepFlag,
	"--server-header": keepFlag, "--no-server-header": keepFlag, "--date-header": keepFlag, "--no-date-header": keepFlag,
	"-H": keepValue, "--header": keepValue, "--lifespan": keepValue, "--interface": keepValue,
	"--http": keepValue, "--ws": keepValue, "--loop": keepValue, "--ws-max-size": keepValue, "--ws-max-queue": keepValue,
	"--ws-ping-interval": keepValue, "--ws-ping-timeout": keepValue, "--ws-per-message-deflate": keepValue,
	"--limit-concurrency": keepValue, "--timeout-keep-alive": keepValue, "--timeout-graceful-shutdown": keepValue,
	"--h11-max-incomplete-event-size": keepValue, "--log-level": keepValue,
	"--access-log": keepFlag, "--no-access-log": keepFlag, "--use-colors": keepFlag, "--no-use-colors": keepFlag,

	"--host": dropValue, "--port": dropValue, "--uds": dropValue, "--fd": dropValue, "--workers": dropValue,
	"--reload": dropFlag, "--reload-dir": dropValue, "--reload-include": dropValue, "--reload-exclude": dropValue,
	"--reload-delay": dropValue, "--backlog": dropValue, "--limit-max-requests": dropValue, "--log-config": dropValue,
	"--ssl-keyfile": dropValue, "--ssl-certfile": dropValue, "--ssl-keyfile-password": dropValue, "--ssl-version": dropValue,
	"--ssl-cert-reqs": dropValue, "--ssl-ca-certs": dropValue, "--ssl-ciphers": dropValue, "--app-dir": dropValue,
}

// parseWebLine reads the words of a web line: the first word that is
// gunicorn or uvicorn (after "python -m", "newrelic-admin run-program"
// or any other wrapper) starts the server's command, which ends at a
// shell operator. ok is false when the line runs neither server.
func parseWebLine(argv []string) (w webLine, ok bool) {
	server := -1
	for i, a := range argv {
		if b := filepath.Base(a); b == ServerGunicorn || b == ServerUvicorn {
			server = i
			break
		}
	}
	if server < 0 {
		return webLine{}, false
	}
	w.Server = filepath.Base(argv[server])
	options := gunicornOptions
	if w.Server == ServerUvicorn {
		options = uvicornOptions
	}
	for i := server + 1; i < len(argv); i++ {
		a := argv[i]
		if shellOperator(a) {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			if w.Target == "" {
				w.Target = a
			}
			continue
		}
		name, value, hasValue := splitOption(a, options)
		opt, known := options[name]
		if known && opt.value && !hasValue && i+1 < len(argv) && !shellOperator(argv[i+1]) {
			i++
			value, hasValue = argv[i], true
		}
		switch {
		case !known:
			w.Unknown = append(w.Unknown, a)
		case name == "--chdir":
			w.Chdir = value
		case name == "--pythonpath" || name == "--app-dir":
			w.PathDir = value
		case !opt.keep:
			w.Dropped = append(w.Dropped, name)
		case opt.value:
			w.Kept = append(w.Kept, name+"="+value)
		default:
			w.Kept = append(w.Kept, name)
		}
	}
	return w, true
}

// splitOption splits "--flag=value" and "-fvalue" (a short option with
// its value joined, as argparse and click accept).
func splitOption(a string, options map[string]webOption) (name, value string, hasValue bool) {
	if strings.HasPrefix(a, "--") {
		return strings.Cut(a, "=")
	}
	if len(a) > 2 {
		if opt, ok := options[a[:2]]; ok && opt.value {
			return a[:2], strings.TrimPrefix(a[2:], "="), true
		}
	}
	return a, "", false
}

func shellOperator(word string) bool {
	switch word {
	case "&&", "||", ";", "|", "&", ">", ">>", "<", "2>&1":
		return true
	}
	return false
}

// carriedArgs turns the kept options into the gateway's arguments, each
// value with its $VAR, ${VAR} and ${VAR:-default} replaced from lookup,
// as the platform's shell would. An option whose variable is unset and
// has no default is left out, with a warning.
func (w webLine) carriedArgs(lookup func(string) (string, bool)) (args, warnings []string) {
	for _, opt := range w.Kept {
		name, value, hasValue := strings.Cut(opt, "=")
		if !hasValue {
			args = append(args, name)
			continue
		}
		expanded, missing := expandShellVars(value, lookup)
		if missing != "" {
			warnings = append(warnings, fmt.Sprintf("%s: %s %s is not carried over to the gateway: %s is not set (set it in .env)",
				w.Source, name, value, missing))
			continue
		}
		if strings.HasPrefix(name, "--") {
			args = append(args, name+"="+expanded)
		} else {
			args = append(args, name, expanded)
		}
	}
	return args, warnings
}

// expandShellVars replaces $VAR, ${VAR}, ${VAR:-default} and
// ${VAR-default} in s. missing names the first variable that is unset
// (or empty, for ":-") and has no default.
func expandShellVars(s string, lookup func(string) (string, bool)) (out, missing string) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		var name, def string
		hasDef, colon := false, false
		if s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				break
			}
			body := s[i+2 : i+end]
			i += end
			name = body
			if k := strings.Index(body, ":-"); k >= 0 {
				name, def, hasDef, colon = body[:k], body[k+2:], true, true
			} else if k := strings.IndexByte(body, '-'); k >= 0 {
				name, def, hasDef = body[:k], body[k+1:], true
			}
		} else {
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || j > i+1 && s[j] >= '0' && s[j] <= '9') {
				j++
			}
			if j == i+1 {
				b.WriteByte('$')
				continue
			}
			name = s[i+1 : j]
			i = j - 1
		}
		v, set := lookup(name)
		switch {
		case set && (v != "" || !colon):
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		case missing == "":
			missing = name
		}
	}
	return b.String(), missing
}

// workerModule is the module a gunicorn worker class is imported from,
// which the interpreter must have: "uvicorn" for
// uvicorn.workers.UvicornWorker, "gevent" for gunicorn's "gevent"; ""
// for gunicorn's own sync and gthread workers.
func workerModule(class string) string {
	switch class {
	case "", "sync", "gthread":
		return ""
	case "eventlet", "gevent", "tornado":
		return class
	}
	switch {
	case strings.HasPrefix(class, "gunicorn.workers.ggevent."):
		return "gevent"
	case strings.HasPrefix(class, "gunicorn.workers.geventlet."):
		return "eventlet"
	case strings.HasPrefix(class, "gunicorn.workers.gtornado."):
		return "tornado"
	}
	top, _, _ := strings.Cut(class, ".")
	if top == ServerGunicorn {
		return ""
	}
	return top
}

// workerClass is the worker class args choose, "" when they choose none.
func workerClass(args []string) string {
	class, _ := gunicornOption(args, "-k", "--worker-class")
	return class
}

// target is the web line's app as a "module:callable" target, with
// gunicorn's default callable; "" when it names none devstack can use (a
// variable only the platform knows, uvicorn without a callable).
func (w webLine) target() string {
	t := w.Target
	if t == "" || strings.Contains(t, "$") {
		return ""
	}
	if !strings.Contains(t, ":") {
		if w.Server == ServerUvicorn {
			return ""
		}
		t += ":application" // gunicorn's default name
	}
	if !targetRE.MatchString(t) {
		return ""
	}
	return t
}

// servesWebLine reports whether the web line runs the app devstack
// serves: the one the config names, the Django project's WSGI or ASGI
// entry point, or the one found (from the web line itself, or a file it
// names).
func (d *detector) servesWebLine(w *webLine, app string, dj *djangoApp) bool {
	t := w.target()
	switch {
	case t == "":
		return false
	case app != "":
		return app == t
	case dj != nil:
		return t == dj.WSGITarget || t == dj.ASGITarget
	}
	return d.p.Target == t
}

// carryWebLine makes the web line's options the gateway's arguments.
func (d *detector) carryWebLine(w *webLine) {
	p := d.p
	args, warnings := w.carriedArgs(d.childVar)
	d.args = args
	p.GatewayFrom, p.GatewayOptions, p.GatewayDropped = w.Source, args, w.Dropped
	p.Warnings = append(p.Warnings, warnings...)
	for _, u := range w.Unknown {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s: %s is not carried over to the gateway: devstack does not know this %s option (to pass it, set args in %s)",
			w.Source, u, w.Server, ConfigFileName))
	}
}

// childVar is a variable as the gateway will see it: devstack's
// environment, the config's env, then the env files.
func (d *detector) childVar(name string) (string, bool) {
	if v, ok := d.env[name]; ok {
		return v, true
	}
	if v, ok := d.cfg.Env[name]; ok {
		return v, true
	}
	return d.dotenvValue(name)
}

// gatewayChooser names what chose the gateway command instead of the
// Procfile.
func (d *detector) gatewayChooser() string {
	switch {
	case d.o.Server != "":
		return d.o.source("Server", "--server", "DEVSTACK_SERVER")
	case len(d.o.Command) > 0:
		return d.o.source("Command", "the command after --", "DEVSTACK_COMMAND")
	case d.cfg.Server != nil:
		return "server in " + d.cfg.Display
	case d.cfg.Args != nil:
		return "args in " + d.cfg.Display
	}
	return "command in " + d.cfg.Display
}

// argsSource names where the gateway's extra arguments come from.
func (d *detector) argsSource() string {
	if d.p.GatewayFrom != "" {
		return d.p.GatewayFrom
	}
	return "args in " + d.cfg.Display
}
