package project

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// This file finds the app when the project names none (no app in the
// config, no --app) and there is no Django manage.py at the root. It
// follows the conventions of the tools the project was written for, in
// this order:
//
//  1. the Procfile's web line (gunicorn or uvicorn and its target): the
//     production command itself, whose server and options the gateway
//     then runs with (procfile_web.go);
//  2. FLASK_APP, from devstack's environment, the env files or .flaskenv,
//     in every form Flask's CLI accepts;
//  3. wsgi.py and asgi.py (the production entry points), then the files
//     the fastapi CLI looks for, in its order: main.py, app.py, api.py,
//     app/main.py, app/app.py, app/api.py; then run.py, server.py,
//     application.py and a Flask-Script manage.py when they make the app;
//  4. manage.py one directory down (app/, src/, backend/, django/, else
//     the one other directory that has one): the gateway runs there, the
//     repository root is still watched;
//  5. a package holding a Flask or FastAPI app (a Flask app factory
//     create_app() in pkg/__init__.py, as in Flask's tutorial), at the
//     root or under src/; a factory that needs arguments is reached
//     through the root module that calls it.

// layoutApp is an app found by the search.
type layoutApp struct {
	appGuess
	Module string // dotted module gunicorn or uvicorn imports
	How    string // why it was chosen, for the start-up line: "FLASK_APP in .flaskenv"
}

// Target is the gateway target "module:callable".
func (a layoutApp) Target() string { return a.Module + ":" + a.Callable }

// fastapiFiles are the files the fastapi CLI looks for, in its order
// (fastapi_cli.discover.get_default_path).
var fastapiFiles = []string{"main.py", "app.py", "api.py", "app/main.py", "app/app.py", "app/api.py"}

// entryFiles are other root files that often start an app (run.py,
// server.py, Elastic Beanstalk's application.py, a Flask-Script
// manage.py); they count only when they define the app themselves.
var entryFiles = []string{"run.py", "server.py", "application.py", "manage.py"}

// djangoSubdirs are where a manage.py one directory down is looked for.
var djangoSubdirs = []string{"app", "src", "backend", "django"}

// packageAppFiles are the files of a package that may hold its app.
var packageAppFiles = []string{"__init__.py", "app.py", "main.py", "api.py", "wsgi.py", "asgi.py"}

// skippedDirs are never searched for an app: tests, docs, tools, virtualenvs.
var skippedDirs = map[string]bool{
	"tests": true, "test": true, "testing": true, "docs": true, "doc": true, "examples": true,
	"example": true, "scripts": true, "migrations": true, "node_modules": true, "venv": true,
	"env": true, "build": true, "dist": true, "site-packages": true, "static": true, "templates": true,
}

// lookedFor says what the search tried, for the error when nothing is found.
const lookedFor = "looked for: manage.py (here and in app/, src/, backend/, django/); the Procfile's web line; FLASK_APP (environment, .env, .flaskenv); " +
	"wsgi.py, asgi.py, main.py, app.py, api.py, app/main.py, app/app.py, app/api.py, run.py, server.py, application.py; " +
	"a package with a Flask or FastAPI app (pkg/__init__.py, pkg/app.py, pkg/main.py…), here and under src/"

// findFlaskApp reads FLASK_APP from devstack's environment, the env files,
// then .flaskenv (Flask's CLI reads .flaskenv under .env and the
// environment). ok is false when none sets it.
func (d *detector) findFlaskApp() (app *layoutApp, ok bool, err error) {
	value, from := d.env["FLASK_APP"], "FLASK_APP in the environment"
	if value == "" {
		if v, set := d.dotenvValue("FLASK_APP"); set && v != "" {
			value, from = v, "FLASK_APP in the env file"
		}
	}
	if value == "" {
		path := filepath.Join(d.dir, ".flaskenv")
		if data, rerr := os.ReadFile(path); rerr == nil {
			vars, skipped := parseDotenv(".flaskenv", string(data), func(k string) (string, bool) {
				v, ok := d.env[k]
				return v, ok
			})
			for _, w := range skipped {
				d.p.Warnings = append(d.p.Warnings, w.String())
			}
			for _, v := range vars {
				if v.Key == "FLASK_APP" && v.Value != "" {
					value, from = v.Value, "FLASK_APP in .flaskenv"
				}
			}
		}
	}
	if value == "" {
		return nil, false, nil
	}
	a, err := flaskAppTarget(d.dir, value)
	if err != nil {
		return nil, true, &Error{Msg: fmt.Sprintf("%s (%q): %v", from, value, err),
			Fix: "set FLASK_APP to module, module:name, module:create_app() or path/to/module.py, as flask --app takes it"}
	}
	a.How = from
	return a, true, nil
}

// flaskAppSplitRE splits "path:name" as Flask's CLI does: at the first
// colon that is not followed by a path separator (a Windows drive).
var flaskAppSplitRE = regexp.MustCompile(`:([^\\/].*)$`)

var identifierRE = regexp.MustCompile(`^[A-Za-z_]\w*$`)

// flaskAppTarget turns a FLASK_APP value into a gunicorn target, as
// Flask's CLI would load it: module.py or a path (a package or module
// file, its import name found by walking up the packages), module, or
// either followed by :name, :factory() or :factory(args).
func flaskAppTarget(root, value string) (*layoutApp, error) {
	path, name := value, ""
	if loc := flaskAppSplitRE.FindStringSubmatchIndex(value); loc != nil {
		path, name = value[:loc[0]], value[loc[2]:]
	}
	path = strings.TrimSpace(path)
	if path == "" {
		return nil, fmt.Errorf("no module")
	}
	a := &layoutApp{appGuess: appGuess{Framework: Flask, Kind: KindWSGI}}
	if strings.HasSuffix(path, ".py") || strings.ContainsAny(path, `/\`) {
		file := path
		if !filepath.IsAbs(file) {
			file = filepath.Join(root, filepath.FromSlash(file))
		}
		if fi, err := os.Stat(file); err == nil && fi.IsDir() {
			file = filepath.Join(file, "__init__.py")
		} else if !strings.HasSuffix(file, ".py") {
			file += ".py"
		}
		if !isFile(file) {
			return nil, fmt.Errorf("%s does not exist", relTo(root, file))
		}
		a.File = file
		a.Module, a.PathDir = importName(root, file)
	} else {
		if !moduleRE.MatchString(path) {
			return nil, fmt.Errorf("%q is not a module name or a .py file", path)
		}
		a.Module = path
		if f := moduleFile(root, path); f != "" {
			a.File = f
		} else if f := moduleFile(filepath.Join(root, "src"), path); f != "" {
			a.File, a.PathDir = f, "src"
		}
	}
	var src string
	if a.File != "" {
		data, _ := os.ReadFile(a.File)
		src = string(data)
	}
	switch {
	case name == "":
		a.Callable = flaskCallable(src)
	case identifierRE.MatchString(name) && definesFunction(src, name):
		// Flask's CLI calls a function named without arguments; gunicorn
		// would serve the function itself.
		a.Callable = name + "()"
	default:
		a.Callable = name
	}
	if !targetRE.MatchString(a.Target()) {
		return nil, fmt.Errorf("%q is not a name or a call with literal arguments", name)
	}
	return a, nil
}

// definesFunction reports whether src defines a module-level function name.
func definesFunction(src, name string) bool {
	return regexp.MustCompile(`(?m)^(?:async\s+)?def\s+` + regexp.QuoteMeta(name) + `\s*\(`).MatchString(src)
}

// importName is the module name of file and the directory (relative to
// root, "" for root itself) to put on the import path, found the way
// Flask's CLI and the fastapi CLI find them: up from the file's directory
// while it is a package (holds __init__.py).
func importName(root, file string) (module, pathDir string) {
	dir := filepath.Dir(file)
	parts := []string{strings.TrimSuffix(filepath.Base(file), ".py")}
	if parts[0] == "__init__" {
		// pkg/__init__.py is the package pkg itself.
		parts = []string{filepath.Base(dir)}
		dir = filepath.Dir(dir)
	}
	for dir != root && isFile(filepath.Join(dir, "__init__.py")) && filepath.Dir(dir) != dir {
		parts = append([]string{filepath.Base(dir)}, parts...)
		dir = filepath.Dir(dir)
	}
	if rel, err := filepath.Rel(root, dir); err == nil && rel != "." {
		pathDir = filepath.ToSlash(rel)
	}
	return strings.Join(parts, "."), pathDir
}

// findFileApp looks at wsgi.py, asgi.py, then the fastapi CLI's files.
func findFileApp(root string) (*layoutApp, error) {
	for _, name := range append([]string{"wsgi.py", "asgi.py"}, fastapiFiles...) {
		file := filepath.Join(root, filepath.FromSlash(name))
		src, err := os.ReadFile(file)
		if err != nil {
			if os.IsNotExist(err) || isDirErr(file) {
				continue
			}
			return nil, &Error{Msg: "reading " + file, Err: err, Fix: "make " + name + " readable"}
		}
		g := guessApp(filepath.Base(name), string(src))
		plainOK := name == "wsgi.py" || name == "asgi.py" || name == "app.py"
		if g == nil || (!plainOK && g.Framework.Module() == "") {
			continue
		}
		a := &layoutApp{appGuess: *g}
		a.File = file
		a.Module, a.PathDir = importName(root, file)
		a.How = name
		return a, nil
	}
	for _, name := range entryFiles {
		src, err := os.ReadFile(filepath.Join(root, name))
		if err != nil || (name == "manage.py" && isDjangoManageSource(src)) {
			continue
		}
		g := guessApp(name, string(src))
		if g == nil || g.Framework.Module() == "" {
			// run.py: "from blog import create_app; app = create_app()".
			m := factoryCallRE.FindStringSubmatch(string(src))
			f := factoryFramework(root, root, string(src))
			if m == nil || f == nil {
				continue
			}
			g = &appGuess{Framework: f.Framework, Kind: f.Kind, Callable: m[1]}
		}
		if g.Framework.Module() == "" || !definesCallable(string(src), g.Callable) {
			continue
		}
		a := &layoutApp{appGuess: *g, Module: strings.TrimSuffix(name, ".py"), How: name}
		a.File = filepath.Join(root, name)
		return a, nil
	}
	return nil, nil
}

// definesCallable reports whether src itself defines the target's
// callable ("app", or the factory "create_app()").
func definesCallable(src, callable string) bool {
	if name, ok := strings.CutSuffix(callable, "()"); ok {
		return definesFunction(src, name)
	}
	return definesName(src, callable)
}

func isDirErr(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// findDjangoBelow returns the first of app/, src/, backend/, django/ (in
// any case: Backend/ too) that holds a Django manage.py; else the one
// other directory that does (a repository holding what
// "django-admin startproject mysite" made, mysite/manage.py); "" when
// there is none, or several such others to choose from.
func findDjangoBelow(root string) string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return ""
	}
	hasManage := func(name string) bool {
		mp := filepath.Join(root, name, "manage.py")
		return isFile(mp) && isDjangoManage(mp)
	}
	for _, sub := range djangoSubdirs {
		for _, e := range entries {
			if e.IsDir() && strings.EqualFold(e.Name(), sub) && hasManage(e.Name()) {
				return filepath.Join(root, e.Name())
			}
		}
	}
	var others []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() && !strings.HasPrefix(n, ".") && !skippedDirs[strings.ToLower(n)] && hasManage(n) {
			others = append(others, n)
		}
	}
	if len(others) == 1 {
		return filepath.Join(root, others[0])
	}
	return ""
}

// findPackageApp looks for a package holding a Flask or FastAPI app, at
// the root then under src/. Several candidates are narrowed to the one
// named like the project (pyproject.toml's name, else the directory);
// otherwise the error lists them.
func findPackageApp(root string) (*layoutApp, error) {
	for _, base := range []string{root, filepath.Join(root, "src")} {
		var found []*layoutApp
		for _, pkg := range packagesIn(base) {
			for _, name := range packageAppFiles {
				file := filepath.Join(pkg, name)
				src, err := os.ReadFile(file)
				if err != nil {
					continue
				}
				g := guessApp(name, string(src))
				if g == nil || g.Framework.Module() == "" {
					continue
				}
				a := &layoutApp{appGuess: *g}
				a.File = file
				a.Module, a.PathDir = importName(root, file)
				a.How = relTo(root, file)
				if strings.HasSuffix(a.Callable, "()") && factoryNeedsArguments(string(src)) {
					// create_app(config_name): the module that calls it
					// with its arguments is the entry point.
					if c := findCallingModule(root, a.Module); c != nil {
						c.Framework, c.Kind = a.Framework, a.Kind
						a = c
					}
				}
				found = append(found, a)
				break
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		}
		want := normalizeDistName(projectName(root))
		for _, a := range found {
			top, _, _ := strings.Cut(a.Module, ".")
			if normalizeDistName(top) == want {
				return a, nil
			}
		}
		var lines []string
		for _, a := range found {
			lines = append(lines, fmt.Sprintf("  %s: %s", relTo(root, a.File), a.Target()))
		}
		return nil, &Error{
			Msg: "several packages hold an app:\n" + strings.Join(lines, "\n"),
			Fix: fmt.Sprintf("choose one: devstack up --app '%s', or app = %q in %s", found[0].Target(), found[0].Target(), ConfigFileName),
		}
	}
	return nil, nil
}

// packagesIn lists the package directories directly in dir, sorted,
// leaving out tests, docs, tools and hidden directories.
func packagesIn(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || skippedDirs[strings.ToLower(n)] || !identifierRE.MatchString(n) {
			continue
		}
		if isFile(filepath.Join(dir, n, "__init__.py")) {
			out = append(out, filepath.Join(dir, n))
		}
	}
	sort.Strings(out)
	return out
}

var pyprojectNameRE = regexp.MustCompile(`(?m)^\s*name\s*=\s*["']([^"']+)["']`)

// projectName is the project's declared name ([project] or
// [tool.poetry] in pyproject.toml), else the directory's name.
func projectName(root string) string {
	if data, err := os.ReadFile(filepath.Join(root, "pyproject.toml")); err == nil {
		if m := pyprojectNameRE.FindSubmatch(data); m != nil {
			return string(m[1])
		}
	}
	return filepath.Base(root)
}

// likelyCandidate is, when the search found nothing, the file that most
// looks like an app a few directories down, with the exact way to run it.
// "" when there is none.
func likelyCandidate(root string) string {
	type cand struct {
		file  string
		depth int
		guess *appGuess
	}
	var best *cand
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		if depth > 3 || best != nil && best.depth < depth {
			return
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			n := e.Name()
			p := filepath.Join(dir, n)
			if e.IsDir() {
				continue
			}
			if !strings.HasSuffix(n, ".py") {
				continue
			}
			if n == "manage.py" && depth > 0 && isDjangoManage(p) {
				if best == nil || best.depth > depth {
					best = &cand{file: p, depth: depth}
				}
				continue
			}
			data, err := os.ReadFile(p)
			if err != nil || len(data) > 1<<20 {
				continue
			}
			g := guessApp(n, string(data))
			if g == nil || g.Framework.Module() == "" {
				continue
			}
			if best == nil || best.depth > depth {
				best = &cand{file: p, depth: depth, guess: g}
			}
		}
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() && !strings.HasPrefix(n, ".") && !skippedDirs[strings.ToLower(n)] && !isFile(filepath.Join(dir, n, "pyvenv.cfg")) {
				walk(filepath.Join(dir, n), depth+1)
			}
		}
	}
	walk(root, 0)
	if best == nil {
		return ""
	}
	rel := relTo(root, best.file)
	if best.guess == nil {
		sub := filepath.Dir(rel)
		return fmt.Sprintf("%s is a Django project: run devstack up --dir %s", rel, sub)
	}
	module, pathDir := importName(root, best.file)
	target := module + ":" + best.guess.Callable
	if pathDir == "" {
		return fmt.Sprintf("%s looks like a %s app: run devstack up --app '%s', or add app = %q to %s", rel, best.guess.Framework, target, target, ConfigFileName)
	}
	flag := "--pythonpath"
	if best.guess.Kind == KindASGI {
		flag = "--app-dir"
	}
	lines := fmt.Sprintf("add these lines to %s:\n  app = %q\n  args = [%q, %q]", ConfigFileName, target, flag, pathDir)
	if foundIn(filepath.Join(root, filepath.FromSlash(pathDir)), best.file) {
		// Run from its own directory, the app finds what it opens by a
		// relative path (StaticFiles("static"), load_dotenv()) as it
		// does in production; the lines above would run it from here.
		return fmt.Sprintf("%s looks like a %s app: run devstack up --dir %s (from there, as its relative paths expect), or %s", rel, best.guess.Framework, pathDir, lines)
	}
	return fmt.Sprintf("%s looks like a %s app: %s", rel, best.guess.Framework, lines)
}

// foundIn reports whether devstack up --dir dir would find file as the app
// by itself: one of the files the search names, or a package's module.
func foundIn(dir, file string) bool {
	if a, err := findFileApp(dir); err == nil && a != nil {
		return a.File == file
	}
	if a, err := findPackageApp(dir); err == nil && a != nil {
		return a.File == file
	}
	return false
}

// findProcfileApp is the app w, the "web" line of the Procfile
// (Heroku's, and every platform that copied it), names: the production
// command names the app exactly, with gunicorn's --chdir and
// --pythonpath or uvicorn's --app-dir, and the options production runs
// it with (see procfile_web.go). nil when there is no web line, or it
// runs neither server.
func findProcfileApp(root string, w *webLine) *layoutApp {
	if w == nil {
		return nil
	}
	target := w.target()
	if target == "" {
		return nil
	}
	appDir := root
	if w.Chdir != "" {
		appDir = filepath.Join(root, filepath.FromSlash(w.Chdir))
	}
	g, _ := guessModuleKind(filepath.Join(appDir, w.PathDir), target)
	if src, err := os.ReadFile(g.File); err == nil && strings.Contains(string(src), "django") {
		// A Django entry point: the manage.py search knows Django
		// (its settings, static files, the doctor's reading).
		return nil
	}
	if g.Framework == WSGI || g.Framework == ASGI {
		g.Kind = KindWSGI
		if w.Server == ServerUvicorn {
			g.Kind = KindASGI
		}
	}
	module, callable, _ := strings.Cut(target, ":")
	a := &layoutApp{appGuess: g, Module: module, How: "Procfile's web line"}
	a.Callable = callable
	a.PathDir = w.PathDir
	if w.Chdir != "" {
		a.PathDir = filepath.ToSlash(filepath.Join(w.Chdir, w.PathDir))
	}
	return a
}

// readWebLine is the Procfile's web line when it runs gunicorn or
// uvicorn; nil otherwise.
func readWebLine(root string) *webLine {
	data, err := os.ReadFile(filepath.Join(root, "Procfile"))
	if err != nil {
		return nil
	}
	entries, err := parseProcfile("Procfile", string(data))
	if err != nil {
		return nil
	}
	for _, e := range entries {
		if e.Name != "web" {
			continue
		}
		argv, _, err := splitCommand(e.Command)
		if err != nil {
			return nil
		}
		w, ok := parseWebLine(argv)
		if !ok {
			return nil
		}
		w.Source = fmt.Sprintf("Procfile:%d", e.Line)
		return &w
	}
	return nil
}

// isDjangoManage reports whether a manage.py is Django's: one that
// mentions Flask and not Django (Flask-Script's, a click group's) is an
// app's command line, not a Django project.
func isDjangoManage(path string) bool {
	src, err := os.ReadFile(path)
	if err != nil {
		return true // let the Django reader report it
	}
	return isDjangoManageSource(src)
}

// isDjangoManageSource is isDjangoManage for a manage.py already read.
func isDjangoManageSource(src []byte) bool {
	s := strings.ToLower(string(src))
	return strings.Contains(s, "django") || !strings.Contains(s, "flask")
}

var factoryParamsRE = regexp.MustCompile(`(?m)^def\s+(?:create_app|make_app)\s*\(([^)]*)\)`)

// factoryNeedsArguments reports whether the app factory in src has a
// parameter without a default: gunicorn's "module:create_app()" would
// then fail, and a module that calls it is the entry point.
func factoryNeedsArguments(src string) bool {
	m := factoryParamsRE.FindStringSubmatch(src)
	if m == nil {
		return false
	}
	for _, p := range strings.Split(m[1], ",") {
		p = strings.TrimSpace(p)
		if p == "" || strings.HasPrefix(p, "*") || strings.Contains(p, "=") || p == "self" || p == "/" {
			continue
		}
		return true
	}
	return false
}

// findCallingModule looks, in the root's .py files, for one that makes the
// app by calling pkg's factory ("app = create_app(os.getenv(…))", as
// flasky.py or run.py do); nil when none does. The caller fills in the
// framework, the factory's.
func findCallingModule(root, pkg string) *layoutApp {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	importRE := regexp.MustCompile(`(?m)^from\s+` + regexp.QuoteMeta(pkg) + `\s+import\s+[^\n]*\b(?:create_app|make_app)\b`)
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".py") || n == "setup.py" || n == "conftest.py" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, n))
		if err != nil || !importRE.Match(data) {
			continue
		}
		if m := factoryCallRE.FindSubmatch(data); m != nil {
			a := &layoutApp{appGuess: appGuess{Callable: string(m[1]), File: filepath.Join(root, n)}}
			a.Module = strings.TrimSuffix(n, ".py")
			a.How = n
			return a
		}
	}
	return nil
}
