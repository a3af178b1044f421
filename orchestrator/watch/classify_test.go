package watch

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devstack-dev/devstack/internal/testenv"
)

func TestRestartCause(t *testing.T) {
	caller := map[string]bool{"config/gunicorn_dev.py": true}
	tests := []struct{ path, want string }{
		{"gunicorn.conf.py", "gunicorn config gunicorn.conf.py"},
		{"app/gunicorn.conf.py", ""}, // only the root's is gunicorn's default
		{".env", "environment file .env"},
		{".env.local", "environment file .env.local"},
		{".flaskenv", "environment file .flaskenv"},
		{"devstack.toml", "devstack config devstack.toml"},
		{"Procfile.dev", "Procfile Procfile.dev"},
		{"requirements.txt", "dependency manifest requirements.txt"},
		{"requirements-dev.txt", "dependency manifest requirements-dev.txt"},
		{"requirements/base.txt", "dependency manifest requirements/base.txt"},
		{"constraints.txt", "dependency manifest constraints.txt"},
		{"pyproject.toml", "dependency manifest pyproject.toml"},
		{"libs/shared/pyproject.toml", "dependency manifest libs/shared/pyproject.toml"},
		{"setup.py", "dependency manifest setup.py"},
		{"setup.cfg", "dependency manifest setup.cfg"},
		{"Pipfile.lock", "dependency manifest Pipfile.lock"},
		{"poetry.lock", "dependency manifest poetry.lock"},
		{"uv.lock", "dependency manifest uv.lock"},
		{"config/gunicorn_dev.py", "restart file config/gunicorn_dev.py"},
		{"app/views.py", ""},
		{"app/settings.py", ""}, // the app's own code: a reload re-imports it
		{"notes.txt", ""},
	}
	for _, tt := range tests {
		if got := restartCause(tt.path, caller); got != tt.want {
			t.Errorf("restartCause(%q): got %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestRestartClassification(t *testing.T) {
	root := project(t, map[string]string{
		"app/views.py":      "",
		"requirements.txt":  "django\n",
		".env":              "DEBUG=1\n",
		".gitignore":        ".env\nconfig/\n",
		"gunicorn.conf.py":  "",
		"config/dev.py":     "",
		"config/other.py":   "",
		"pyproject.toml":    "",
		"app/templates/a.h": "",
	})
	outside := t.TempDir()
	write(t, filepath.Join(outside, "gunicorn.py"), "")
	w := startWatcher(t, Options{
		Root:         root,
		RestartFiles: []string{"config/dev.py", filepath.Join(outside, "gunicorn.py")},
		Include:      []string{"*.py"}, // restart files count regardless
		Quiet:        testQuiet,
	})
	tests := []struct {
		write []string
		want  string // RestartCause; "" for a reload
	}{
		{[]string{"app/views.py"}, ""},
		{[]string{"requirements.txt"}, "dependency manifest requirements.txt"},
		{[]string{".env"}, "environment file .env"},
		{[]string{"gunicorn.conf.py"}, "gunicorn config gunicorn.conf.py"},
		{[]string{"config/dev.py"}, "restart file config/dev.py"},
		{[]string{filepath.Join(outside, "gunicorn.py")}, "restart file " + filepath.ToSlash(filepath.Join(outside, "gunicorn.py"))},
		{[]string{"app/views.py", "pyproject.toml"}, "dependency manifest pyproject.toml"},
	}
	for _, tt := range tests {
		var last string
		for _, name := range tt.write {
			if !filepath.IsAbs(name) {
				name = filepath.Join(root, name)
			}
			write(t, name, "changed\n")
			last = name
		}
		b, _ := batchesUntil(t, w, w.display(last))
		if b.NeedsRestart != (tt.want != "") || b.RestartCause != tt.want {
			t.Errorf("after writing %q: got restart=%v cause=%q, want cause %q (batch %+v)", tt.write, b.NeedsRestart, b.RestartCause, tt.want, b)
		}
	}
	// config/ is ignored: a file there that is not a restart file is not
	// reported even though its directory is now watched.
	write(t, filepath.Join(root, "config/other.py"), "changed\n")
	write(t, filepath.Join(root, "app/views.py"), "changed again\n")
	b, _ := batchesUntil(t, w, "app/views.py")
	wantPaths(t, b, "app/views.py")
}

// makeVenv lays a virtualenv out the way `python -m venv` does: the
// directories first, then pyvenv.cfg.
func makeVenv(t *testing.T, dir string) string {
	t.Helper()
	sp := filepath.Join(dir, "lib", "python3.11", "site-packages")
	mkdirAll(t, filepath.Join(sp, "django"))
	mkdirAll(t, filepath.Join(dir, "bin"))
	write(t, filepath.Join(dir, "pyvenv.cfg"), "home = /usr/bin\n")
	return sp
}

func TestVirtualenvChangesNeedRestart(t *testing.T) {
	root := project(t, map[string]string{"app.py": ""})
	sp := makeVenv(t, filepath.Join(root, ".venv"))
	w := startWatcher(t, Options{Root: root, VenvDirs: []string{".venv"}})

	// Deep inside a package: not watched (thousands of directories).
	write(t, filepath.Join(sp, "django", "new.py"), "")
	// A package installed: the top of site-packages changes.
	mkdirAll(t, filepath.Join(sp, "requests-2.31.0.dist-info"))
	b, _ := batchesUntil(t, w, ".venv/lib/python3.11/site-packages/requests-2.31.0.dist-info")
	if !b.NeedsRestart || b.RestartCause != "virtualenv .venv" {
		t.Errorf("package install: got %+v, want a restart caused by the virtualenv", b)
	}
	if strings.Contains(strings.Join(b.Paths, " "), "django/new.py") {
		t.Errorf("a file deep in site-packages was reported: %q", b.Paths)
	}

	// The virtualenv recreated from scratch (rm -rf .venv; uv venv).
	if err := os.RemoveAll(filepath.Join(root, ".venv")); err != nil {
		t.Fatal(err)
	}
	sp = makeVenv(t, filepath.Join(root, ".venv"))
	b, _ = batchesUntil(t, w, ".venv/pyvenv.cfg")
	if !b.NeedsRestart {
		t.Errorf("recreated virtualenv: got %+v, want a restart", b)
	}
	// …and its new site-packages is watched.
	waitFollowedExtra(t, w, sp)
	write(t, filepath.Join(sp, "editable.pth"), "/src\n")
	b, _ = batchesUntil(t, w, ".venv/lib/python3.11/site-packages/editable.pth")
	if !b.NeedsRestart {
		t.Errorf("editable install: got %+v, want a restart", b)
	}
}

func TestVirtualenvCreatedInProjectIsIgnored(t *testing.T) {
	root := project(t, map[string]string{"app.py": ""})
	w := startWatcher(t, Options{Root: root})
	makeVenv(t, filepath.Join(root, "tools"))
	write(t, filepath.Join(root, "tools/lib/python3.11/site-packages/django/__init__.py"), "")
	write(t, filepath.Join(root, "tools/bin/activate"), "")
	waitPending(t, w, func() bool { return w.rules.venvs["tools"] })
	write(t, filepath.Join(root, "app.py"), "x\n")
	b, _ := batchesUntil(t, w, "app.py")
	wantPaths(t, b, "app.py")
}

func TestRealVenvCreationDoesNotReload(t *testing.T) {
	python := testenv.LookPath(t, "/usr/bin/python3", "apt-get install python3")
	root := project(t, map[string]string{"app.py": ""})
	w := startWatcher(t, Options{Root: root})
	out, err := exec.Command(python, "-m", "venv", "--without-pip", filepath.Join(root, "env")).CombinedOutput()
	if err != nil {
		t.Skipf("python -m venv: %v\n%s", err, out)
	}
	write(t, filepath.Join(root, "app.py"), "x\n")
	b, _ := batchesUntil(t, w, "app.py")
	wantPaths(t, b, "app.py")
}

// waitFollowedExtra waits until dir is watched as a restart-only directory.
func waitFollowedExtra(t *testing.T, w *Watcher, dir string) {
	t.Helper()
	waitUntil(t, w, func() bool { return w.extra[dir] != nil })
}

func TestVirtualenvOutsideProjectRecreated(t *testing.T) {
	root := project(t, map[string]string{"app.py": ""})
	venv := filepath.Join(t.TempDir(), "site-env")
	makeVenv(t, venv)
	w := startWatcher(t, Options{Root: root, VenvDirs: []string{venv}})
	cfg := filepath.ToSlash(filepath.Join(venv, "pyvenv.cfg"))

	if err := os.RemoveAll(venv); err != nil {
		t.Fatal(err)
	}
	b, _ := batchesUntil(t, w, cfg)
	if !b.NeedsRestart || !strings.HasPrefix(b.RestartCause, "virtualenv /") {
		t.Errorf("virtualenv removed: got %+v, want a restart naming its absolute path", b)
	}
	sp := makeVenv(t, venv)
	waitFollowedExtra(t, w, sp)
	mkdirAll(t, filepath.Join(sp, "flask"))
	b, _ = batchesUntil(t, w, filepath.ToSlash(filepath.Join(sp, "flask")))
	if !b.NeedsRestart {
		t.Errorf("package installed in the recreated virtualenv: got %+v, want a restart", b)
	}
}
