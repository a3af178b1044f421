package project

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// probeScript reports an interpreter's version, import path and where the
// web modules are (see the format at its top).
//
//go:embed probe.py
var probeScript string

// probeTimeout bounds one interpreter check; a cold pyenv shim or a slow
// network file system can take a second or two.
const probeTimeout = 5 * time.Second

// probeMarker starts the probe's report; anything a sitecustomize printed
// comes before it.
const probeMarker = "\n\x00devstack-probe\n"

// probeOutcome is a checked candidate with its modules.
type probeOutcome struct {
	Candidate
	// versions maps each module the interpreter would import to its
	// installed version ("unknown" when no metadata says); missing modules
	// are absent.
	versions map[string]string
	venv     string
}

func (r probeOutcome) version(module string) string { return r.versions[module] }

func (r probeOutcome) interpreter() Interpreter {
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
	}
}

// probeInterpreter runs the probe script with one candidate, in the project
// directory and with the children's environment, so that what it finds is
// what the gateway will import.
func probeInterpreter(ctx context.Context, s candidateSpec, req interpreterRequest) probeOutcome {
	out := probeOutcome{Candidate: Candidate{Path: s.path, Source: s.source}}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	args := append([]string{"-c", probeScript}, req.Need...)
	cmd := exec.CommandContext(ctx, s.path, args...)
	cmd.Dir = req.Dir
	cmd.Env = req.Environ
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		out.Err = fmt.Sprintf("did not answer within %s", probeTimeout)
		return out
	}
	rep, perr := parseProbeReport(stdout.Bytes())
	if perr != nil {
		msg := errorLine(stderr.String())
		if err != nil && msg == "" {
			msg = err.Error()
		}
		if msg == "" {
			msg = perr.Error()
		}
		out.Err = "could not run it: " + msg
		return out
	}
	out.Version = rep.python
	if rep.prefix != rep.basePrefix {
		out.venv = rep.prefix
	}
	out.versions = make(map[string]string, len(rep.modules))
	for name, loc := range rep.modules {
		out.versions[name] = moduleVersion(name, loc, rep.sysPath)
	}
	for _, m := range req.Need {
		if out.versions[m] == "" {
			out.Missing = append(out.Missing, m)
		}
	}
	return out
}

// probeReport is what the probe script printed.
type probeReport struct {
	python             string
	prefix, basePrefix string
	sysPath            []string
	modules            map[string]moduleLocation // found modules only
}

// moduleLocation is where an import would load a module from.
type moduleLocation struct {
	origin string // its file: a package's __init__.py, or the module's .py
	pkgDir string // a package's directory, "" for a plain module
}

var errNoReport = errors.New("it printed no version")

// parseProbeReport reads the fields after the last probe marker.
func parseProbeReport(stdout []byte) (probeReport, error) {
	i := bytes.LastIndex(stdout, []byte(probeMarker))
	if i < 0 {
		return probeReport{}, errNoReport
	}
	fields := strings.Split(string(stdout[i+len(probeMarker):]), "\x00")
	rep := probeReport{modules: map[string]moduleLocation{}}
	for {
		if len(fields) == 0 {
			return probeReport{}, errors.New("probe output ends early")
		}
		key, n := fields[0], 1
		switch key {
		case "end":
			if rep.python == "" {
				return probeReport{}, errNoReport
			}
			return rep, nil
		case "python", "prefix", "base_prefix", "path", "missing":
			n = 2
		case "module":
			n = 4
		default:
			return probeReport{}, fmt.Errorf("unexpected probe output %q", key)
		}
		if len(fields) < n {
			return probeReport{}, fmt.Errorf("probe output ends inside %q", key)
		}
		v := fields[1:n]
		switch key {
		case "python":
			rep.python = v[0]
		case "prefix":
			rep.prefix = v[0]
		case "base_prefix":
			rep.basePrefix = v[0]
		case "path":
			rep.sysPath = append(rep.sysPath, v[0])
		case "module":
			rep.modules[v[0]] = moduleLocation{origin: v[1], pkgDir: v[2]}
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
