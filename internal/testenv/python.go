package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/devstack-dev/devstack/internal/repo"
)

// PythonSuites are the Debian suites scripts/python-suites.sh unpacks, each
// bringing newer Django and gunicorn than the machine's own (bookworm:
// Django 3.2, gunicorn 20.1; trixie: 4.2 and 23; sid: 5.2 and 26).
var PythonSuites = []string{"trixie", "sid"}

// pythonCandidates are tried in order. `python3` on PATH comes last: it is
// often a pyenv or venv interpreter without the system's packages.
var pythonCandidates = []string{"/usr/bin/python3", "/usr/local/bin/python3", "python3"}

var pythonFound sync.Map // modules (comma-joined) → interpreter path, or "" if none

// SystemPython returns an interpreter that imports django and gunicorn
// (normally /usr/bin/python3, from scripts/setup.sh), or skips/fails the test.
func SystemPython(t testing.TB) string {
	t.Helper()
	return PythonWith(t, "django", "gunicorn")
}

// PythonWith returns the first candidate interpreter that imports every one
// of modules, or skips/fails the test. DEVSTACK_TEST_PYTHON, when set, is the
// only candidate.
func PythonWith(t testing.TB, modules ...string) string {
	t.Helper()
	key := strings.Join(modules, ",")
	if p, ok := pythonFound.Load(key); ok {
		if p == "" {
			Missing(t, "no Python interpreter imports %s (install: apt-get install python3-django gunicorn python3-flask uvicorn python3-starlette)", key)
		}
		return p.(string)
	}
	candidates := pythonCandidates
	if p := os.Getenv("DEVSTACK_TEST_PYTHON"); p != "" {
		candidates = []string{p}
	}
	found := ""
	for _, c := range candidates {
		path, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		if PythonImports(path, "", modules...) == nil {
			found = path
			break
		}
	}
	pythonFound.Store(key, found)
	if found == "" {
		Missing(t, "no Python interpreter imports %s (install: apt-get install python3-django gunicorn python3-flask uvicorn python3-starlette)", key)
	}
	return found
}

// PythonImports runs python with PYTHONPATH=pythonpath (if not empty) and
// reports whether it imports every one of modules.
func PythonImports(python, pythonpath string, modules ...string) error {
	cmd := exec.Command(python, "-c", "import "+strings.Join(modules, ", "))
	cmd.Env = PythonEnv(os.Environ(), pythonpath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s cannot import %s: %v: %s", python, strings.Join(modules, ", "), err, lastLine(stderr.String()))
	}
	return nil
}

// PythonSuite returns the PYTHONPATH entry holding the suite's Django and
// gunicorn, unpacked by scripts/python-suites.sh, or skips/fails the test.
func PythonSuite(t testing.TB, suite string) (pythonpath string) {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatalf("finding the repository root: %v", err)
	}
	dir := filepath.Join(root, ".cache", "pysuites", suite)
	pythonpath = filepath.Join(dir, "usr", "lib", "python3", "dist-packages")
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil {
		Missing(t, "Python packages of Debian %s not unpacked in %s (run: scripts/python-suites.sh)", suite, dir)
	}
	return pythonpath
}

// PythonEnv returns env with PYTHONPATH set to pythonpath (dropped when
// pythonpath is empty) and with Python's output unbuffered, so that log
// lines arrive while the process runs.
func PythonEnv(env []string, pythonpath string) []string {
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		if strings.HasPrefix(kv, "PYTHONPATH=") || strings.HasPrefix(kv, "PYTHONUNBUFFERED=") {
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "PYTHONUNBUFFERED=1")
	if pythonpath != "" {
		out = append(out, "PYTHONPATH="+pythonpath)
	}
	return out
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
