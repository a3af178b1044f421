package project

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/devstack-dev/devstack/internal/gitglob"
)

// Detect reads dir once and returns what to run there. Precedence, highest
// first: o (flags, then DEVSTACK_* variables), the configuration file
// (devstack.toml or [tool.devstack] in pyproject.toml), then what the
// directory itself says. Every error it returns has a Hint.
func Detect(dir string, o Overrides) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, &Error{Msg: "resolving " + dir, Err: err, Fix: "pass an existing directory with --dir"}
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return nil, &Error{Msg: fmt.Sprintf("project directory %s does not exist or is not a directory", dir), Fix: "pass an existing directory with --dir"}
	}
	environ := o.Environ
	if environ == nil {
		environ = os.Environ()
	}
	cfg, err := loadConfig(abs)
	if err != nil {
		return nil, err
	}
	d := &detector{dir: abs, o: o, cfg: cfg, environ: environ, env: envMap(environ), args: cfg.Args}
	return d.detect()
}

// detector carries the inputs of one Detect call.
type detector struct {
	dir     string
	o       Overrides
	cfg     *loadedConfig
	environ []string
	env     map[string]string // devstack's environment
	dotenv  []envVar          // from the env files, in order
	// envWarnings are the env-file lines skipped, from the last reading.
	envWarnings []string
	plan        envPlan  // how the children's environment was built
	args        []string // the gateway's extra arguments: the config's args, or the Procfile's options
	p           *Project
}

func (d *detector) detect() (*Project, error) {
	cfg := d.cfg
	p := &Project{Dir: d.dir, AppDir: d.dir, ConfigFile: cfg.Path}
	d.p = p
	p.Warnings = append(p.Warnings, cfg.Warnings...)

	p.Port = firstInt(d.o.Port, deref(cfg.Port), DefaultPort)
	p.AppPort = firstInt(d.o.AppPort, deref(cfg.AppPort), DefaultAppPort)
	p.Host = firstString(d.o.Host, deref(cfg.Host), deref(cfg.Bind), DefaultHost)
	// An IP, not a name: "localhost" may resolve to ::1 for the proxy and
	// to 127.0.0.1 for the gateway, and then nothing connects.
	if net.ParseIP(p.Host) == nil {
		return nil, &Error{Msg: fmt.Sprintf("gateway host %q is not an IP address", p.Host),
			Fix: "bind the gateway to an address such as 127.0.0.1 (the default) or ::1; host names the browser uses go in hosts = [\"…\"]"}
	}
	if p.Port == p.AppPort {
		return nil, &Error{Msg: fmt.Sprintf("the proxy and the gateway would both use port %d", p.Port),
			Fix: "give the proxy (--port, port) and the gateway (--app-port, app_port) different ports"}
	}
	p.Hosts = cfg.Hosts
	p.CABundle = cfg.CABundle == nil || *cfg.CABundle
	p.Proxy = proxySettings(cfg.Proxy)
	p.Watch = WatchRules{
		Include: append([]string{}, cfg.Watch.Include...),
		Exclude: append([]string(nil), cfg.Watch.Exclude...),
	}
	if len(p.Watch.Include) == 0 {
		p.Watch.Include = []string{"**"}
	}

	if err := d.loadEnvFiles(); err != nil {
		return nil, err
	}
	if err := d.detectApp(); err != nil {
		return nil, err
	}
	// After detectApp, which may read the env files again from the app's
	// directory: each skipped line is told once.
	p.Warnings = append(p.Warnings, d.envWarnings...)
	p.EnvLinesSkipped = d.envWarnings
	if err := d.findInterpreter(); err != nil {
		return nil, err
	}
	if err := d.gateway(); err != nil {
		return nil, err
	}
	d.childEnv()
	if err := d.processes(); err != nil {
		return nil, err
	}
	return p, nil
}

// detectApp decides Framework, Kind, Server and Target.
func (d *detector) detectApp() error {
	p, cfg := d.p, d.cfg
	app := firstString(d.o.App, deref(cfg.App))
	if d.o.App != "" && !targetRE.MatchString(d.o.App) {
		return &Error{Msg: fmt.Sprintf("%s %q is not a \"package.module:callable\" target", d.o.source("App", "--app", "DEVSTACK_APP"), d.o.App),
			Fix: "write it as package.module:callable, e.g. mysite.wsgi:application"}
	}
	server := firstString(d.o.Server, deref(cfg.Server))
	switch server {
	case "", ServerGunicorn, ServerUvicorn, ServerCommand:
	default:
		return &Error{Msg: fmt.Sprintf("unknown server %q", server), Fix: "use gunicorn, uvicorn or command"}
	}
	hasCommand := len(d.o.Command) > 0 || cfg.Command != nil
	if server == ServerCommand && !hasCommand {
		return &Error{Msg: "server is \"command\" but no command is set", Fix: "add command = [\"your-server\", \"--port\", \"{port}\"] to " + ConfigFileName + ", or run devstack up -- COMMAND"}
	}
	// A command given on the command line replaces the gateway whatever the
	// config's server says.
	if len(d.o.Command) > 0 || (cfg.Command != nil && d.o.Server == "" && (server == "" || server == ServerCommand)) {
		server = ServerCommand
	}

	// The Procfile's web line may name the app and the gateway's options.
	web := readWebLine(d.dir)

	// Django: manage.py, the settings module, WSGI_APPLICATION.
	var dj *djangoApp
	if mp := filepath.Join(d.dir, "manage.py"); isFile(mp) && (isDjangoManage(mp) || app != "") {
		var err error
		dj, err = detectDjango(d.dir, mp, d.settingsChoice())
		if err != nil && app == "" && server != ServerCommand {
			return err
		}
		if dj != nil {
			p.Layout = "manage.py"
		}
	}

	switch {
	case app != "":
		p.Target = app
		g, _ := guessModuleKind(d.dir, app)
		p.AppFile = g.File
		p.Kind = g.Kind
		p.PythonPath = g.PathDir
		if dj == nil {
			p.Framework = g.Framework
		}
	case dj != nil:
	default:
		found, sub, err := d.searchLayouts(web)
		if err != nil {
			return err
		}
		switch {
		case found != nil:
			p.Framework, p.Kind, p.AppFile = found.Framework, found.Kind, found.File
			p.Target, p.PythonPath, p.Layout = found.Target(), found.PathDir, found.How
		case sub != "":
			if err := d.loadAppDirEnv(sub); err != nil {
				return err
			}
			dj, err = detectDjango(sub, filepath.Join(sub, "manage.py"), d.settingsChoice())
			if err != nil && server != ServerCommand {
				return err
			}
			p.AppDir = sub
			p.Layout = relTo(d.dir, filepath.Join(sub, "manage.py"))
		case server != ServerCommand:
			msg := "cannot find the app in " + d.dir + "\n" + lookedFor
			fix := "run devstack in your project's directory, or set app = \"pkg.module:callable\" in " + ConfigFileName + " (devstack up --app pkg.module:callable)"
			if c := likelyCandidate(d.dir); c != "" {
				fix = c
			}
			return &Error{Msg: msg, Fix: fix}
		}
	}
	webTarget := ""
	if web != nil && d.servesWebLine(web, app, dj) {
		if server == "" && d.cfg.Args == nil && !hasCommand {
			server, webTarget = web.Server, web.target()
			d.carryWebLine(web)
		} else if len(web.Kept) > 0 {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s: the web line's options (%s) are not used: %s chooses the gateway command",
				web.Source, strings.Join(web.Kept, " "), d.gatewayChooser()))
		}
	}
	if dj != nil {
		p.Framework = Django
		p.ManagePy = dj.ManagePy
		p.SettingsModule = dj.SettingsModule
		p.SettingsFile = dj.SettingsFile
		if app == "" {
			asgiOnly := dj.ASGIOnly || (dj.WSGITarget == "" && dj.ASGITarget != "")
			switch {
			case (server == ServerUvicorn || webTarget == dj.ASGITarget) && dj.ASGITarget != "":
				// uvicorn, or the web line's gunicorn with uvicorn's worker class.
				p.Target, p.AppFile, p.Kind = dj.ASGITarget, dj.ASGIFile, KindASGI
			case dj.WSGITarget != "" && !asgiOnly:
				p.Target, p.AppFile, p.Kind = dj.WSGITarget, dj.WSGIFile, KindWSGI
			case dj.ASGITarget != "":
				p.Target, p.AppFile, p.Kind = dj.ASGITarget, dj.ASGIFile, KindASGI
			case server != ServerCommand:
				return noDjangoTargetError(dj, p.AppDir)
			}
		}
	}

	switch server {
	case ServerCommand:
		p.Kind, p.Server = KindCommand, ServerCommand
		if p.Framework == "" {
			p.Framework = Custom
		}
	case ServerUvicorn:
		p.Kind, p.Server = KindASGI, ServerUvicorn
	case ServerGunicorn:
		p.Server = ServerGunicorn
		if p.Kind == KindASGI && workerClass(d.args) == "" {
			fix := `add args = ["-k", "uvicorn.workers.UvicornWorker"] or use server = "uvicorn"`
			if p.GatewayFrom != "" {
				fix = "add -k uvicorn.workers.UvicornWorker to the web line in " + p.GatewayFrom
			}
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s is an ASGI app but server is gunicorn: %s", p.Target, fix))
		}
		p.Kind = KindWSGI
	default:
		p.Server = ServerGunicorn
		if p.Kind == KindASGI {
			p.Server = ServerUvicorn
		}
	}
	if cfg.Command != nil && p.Server != ServerCommand {
		p.Warnings = append(p.Warnings, fmt.Sprintf("command in %s is ignored because server is %q", cfg.Display, p.Server))
	}
	if p.Server == ServerGunicorn {
		p.GunicornConfig = gunicornConfig(d.dir, d.args)
	}
	return nil
}

// gunicornConfig is the configuration file gunicorn will read: the one
// args name with -c/--config, else ./gunicorn.conf.py when it exists
// (gunicorn ≥ 20 reads it from the working directory by itself).
func gunicornConfig(dir string, args []string) string {
	if v, ok := gunicornOption(args, "-c", "--config"); ok {
		if strings.HasPrefix(v, "python:") || filepath.IsAbs(v) {
			return v // a module, or already a full path
		}
		return filepath.Join(dir, v)
	}
	if f := filepath.Join(dir, "gunicorn.conf.py"); isFile(f) {
		return f
	}
	return ""
}

// gunicornOption is the value args give one of gunicorn's options, in
// every form its argparse reads ("-c X", "-cX", "-c=X", "--config X",
// "--config=X"); the last one wins, as in gunicorn. ok is false when
// args do not give it.
func gunicornOption(args []string, short, long string) (value string, ok bool) {
	for i, a := range args {
		switch {
		case (a == short || a == long) && i+1 < len(args):
			value, ok = args[i+1], true
		case strings.HasPrefix(a, long+"="):
			value, ok = strings.TrimPrefix(a, long+"="), true
		case strings.HasPrefix(a, short) && len(a) > len(short) && !strings.HasPrefix(a, "--"):
			value, ok = strings.TrimPrefix(a[len(short):], "="), true
		}
	}
	return value, ok
}

// searchLayouts finds the app of a project without manage.py at its root
// (see layout.go for the order): an app, or the directory of a manage.py
// one level down. web is the Procfile's web line, nil when none.
func (d *detector) searchLayouts(web *webLine) (app *layoutApp, djangoDir string, err error) {
	if a := findProcfileApp(d.dir, web); a != nil {
		return a, "", nil
	}
	if a, ok, err := d.findFlaskApp(); ok || err != nil {
		return a, "", err
	}
	if a, err := findFileApp(d.dir); a != nil || err != nil {
		return a, "", err
	}
	if sub := findDjangoBelow(d.dir); sub != "" {
		return nil, sub, nil
	}
	a, err := findPackageApp(d.dir)
	return a, "", err
}

// settingsChoice is the Django settings module from, in order: devstack's
// environment, the config's settings, the env files. "" leaves it to
// manage.py.
func (d *detector) settingsChoice() settingsChoice {
	if v := d.env["DJANGO_SETTINGS_MODULE"]; v != "" {
		return settingsChoice{v, "DJANGO_SETTINGS_MODULE"}
	}
	if d.cfg.Settings != nil {
		return settingsChoice{*d.cfg.Settings, d.cfg.Display}
	}
	if v, ok := d.dotenvValue("DJANGO_SETTINGS_MODULE"); ok && v != "" {
		return settingsChoice{v, "env file"}
	}
	return settingsChoice{}
}

// findInterpreter picks the Python that can import the framework and the
// gateway server.
func (d *detector) findInterpreter() error {
	p := d.p
	var need []string
	if m := p.Framework.Module(); m != "" {
		need = append(need, m)
	}
	if p.Server == ServerGunicorn || p.Server == ServerUvicorn {
		need = append(need, p.Server)
	}
	class := ""
	if p.Server == ServerGunicorn {
		class = workerClass(d.args)
		if m := workerModule(class); m != "" {
			need = append(need, m) // gunicorn imports the worker class at start
		}
	}
	explicit, source := d.o.Python, d.o.source("Python", "--python", "DEVSTACK_PYTHON")
	if explicit == "" && d.cfg.Python != nil {
		explicit, source = *d.cfg.Python, "python in "+d.cfg.Display
	}
	if explicit != "" && d.o.Python != "" && !filepath.IsAbs(explicit) && strings.ContainsRune(explicit, filepath.Separator) {
		// A flag or variable path is relative to where devstack runs.
		if a, err := filepath.Abs(explicit); err == nil {
			explicit = a
		}
	}
	requires, runtime := declaredRequirements(d.dir, p.AppDir)
	decls, declWarnings := declaredPython(d.dir, p.AppDir)
	p.Warnings = append(p.Warnings, declWarnings...)
	p.PythonVersionWarnings = declWarnings
	req := interpreterRequest{
		Dir: p.AppDir, Root: d.dir, Environ: d.inspectEnviron(), Explicit: explicit, Source: source, Need: need,
		Requires: requires,
		Python:   decls,
		System:   d.o.testOnlySystemPythons,
	}
	p.interpreterReq = req
	in, err := findInterpreter(req)
	if err != nil {
		if p.Kind == KindCommand {
			// A custom command brings its own server; the interpreter only
			// matters to the doctor, so its absence is a warning.
			p.Interpreter = in
			p.Warnings = append(p.Warnings, "no Python interpreter can import "+strings.Join(need, " and ")+"; the doctor's live checks will be limited")
			return nil
		}
		if m := workerModule(class); m != "" {
			var e *Error
			if errors.As(err, &e) {
				first, rest, _ := strings.Cut(e.Msg, "\n")
				e.Msg = fmt.Sprintf("%s (%s for gunicorn's worker class %s, from %s)\n%s", first, m, class, d.argsSource(), rest)
			}
		}
		return err
	}
	p.Interpreter = in
	if decl, unmet := unmetDeclaration(decls, in.Version); unmet && in.Version != "" {
		var match *Candidate
		for _, c := range in.Tried {
			if c.Path != in.Path && c.Err == "" && len(c.Missing) > 0 && decl.matches(c.Version) {
				match = &c
				break
			}
		}
		w := pythonVersionWarning(decl, in, match, ConfigFileName)
		p.Warnings = append(p.Warnings, w)
		p.PythonVersionWarnings = append(p.PythonVersionWarnings, w)
	}
	// Only what likely stops the app is worth a word at every start: a
	// missing distribution, or another major version than required.
	var missing []requirementGap
	for _, g := range in.gaps {
		if slices.Contains(runtime, g.name) && g.breaking() {
			missing = append(missing, g)
		}
	}
	if len(missing) > 0 {
		others := ", and no other interpreter found has more of it"
		if explicit != "" {
			others = ""
		}
		p.Warnings = append(p.Warnings, requirementsWarning(in.Path, missing, others, d.requirementsFile()))
	}
	return nil
}

// maxListedGaps is how many missing requirements the start warning names:
// a requirements.txt written by pip freeze can lack sixty.
const maxListedGaps = 5

// keyDistributions are named first in that warning: what the gateway
// itself cannot start without.
var keyDistributions = []string{"django", "flask", "fastapi", "starlette", "gunicorn", "uvicorn"}

// requirementsWarning says that python lacks the project's requirements:
// the frameworks and gateway servers first, then the others, up to
// maxListedGaps and "and N more". The install command names them all, or
// installs reqFile (relative to the project) when there are more.
func requirementsWarning(python string, gaps []requirementGap, others, reqFile string) string {
	gaps = slices.Clone(gaps)
	rank := func(g requirementGap) int {
		if i := slices.Index(keyDistributions, g.name); i >= 0 {
			return i
		}
		return len(keyDistributions)
	}
	slices.SortStableFunc(gaps, func(a, b requirementGap) int { return rank(a) - rank(b) })
	var listed, names []string
	for i, g := range gaps {
		names = append(names, g.name)
		if i < maxListedGaps {
			listed = append(listed, g.String())
		}
	}
	what := strings.Join(listed, ", ")
	install := "-m pip install " + strings.Join(names, " ")
	if n := len(gaps) - len(listed); n > 0 {
		what += fmt.Sprintf(" and %d more", n)
		if reqFile != "" {
			install = "-m pip install -r " + reqFile
		}
	}
	return fmt.Sprintf("%s does not have what the project requires: %s%s; the app may fail to start (install: %s %s)",
		python, what, others, python, install)
}

// requirementsFile is the project's requirements.txt, relative to the
// project directory: the app directory's, else the project's; "" when
// neither has one.
func (d *detector) requirementsFile() string {
	for _, dir := range []string{d.p.AppDir, d.dir} {
		if f := filepath.Join(dir, "requirements.txt"); isFile(f) {
			return relTo(d.dir, f)
		}
	}
	return ""
}

// gateway builds the production command.
func (d *detector) gateway() error {
	p := d.p
	port := strconv.Itoa(p.AppPort)
	switch p.Server {
	case ServerGunicorn:
		p.GatewayArgv = []string{p.Interpreter.Path, "-m", "gunicorn", p.Target, "--bind", net.JoinHostPort(p.Host, port)}
		if p.PythonPath != "" {
			p.GatewayArgv = append(p.GatewayArgv, "--pythonpath", p.PythonPath)
		}
		p.GatewayArgv = append(p.GatewayArgv, substitutePort(d.args, port)...)
	case ServerUvicorn:
		target, factory := strings.CutSuffix(p.Target, "()")
		p.GatewayArgv = []string{p.Interpreter.Path, "-m", "uvicorn", target, "--host", p.Host, "--port", port}
		if factory {
			p.GatewayArgv = append(p.GatewayArgv, "--factory")
		}
		if p.PythonPath != "" {
			p.GatewayArgv = append(p.GatewayArgv, "--app-dir", p.PythonPath)
		}
		p.GatewayArgv = append(p.GatewayArgv, substitutePort(d.args, port)...)
	case ServerCommand:
		argv, line := d.o.Command, ""
		source := d.o.source("Command", "the command after --", "DEVSTACK_COMMAND")
		if len(argv) == 0 {
			argv, line = d.cfg.Command.Argv, d.cfg.Command.Line
			source = "command in " + d.cfg.Display
		}
		if len(argv) == 1 && strings.ContainsAny(argv[0], " \t") {
			line, argv = argv[0], nil
		}
		if line != "" {
			var err error
			argv, p.GatewayShell, err = commandArgv(line)
			if err != nil {
				return &Error{Msg: fmt.Sprintf("%s: %v", source, err), Fix: "fix the quoting of the command"}
			}
		}
		p.GatewayArgv = substitutePort(argv, port)
		p.GatewayEnv = []string{"PORT=" + port}
		if len(d.cfg.Args) > 0 {
			p.Warnings = append(p.Warnings, "args in "+d.cfg.Display+" are ignored with a custom command")
		}
	}
	return nil
}

func proxySettings(c proxyConfig) ProxySettings {
	s := ProxySettings{
		ForwardedProto: true, ForwardedFor: true, ForwardedHost: true,
		MaxBody: DefaultMaxBody, HoldTimeout: DefaultHoldTimeout,
	}
	setBool := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	setBool(&s.ForwardedProto, c.ForwardedProto)
	setBool(&s.ForwardedFor, c.ForwardedFor)
	setBool(&s.ForwardedHost, c.ForwardedHost)
	setBool(&s.ForwardedSSL, c.ForwardedSSL)
	setBool(&s.RealIP, c.RealIP)
	if c.MaxBody != nil {
		s.MaxBody = int64(*c.MaxBody)
	}
	if c.HoldTimeout != nil {
		s.HoldTimeout = time.Duration(*c.HoldTimeout)
	}
	return s
}

// checkGlob reports a watch pattern the watcher would refuse: it compiles
// it with the watcher's own gitignore-syntax compiler, so what loads is what
// runs.
func checkGlob(g string) error {
	_, err := gitglob.CompileGlobs([]string{g})
	return err
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// relTo shows path relative to dir when it is inside it.
func relTo(dir, p string) string {
	if r, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func firstInt(vs ...int) int {
	for _, v := range vs {
		if v != 0 {
			return v
		}
	}
	return 0
}

func firstString(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
