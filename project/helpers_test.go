package project

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// writeTree creates files (path → content) under a new temporary directory
// and returns it. A path ending in "/" makes a directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var (
	systemPythonOnce sync.Once
	systemPythonPath string
	systemPythonLack string
)

// systemPython returns /usr/bin/python3 when it imports everything the
// tests run (Django, gunicorn, Flask, uvicorn, Starlette: scripts/setup.sh
// installs them), or skips/fails the test.
func systemPython(t *testing.T) string {
	t.Helper()
	const install = "apt-get install python3-django gunicorn python3-flask uvicorn python3-starlette"
	systemPythonOnce.Do(func() {
		const p = "/usr/bin/python3"
		if _, err := os.Stat(p); err != nil {
			systemPythonLack = p + " not found"
			return
		}
		out, err := exec.Command(p, "-c", "import django, gunicorn, flask, uvicorn, starlette").CombinedOutput()
		if err != nil {
			systemPythonLack = p + " cannot import the web modules: " + strings.TrimSpace(string(out))
			return
		}
		systemPythonPath = p
	})
	if systemPythonPath == "" {
		testenv.Missing(t, "%s (install: %s)", systemPythonLack, install)
	}
	return systemPythonPath
}

// hintOf returns err's hint, failing the test when it has none.
func hintOf(t *testing.T, err error) string {
	t.Helper()
	var h interface{ Hint() string }
	if !errors.As(err, &h) || h.Hint() == "" {
		t.Fatalf("error %q has no hint", err)
	}
	return h.Hint()
}

// configError returns err as a *ConfigError or fails the test.
func configError(t *testing.T, err error) *ConfigError {
	t.Helper()
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("got error %v (%T), want a *ConfigError", err, err)
	}
	return ce
}

// copyFixture copies testdata/project/name into a temporary directory and
// then writes files over it.
func copyFixture(t *testing.T, name string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "testdata", "project", name))); err != nil {
		t.Fatal(err)
	}
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
