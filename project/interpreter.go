package project

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// interpreterRequest is what findInterpreter needs to know.
type interpreterRequest struct {
	Dir      string   // the gateway's working directory: the inspection's too
	Root     string   // the project directory (Dir, or above it): its virtualenv counts too
	Environ  []string // environment for the inspection (devstack's plus the env files)
	Explicit string   // --python, DEVSTACK_PYTHON or config python; "" = search
	Source   string   // where Explicit came from, for messages
	Need     []string // modules it must be able to import: framework, then gateway
	// Requires are the project's declared top-level requirements
	// (normalized distribution names): among the candidates that can
	// import Need, the one that has the most of them wins.
	Requires []requirement
	// Python are the project's declarations of its Python version: among
	// the candidates that can import Need, one that meets them wins over
	// one that has more of Requires.
	Python []pythonDeclaration
	System []string // interpreters tried last; nil = systemPythons
}

// systemPythons are tried after PATH: where Debian and most Linux
// distributions install the interpreter their python3-* packages use.
var systemPythons = []string{"/usr/bin/python3", "/usr/local/bin/python3"}

// candidateSpec is an interpreter to check, before checking.
type candidateSpec struct {
	path, source string
}

// findInterpreter checks the candidates concurrently and returns, of those
// that can import every needed module (they have them on their import
// path; see templates/devstack_interpreter.py for why they are not run),
// the best by better: the Python version the project declares, then the
// most of its declared requirements, then search order.
func findInterpreter(req interpreterRequest) (Interpreter, error) {
	specs, err := interpreterCandidates(req)
	if err != nil {
		return Interpreter{}, err
	}
	cache := openInterpreterCache()
	defer cache.save() // after every check has returned (deferred below)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := inspectAll(ctx, specs, req, cache)
	defer drain(done)

	var tried []Candidate
	var best *inspection
	for i := range specs {
		r := <-done[i]
		done[i] = nil
		tried = append(tried, r.Candidate)
		if !r.OK() {
			continue
		}
		if best == nil || better(r, *best, req.Python) {
			best = &r
		}
		if len(best.gaps) == 0 && best.meets(req.Python) {
			break // nothing later can do better
		}
	}
	cancel()
	if best == nil {
		return Interpreter{Tried: tried}, noInterpreterError(req, tried)
	}
	in := best.interpreter()
	in.Tried = tried
	// Need is the framework, the gateway, then what the gateway's worker
	// class needs (uvicorn under gunicorn).
	for _, m := range req.Need {
		switch {
		case in.GatewayModule != "":
		case m == ServerGunicorn || m == ServerUvicorn:
			in.GatewayModule, in.GatewayVersion = m, best.version(m)
		default:
			in.FrameworkModule, in.FrameworkVersion = m, best.version(m)
		}
	}
	return in, nil
}

// better reports whether candidate a, which can run the app, is a better
// choice than b, found before it. A Python older or newer than the project
// declares fails on the first line it cannot parse, in whatever module
// that is, and no package installed later mends it; a missing requirement
// fails only where it is imported, and pip install mends it. So the
// declared version comes first, then the fewest unmet requirements; on a
// tie the earlier in search order stays.
func better(a, b inspection, decls []pythonDeclaration) bool {
	if am, bm := a.meets(decls), b.meets(decls); am != bm {
		return am
	}
	return len(a.gaps) < len(b.gaps)
}

// inspectAll checks up to four candidates at a time, in search order; a
// cancelled ctx kills the inspections still running. Each channel receives the
// candidate's outcome once.
func inspectAll(ctx context.Context, specs []candidateSpec, req interpreterRequest, cache *interpreterCache) []chan inspection {
	done := make([]chan inspection, len(specs))
	sem := make(chan struct{}, 4)
	for i, s := range specs {
		done[i] = make(chan inspection, 1)
		go func() {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				done[i] <- inspectInterpreter(ctx, s, req, cache)
			case <-ctx.Done():
				done[i] <- inspection{}
			}
		}()
	}
	return done
}

// drain waits for the checks not read yet, so that none outlives its caller
// (the cache is saved after them).
func drain(done []chan inspection) {
	for _, ch := range done {
		if ch != nil {
			<-ch
		}
	}
}

// DistributionFor names what to pip install for a missing top-level
// module: the declared requirement of the same name (flask_moment is
// Flask-Moment), else the module's own name.
func DistributionFor(p *Project, module string) string {
	module, _, _ = strings.Cut(module, ".")
	want := normalizeDistName(module)
	for _, r := range p.interpreterReq.Requires {
		if r.name == want {
			return r.name
		}
	}
	return module
}

// CandidatesWithModule lists the interpreters of the search, other than
// the one p runs, that can run the app (they import the framework and the
// gateway) and whose import path holds the module ("celery",
// "pydantic.v1"): what to suggest when the app dies with
// ModuleNotFoundError. It inspects every candidate (their reports are
// mostly cached), so it is for that moment only.
func CandidatesWithModule(p *Project, module string) []Candidate {
	req := p.interpreterReq
	if req.Dir == "" || module == "" {
		return nil
	}
	req.Explicit = ""
	specs, err := interpreterCandidates(req)
	if err != nil {
		return nil
	}
	cache := openInterpreterCache()
	defer cache.save()
	done := inspectAll(context.Background(), specs, req, cache)
	var out []Candidate
	self := interpreterKey(p.Interpreter.Path)
	for i, s := range specs {
		r := <-done[i]
		if !r.OK() || interpreterKey(s.path) == self || !hasModule(r.sysPath, module) {
			continue
		}
		out = append(out, r.Candidate)
	}
	return out
}

// interpreterCandidates lists, in search order: the explicit interpreter
// alone when one is set; else .venv/bin/python, venv/bin/python,
// $VIRTUAL_ENV/bin/python, every python3 and python3.N along PATH, then
// /usr/bin/python3 and /usr/local/bin/python3, without duplicates.
func interpreterCandidates(req interpreterRequest) ([]candidateSpec, error) {
	env := envMap(req.Environ)
	if req.Explicit != "" {
		p, err := resolveExplicitPython(req.Explicit, cmp.Or(req.Root, req.Dir), env["PATH"])
		if err != nil {
			return nil, &Error{
				Msg: fmt.Sprintf("python %q (from %s) not found", req.Explicit, req.Source),
				Err: err,
				Fix: "point " + req.Source + " at an existing interpreter, e.g. .venv/bin/python or /usr/bin/python3",
			}
		}
		return []candidateSpec{{p, req.Source}}, nil
	}

	var specs []candidateSpec
	seen := map[string]bool{}
	add := func(path, source string) {
		if !isExecutableFile(path) {
			return
		}
		if isPyenvShim(path) {
			// Run what the shim would run: a shim costs a bash start-up
			// per call. A shim for a version that is not selected cannot
			// run here at all and is left out.
			res := resolvePyenvShim(path, req.Dir, env)
			if res.Sure && res.Binary == "" {
				return
			}
			if res.Sure {
				source = fmt.Sprintf("%s, pyenv shim %s", source, path)
				path = res.Binary
			}
		}
		key := interpreterKey(path)
		if seen[key] {
			return
		}
		seen[key] = true
		specs = append(specs, candidateSpec{path, source})
	}
	for _, dir := range []string{req.Dir, req.Root} {
		if dir == "" {
			continue
		}
		add(filepath.Join(dir, ".venv", "bin", "python"), ".venv")
		add(filepath.Join(dir, "venv", "bin", "python"), "venv")
	}
	if v := env["VIRTUAL_ENV"]; v != "" {
		add(filepath.Join(v, "bin", "python"), "VIRTUAL_ENV")
	}
	for _, d := range filepath.SplitList(env["PATH"]) {
		if d == "" || !filepath.IsAbs(d) {
			continue // a relative PATH entry would depend on devstack's cwd
		}
		for _, name := range pythonsIn(d) {
			add(filepath.Join(d, name), "PATH")
		}
	}
	system := req.System
	if system == nil {
		system = systemPythons
	}
	for _, p := range system {
		add(p, "system")
	}
	if len(specs) == 0 {
		return nil, &Error{
			Msg: "no Python interpreter found (no .venv, no $VIRTUAL_ENV, no python3 on PATH or in /usr/bin)",
			Fix: "install Python 3 (Debian/Ubuntu: apt-get install python3), or set python = \"/path/to/python\" in " + ConfigFileName,
		}
	}
	return specs, nil
}

var pythonNameRE = regexp.MustCompile(`^python3(?:\.(\d+))?$`)

// pythonsIn returns python3 then python3.N (newest first) found in dir.
func pythonsIn(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	type named struct {
		name  string
		minor int
	}
	var found []named
	for _, e := range entries {
		m := pythonNameRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		minor := 1 << 20 // plain python3 first
		if m[1] != "" {
			minor, _ = strconv.Atoi(m[1])
		}
		found = append(found, named{e.Name(), minor})
	}
	sort.Slice(found, func(i, j int) bool { return found[i].minor > found[j].minor })
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = f.name
	}
	return names
}

// interpreterKey identifies an interpreter for de-duplication: its real
// path, except that a virtualenv's python (a symlink to the base
// interpreter) is its own interpreter, identified by the venv.
func interpreterKey(path string) string {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		real = path
	}
	if v := venvOf(path); v != "" {
		return v + "\x00" + real
	}
	return real
}

// venvOf returns the virtualenv directory path belongs to, or "".
func venvOf(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	root := filepath.Dir(filepath.Dir(abs))
	if _, err := os.Stat(filepath.Join(root, "pyvenv.cfg")); err == nil {
		return root
	}
	return ""
}

func isExecutableFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// resolveExplicitPython finds a configured interpreter: a path (relative to
// the project directory) or a name looked up on PATH.
func resolveExplicitPython(p, dir, pathEnv string) (string, error) {
	if strings.ContainsRune(p, filepath.Separator) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if !isExecutableFile(p) {
			if _, err := os.Stat(p); err != nil {
				return "", err
			}
			return "", errors.New("not an executable file")
		}
		return p, nil
	}
	for _, d := range filepath.SplitList(pathEnv) {
		if d == "" || !filepath.IsAbs(d) {
			continue
		}
		if c := filepath.Join(d, p); isExecutableFile(c) {
			return c, nil
		}
	}
	return "", errors.New("not found on PATH")
}

// debianPackage names the bookworm package that provides a module.
var debianPackage = map[string]string{
	"django":    "python3-django",
	"flask":     "python3-flask",
	"fastapi":   "python3-fastapi",
	"starlette": "python3-starlette",
	"gunicorn":  "gunicorn",
	"uvicorn":   "uvicorn",
}

// noInterpreterError lists every candidate and what it lacked, and the
// command that fixes it.
func noInterpreterError(req interpreterRequest, tried []Candidate) error {
	var b strings.Builder
	fmt.Fprintf(&b, "no Python interpreter can import %s", strings.Join(req.Need, " and "))
	for _, c := range tried {
		fmt.Fprintf(&b, "\n  %s (%s", c.Path, c.Source)
		if c.Version != "" {
			fmt.Fprintf(&b, ", Python %s", c.Version)
		}
		b.WriteString("): ")
		if c.Err != "" {
			b.WriteString(c.Err)
		} else {
			b.WriteString("no " + strings.Join(c.Missing, ", no "))
		}
	}
	pkgs := strings.Join(req.Need, " ")
	var fix []string
	if req.Explicit != "" && len(tried) == 1 {
		fix = append(fix, fmt.Sprintf("install them into that interpreter: %s -m pip install %s", tried[0].Path, pkgs),
			"or point "+req.Source+" at an interpreter that has them")
	} else {
		venv := ""
		for _, c := range tried {
			if c.Source == ".venv" || c.Source == "venv" {
				venv = c.Source
				break
			}
		}
		if venv != "" {
			fix = append(fix, fmt.Sprintf("install them into the project's virtualenv: %s/bin/pip install %s", venv, pkgs))
		} else {
			fix = append(fix, fmt.Sprintf("create a virtualenv with them: python3 -m venv .venv && .venv/bin/pip install %s", pkgs))
			var deb []string
			for _, m := range req.Need {
				if debianPackage[m] != "" {
					deb = append(deb, debianPackage[m])
				}
			}
			if len(deb) == len(req.Need) {
				fix = append(fix, "or, on Debian/Ubuntu: apt-get install "+strings.Join(deb, " "))
			}
		}
	}
	return &Error{Msg: b.String(), Fix: strings.Join(fix, "\n")}
}

// envMap turns KEY=VALUE pairs into a map; later entries win, as in exec.
func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
