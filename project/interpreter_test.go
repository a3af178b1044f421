package project

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/devstack-dev/devstack/internal/testenv"
)

var (
	bareVenvOnce sync.Once
	bareVenvPy   string
	bareVenvErr  string
)

// bareVenvPython returns the python of a virtualenv made without system
// site-packages: a real interpreter that cannot import Django or gunicorn,
// like a pyenv build. It is made once per test run.
func bareVenvPython(t *testing.T) string {
	t.Helper()
	py := systemPython(t)
	bareVenvOnce.Do(func() {
		dir, err := os.MkdirTemp("", "devstack-bare-venv-")
		if err != nil {
			bareVenvErr = err.Error()
			return
		}
		if out, err := exec.Command(py, "-m", "venv", "--without-pip", dir).CombinedOutput(); err != nil {
			bareVenvErr = "python3 -m venv: " + strings.TrimSpace(string(out))
			return
		}
		bareVenvPy = filepath.Join(dir, "bin", "python")
	})
	if bareVenvPy == "" {
		testenv.Missing(t, "cannot make a virtualenv: %s (install: apt-get install python3-venv)", bareVenvErr)
	}
	return bareVenvPy
}

func TestMain(m *testing.M) {
	// The interpreter cache goes to a directory of the test run's own, not
	// the user's, and is shared by every test: each must hold with a warm
	// cache as with a cold one.
	cache, err := os.MkdirTemp("", "devstack-test-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("DEVSTACK_CACHE_DIR", cache)
	code := m.Run()
	os.RemoveAll(cache)
	if bareVenvPy != "" {
		os.RemoveAll(filepath.Dir(filepath.Dir(bareVenvPy)))
	}
	os.Exit(code)
}

// shimDir makes a directory holding a python3 script that execs target,
// as a version manager's shim does.
func shimDir(t *testing.T, target string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bin")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nexec " + target + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "python3"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func djangoTree(t *testing.T) string {
	return copyFixture(t, "django-basic", nil)
}

// TestInterpreterShimFirstOnPath is the common trap: a version manager's
// python3 first on PATH, without the system's Django.
func TestInterpreterShimFirstOnPath(t *testing.T) {
	py := systemPython(t)
	shims := shimDir(t, bareVenvPython(t))
	p, err := Detect(djangoTree(t), Overrides{Environ: []string{"PATH=" + shims + ":/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Interpreter.Path != py {
		t.Errorf("interpreter: got %s, want %s", p.Interpreter.Path, py)
	}
	tried := p.Interpreter.Tried
	if len(tried) < 2 || tried[0].Path != filepath.Join(shims, "python3") || !slices.Equal(tried[0].Missing, []string{"django", "gunicorn"}) {
		t.Fatalf("tried: got %+v, want the shim first, lacking django and gunicorn", tried)
	}
	if last := tried[len(tried)-1]; last.Path != py || !last.OK() {
		t.Errorf("last tried: got %+v, want %s", last, py)
	}
	if p.GatewayArgv[0] != py {
		t.Errorf("gateway argv: got %q, want it to start with %s", p.GatewayArgv, py)
	}
}

// TestInterpreterRealPyenv runs the search with this machine's pyenv shims
// first on PATH, when python3 is one.
func TestInterpreterRealPyenv(t *testing.T) {
	py := systemPython(t)
	shim := testenv.LookPath(t, "python3", "apt-get install python3")
	if !isPyenvShim(shim) {
		t.Skipf("python3 on PATH (%s) is not a pyenv shim", shim)
	}
	dir := djangoTree(t)
	env := []string{"PATH=" + filepath.Dir(shim) + ":/usr/bin:/bin", "HOME=" + os.Getenv("HOME")}
	if v, ok := os.LookupEnv("PYENV_VERSION"); ok {
		env = append(env, "PYENV_VERSION="+v)
	}
	p, err := Detect(dir, Overrides{Environ: env})
	if err != nil {
		t.Fatal(err)
	}
	first := p.Interpreter.Tried[0]
	if first.OK() {
		t.Skipf("the pyenv python (%s) has django and gunicorn: no trap to test here", first.Path)
	}
	if !strings.Contains(first.Source, "pyenv shim "+shim) || !slices.Contains(first.Missing, "django") {
		t.Errorf("first tried: got %+v, want the pyenv interpreter behind %s, lacking django", first, shim)
	}
	if p.Interpreter.Path != py {
		t.Errorf("interpreter: got %s, want %s", p.Interpreter.Path, py)
	}
	// The shim, run directly, must agree on what it is.
	out, err := exec.Command(shim, "-c", "import sys; print(sys.executable)").Output()
	if err == nil {
		real1, _ := filepath.EvalSymlinks(strings.TrimSpace(string(out)))
		real2, _ := filepath.EvalSymlinks(first.Path)
		if real1 != real2 {
			t.Errorf("shim resolved to %s, but runs %s", first.Path, strings.TrimSpace(string(out)))
		}
	}
}

// TestInterpreterProjectVenvPreferred: a .venv that sees the system's
// packages comes before everything on PATH.
func TestInterpreterProjectVenvPreferred(t *testing.T) {
	py := systemPython(t)
	dir := djangoTree(t)
	venv := filepath.Join(dir, ".venv")
	if out, err := exec.Command(py, "-m", "venv", "--system-site-packages", "--without-pip", venv).CombinedOutput(); err != nil {
		testenv.Missing(t, "python3 -m venv: %s (install: apt-get install python3-venv)", out)
	}
	p, err := Detect(dir, Overrides{Environ: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	in := p.Interpreter
	if in.Path != filepath.Join(venv, "bin", "python") || in.Source != ".venv" || in.Venv != venv || len(in.Tried) != 1 {
		t.Errorf("got %+v, want %s/bin/python from .venv, tried alone", in, venv)
	}
	if !slices.Contains(p.Env, "VIRTUAL_ENV="+venv) || !slices.Contains(p.Env, "PATH="+venv+"/bin:/usr/bin:/bin") {
		t.Errorf("env: got %q, want the venv activated for children", p.Env)
	}
}

func TestInterpreterNoneCan(t *testing.T) {
	bare := bareVenvPython(t)
	shims := shimDir(t, bare)
	cand := filepath.Join(shims, "python3")

	t.Run("searched", func(t *testing.T) {
		o := Overrides{Environ: []string{"PATH=" + shims}, testOnlySystemPythons: []string{}}
		_, err := Detect(djangoTree(t), o)
		if err == nil {
			t.Fatal("no error")
		}
		msg := err.Error()
		for _, want := range []string{"no Python interpreter can import django and gunicorn", cand + " (PATH, Python 3.", "): no django, no gunicorn"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q lacks %q", msg, want)
			}
		}
		hint := hintOf(t, err)
		for _, want := range []string{"python3 -m venv .venv && .venv/bin/pip install django gunicorn", "apt-get install python3-django gunicorn"} {
			if !strings.Contains(hint, want) {
				t.Errorf("hint %q lacks %q", hint, want)
			}
		}
	})
	t.Run("project venv without them", func(t *testing.T) {
		dir := djangoTree(t)
		if err := os.MkdirAll(filepath.Join(dir, ".venv", "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		// A script, not a symlink: a symlinked python outside its venv is
		// the base interpreter, with the system's packages.
		if err := os.WriteFile(filepath.Join(dir, ".venv", "bin", "python"), []byte("#!/bin/sh\nexec "+bare+" \"$@\"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := Detect(dir, Overrides{Environ: []string{"PATH=" + shims}, testOnlySystemPythons: []string{}})
		if err == nil {
			t.Fatal("no error")
		}
		if hint := hintOf(t, err); !strings.Contains(hint, ".venv/bin/pip install django gunicorn") {
			t.Errorf("hint %q: want the venv's pip", hint)
		}
	})
	t.Run("explicit --python without them", func(t *testing.T) {
		_, err := Detect(djangoTree(t), Overrides{Python: bare, Environ: []string{"PATH=/usr/bin:/bin"}})
		if err == nil {
			t.Fatal("no error: an explicit interpreter must not be replaced by another")
		}
		if hint := hintOf(t, err); !strings.Contains(hint, bare+" -m pip install django gunicorn") || !strings.Contains(hint, "--python") {
			t.Errorf("hint %q: want pip for that interpreter", hint)
		}
	})
	t.Run("flask app needs flask and gunicorn", func(t *testing.T) {
		dir := writeTree(t, map[string]string{"app.py": "from flask import Flask\napp = Flask(__name__)\n"})
		_, err := Detect(dir, Overrides{Environ: []string{"PATH=" + shims}, testOnlySystemPythons: []string{}})
		if err == nil || !strings.Contains(err.Error(), "import flask and gunicorn") || !strings.Contains(hintOf(t, err), "apt-get install python3-flask gunicorn") {
			t.Errorf("got %v, want flask and gunicorn named", err)
		}
	})
	t.Run("custom command only warns", func(t *testing.T) {
		p, err := Detect(djangoTree(t), Overrides{Command: []string{"true"}, Environ: []string{"PATH=" + shims}, testOnlySystemPythons: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		if p.Interpreter.Path != "" || len(p.Warnings) == 0 {
			t.Errorf("got interpreter %q, warnings %q; want none and a warning", p.Interpreter.Path, p.Warnings)
		}
	})
}

func TestInterpreterExplicit(t *testing.T) {
	py := systemPython(t)
	dir := djangoTree(t)
	t.Run("config python relative to the project", func(t *testing.T) {
		if err := os.MkdirAll(filepath.Join(dir, "tools"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(py, filepath.Join(dir, "tools", "py")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "devstack.toml"), []byte("python = \"tools/py\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Detect(dir, Overrides{Environ: testEnviron()})
		if err != nil {
			t.Fatal(err)
		}
		if p.Interpreter.Path != filepath.Join(dir, "tools", "py") || p.Interpreter.Source != "python in devstack.toml" {
			t.Errorf("got %s from %q", p.Interpreter.Path, p.Interpreter.Source)
		}
	})
	t.Run("a name is looked up on PATH", func(t *testing.T) {
		p, err := Detect(fixture("django-basic"), Overrides{Python: "python3", Environ: testEnviron()})
		if err != nil {
			t.Fatal(err)
		}
		if p.Interpreter.Path != "/usr/bin/python3" {
			t.Errorf("got %s", p.Interpreter.Path)
		}
	})
	t.Run("missing", func(t *testing.T) {
		env, _ := EnvOverrides(func(k string) (string, bool) {
			return "/nonexistent/python", k == "DEVSTACK_PYTHON"
		})
		env.Environ = testEnviron()
		_, err := Detect(fixture("django-basic"), env)
		if err == nil || !strings.Contains(err.Error(), `python "/nonexistent/python" (from DEVSTACK_PYTHON) not found`) {
			t.Errorf("got %v", err)
		}
		hintOf(t, err)
	})
	t.Run("VIRTUAL_ENV", func(t *testing.T) {
		venv := filepath.Join(t.TempDir(), "env")
		if out, err := exec.Command(py, "-m", "venv", "--system-site-packages", "--without-pip", venv).CombinedOutput(); err != nil {
			testenv.Missing(t, "python3 -m venv: %s", out)
		}
		p, err := Detect(fixture("django-basic"), Overrides{Environ: []string{"PATH=/usr/bin:/bin", "VIRTUAL_ENV=" + venv}})
		if err != nil {
			t.Fatal(err)
		}
		if p.Interpreter.Source != "VIRTUAL_ENV" || p.Interpreter.Venv != venv {
			t.Errorf("got %+v", p.Interpreter)
		}
		if slices.ContainsFunc(p.Env, func(kv string) bool { return strings.HasPrefix(kv, "VIRTUAL_ENV=") }) {
			t.Errorf("env %q: VIRTUAL_ENV is already set, must not be repeated", p.Env)
		}
	})
	t.Run("an interpreter that is not Python", func(t *testing.T) {
		fake := filepath.Join(t.TempDir(), "python")
		if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'not python' >&2\nexit 3\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := Detect(fixture("django-basic"), Overrides{Python: fake, Environ: testEnviron()})
		if err == nil || !strings.Contains(err.Error(), "could not run it: not python") {
			t.Errorf("got %v", err)
		}
	})
}

func TestPythonsInOrder(t *testing.T) {
	dir := writeTree(t, map[string]string{})
	for _, n := range []string{"python3.9", "python3", "python3.12", "python3-config", "python3.11-config", "python", "python3.10"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := pythonsIn(dir), []string{"python3", "python3.12", "python3.10", "python3.9"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestResolvePyenvShim(t *testing.T) {
	root := writeTree(t, map[string]string{
		"shims/python3":                  "#!/usr/bin/env bash\nexec \"/x/pyenv/libexec/pyenv\" exec \"$program\" \"$@\"\n",
		"shims/python3.12":               "#!/usr/bin/env bash\nexec \"/x/pyenv/libexec/pyenv\" exec \"$program\" \"$@\"\n",
		"versions/3.12.1/bin/python3":    "",
		"versions/3.12.1/bin/python3.12": "",
		"versions/3.9.0/bin/python3":     "",
		"version":                        "3.12.1\n",
		"sys/python3":                    "",
		"project/sub/":                   "",
	})
	for _, f := range []string{"versions/3.12.1/bin/python3", "versions/3.12.1/bin/python3.12", "versions/3.9.0/bin/python3", "sys/python3"} {
		if err := os.Chmod(filepath.Join(root, f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	shim := filepath.Join(root, "shims", "python3")
	shim312 := filepath.Join(root, "shims", "python3.12")
	if !isPyenvShim(shim) {
		t.Fatal("not recognised as a pyenv shim")
	}
	project := filepath.Join(root, "project", "sub")
	path := filepath.Join(root, "shims") + ":" + filepath.Join(root, "sys")
	tests := []struct {
		name, shim, versionFile string
		env                     map[string]string
		want                    shimResolution
	}{
		{"global version", shim, "", nil, shimResolution{Binary: root + "/versions/3.12.1/bin/python3", Sure: true}},
		{"PYENV_VERSION wins", shim, "3.12.1", map[string]string{"PYENV_VERSION": "3.9.0"}, shimResolution{Binary: root + "/versions/3.9.0/bin/python3", Sure: true}},
		{".python-version in a parent", shim, "3.9.0", nil, shimResolution{Binary: root + "/versions/3.9.0/bin/python3", Sure: true}},
		{"not in the selected version", shim312, "3.9.0", nil, shimResolution{Sure: true, Reason: "pyenv: python3.12 is not in the selected version (3.9.0)"}},
		{"second selected version", shim312, "3.9.0\n3.12.1\n", nil, shimResolution{Binary: root + "/versions/3.12.1/bin/python3.12", Sure: true}},
		{"system skips the shims", shim, "system", nil, shimResolution{Binary: root + "/sys/python3", Sure: true}},
		{"unknown version name: let pyenv decide", shim, "3.12", nil, shimResolution{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vf := filepath.Join(root, "project", ".python-version")
			os.Remove(vf)
			if tt.versionFile != "" {
				if err := os.WriteFile(vf, []byte(tt.versionFile), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			env := map[string]string{"PATH": path}
			for k, v := range tt.env {
				env[k] = v
			}
			if got := resolvePyenvShim(tt.shim, project, env); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestInterpreterSeesEnvFiles: the check runs with the children's
// environment, so a PYTHONPATH set in .env counts, as it will for gunicorn.
func TestInterpreterSeesEnvFiles(t *testing.T) {
	bare := bareVenvPython(t)
	dir := copyFixture(t, "django-basic", map[string]string{
		".env":                        "PYTHONPATH=vendor\n",
		"vendor/django/__init__.py":   "__version__ = '9.9'\n",
		"vendor/gunicorn/__init__.py": "__version__ = '99.0'\n",
	})
	p, err := Detect(dir, Overrides{Python: bare, Environ: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Interpreter.DjangoVersion != "9.9" || p.Interpreter.GunicornVersion != "99.0" {
		t.Errorf("got django %q, gunicorn %q; want the vendored 9.9 and 99.0", p.Interpreter.DjangoVersion, p.Interpreter.GunicornVersion)
	}
}
