package project

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/devstack-dev/devstack/templates"
)

// inspectTimeout bounds one interpreter check; a cold pyenv shim or a slow
// network file system can take a second or two.
const inspectTimeout = 5 * time.Second

// inspectMarker starts the inspection's report; anything a sitecustomize
// printed comes before it.
const inspectMarker = "\n\x00devstack-interpreter\n"

// inspection is a checked candidate with its modules.
type inspection struct {
	Candidate
	// versions maps each module the interpreter would import to its
	// installed version ("unknown" when no metadata says); missing modules
	// are absent.
	versions map[string]string
	venv     string
	certifi  string   // certifi's cacert.pem, when the interpreter has one
	sysPath  []string // its import path
	gaps     []requirementGap
}

func (r inspection) version(module string) string { return r.versions[module] }

// meets reports whether the interpreter's version meets every declaration.
func (r inspection) meets(decls []pythonDeclaration) bool {
	_, unmet := unmetDeclaration(decls, r.Version)
	return !unmet
}

func (r inspection) interpreter() Interpreter {
	return Interpreter{
		Path:             r.Path,
		Source:           r.Source,
		Version:          r.Version,
		Venv:             r.venv,
		DjangoVersion:    r.version("django"),
		FlaskVersion:     r.version("flask"),
		FastAPIVersion:   r.version("fastapi"),
		StarletteVersion: r.version("starlette"),
		GunicornVersion:  r.version("gunicorn"),
		UvicornVersion:   r.version("uvicorn"),
		CertifiBundle:    r.certifi,
		gaps:             r.gaps,
	}
}

// inspectInterpreter checks one candidate: from the cache when its report
// still holds, else by running the inspection script.
func inspectInterpreter(ctx context.Context, s candidateSpec, req interpreterRequest, cache *interpreterCache) inspection {
	out := inspection{Candidate: Candidate{Path: s.path, Source: s.source}}
	rep, ok := cache.lookup(s.path, req)
	if !ok {
		var msg string
		if rep, msg = runInspect(ctx, s.path, req); msg != "" {
			out.Err = msg
			return out
		}
		cache.store(s.path, req, rep)
	}
	out.Version = rep.Python
	out.sysPath = rep.SysPath
	out.gaps = lacking(req.Requires, rep.SysPath)
	if rep.Prefix != rep.BasePrefix {
		out.venv = rep.Prefix
	}
	out.versions = make(map[string]string, len(rep.Modules))
	for name, loc := range rep.Modules {
		out.versions[name] = moduleVersion(name, loc, rep.SysPath)
	}
	if loc, ok := rep.Modules["certifi"]; ok && loc.PkgDir != "" {
		// Debian's certifi has no file of its own: it names the system's.
		if f := filepath.Join(loc.PkgDir, "cacert.pem"); isFile(f) {
			out.certifi = f
		}
	}
	for _, m := range req.Need {
		if out.versions[m] == "" {
			out.Missing = append(out.Missing, m)
		}
	}
	return out
}

// runInspect runs the inspection script with the interpreter, in the project
// directory and with the children's environment, so that what it finds is
// what the gateway will import. It returns the report, or why there is
// none.
func runInspect(ctx context.Context, python string, req interpreterRequest) (interpreterReport, string) {
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	args := append([]string{"-c", templates.InterpreterScript}, req.Need...)
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Dir = req.Dir
	cmd.Env = req.Environ
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return interpreterReport{}, fmt.Sprintf("did not answer within %s", inspectTimeout)
	}
	rep, perr := parseInterpreterReport(stdout.Bytes())
	if perr != nil {
		msg := errorLine(stderr.String())
		if err != nil && msg == "" {
			msg = err.Error()
		}
		if msg == "" {
			msg = perr.Error()
		}
		return interpreterReport{}, "could not run it: " + msg
	}
	rep.absolute(req.Dir)
	return rep, ""
}

// interpreterReport is what the inspection script printed.
// It is stored as is in the interpreter cache.
type interpreterReport struct {
	Python     string                    `json:"python"`
	Prefix     string                    `json:"prefix"`
	BasePrefix string                    `json:"base_prefix"`
	Executable string                    `json:"executable"` // sys.executable
	SysPath    []string                  `json:"path"`       // '' (the project directory) made absolute
	Watch      []string                  `json:"watch"`      // site directories, existing or not
	Modules    map[string]moduleLocation `json:"modules"`    // found modules only
	Missing    []string                  `json:"missing"`    // modules not found
}

// absolute makes the paths absolute: a relative sys.path entry (python
// -S keeps PYTHONPATH's as they are) is relative to the project directory
// the inspection ran in.
func (r *interpreterReport) absolute(dir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	for i, p := range r.SysPath {
		r.SysPath[i] = abs(p)
	}
	for i, p := range r.Watch {
		r.Watch[i] = abs(p)
	}
	for name, loc := range r.Modules {
		r.Modules[name] = moduleLocation{Origin: abs(loc.Origin), PkgDir: abs(loc.PkgDir)}
	}
	r.Executable = abs(r.Executable)
}

// moduleLocation is where an import would load a module from.
type moduleLocation struct {
	Origin string `json:"origin"`  // its file: a package's __init__.py, or the module's .py
	PkgDir string `json:"package"` // a package's directory, "" for a plain module
}

var errNoReport = errors.New("it printed no version")

// parseInterpreterReport reads the fields after the last marker.
func parseInterpreterReport(stdout []byte) (interpreterReport, error) {
	i := bytes.LastIndex(stdout, []byte(inspectMarker))
	if i < 0 {
		return interpreterReport{}, errNoReport
	}
	fields := strings.Split(string(stdout[i+len(inspectMarker):]), "\x00")
	rep := interpreterReport{Modules: map[string]moduleLocation{}}
	for {
		if len(fields) == 0 {
			return interpreterReport{}, errors.New("the report ends early")
		}
		key, n := fields[0], 1
		switch key {
		case "end":
			if rep.Python == "" {
				return interpreterReport{}, errNoReport
			}
			return rep, nil
		case "python", "prefix", "base_prefix", "executable", "path", "watch", "missing":
			n = 2
		case "module":
			n = 4
		default:
			return interpreterReport{}, fmt.Errorf("unexpected report field %q", key)
		}
		if len(fields) < n {
			return interpreterReport{}, fmt.Errorf("the report ends inside %q", key)
		}
		v := fields[1:n]
		switch key {
		case "python":
			rep.Python = v[0]
		case "prefix":
			rep.Prefix = v[0]
		case "base_prefix":
			rep.BasePrefix = v[0]
		case "executable":
			rep.Executable = v[0]
		case "path":
			rep.SysPath = append(rep.SysPath, v[0])
		case "watch":
			rep.Watch = append(rep.Watch, v[0])
		case "missing":
			rep.Missing = append(rep.Missing, v[0])
		case "module":
			rep.Modules[v[0]] = moduleLocation{Origin: v[1], PkgDir: v[2]}
		}
		fields = fields[n:]
	}
}

// errorLine picks the telling line of an interpreter's stderr: the
// exception at the end of a traceback, else the first line (pyenv's
// "python3.12: command not found").
func errorLine(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "Traceback") {
		if i := strings.LastIndexByte(s, '\n'); i >= 0 {
			return s[i+1:]
		}
	}
	first, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(first)
}
