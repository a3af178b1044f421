package templates

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// Library modules a worker imported are written to the learned list, and
// the master pre-imports them at its next configuration load, except any
// that reads Django's settings: settings loaded in the master would be
// inherited, stale, by every worker of later generations.
func TestGunicornConfLearnsLibraryModules(t *testing.T) {
	python := testenv.SystemPython(t)
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			lib := t.TempDir() // outside the project: library code
			writeFile(t, filepath.Join(lib, "plainlib.py"), "VALUE = 1\n")
			writeFile(t, filepath.Join(lib, "readsettings.py"), "from django.conf import settings\nDEBUG_AT_IMPORT = settings.DEBUG\n")
			writeFile(t, filepath.Join(lib, "checksconfigured.py"), "from django.conf import settings\nCONFIGURED = settings.configured\n")
			learned := filepath.Join(t.TempDir(), "cache", "learned.txt")
			writeFile(t, learned, "plainlib\nreadsettings\nchecksconfigured\nno.such.module\n")

			pythonpath := lib
			if extra := s.pythonpath(t); extra != "" {
				pythonpath += string(os.PathListSeparator) + extra
			}
			env := append(gunicornEnv("", DjangoPreimport),
				EnvPreimportLearned+"="+learned,
				"DJANGO_SETTINGS_MODULE=mysite.settings") // so that a read would load them
			g := startGateway(t, gatewaySpec{
				python: python, pythonpath: pythonpath, dir: testdataDir(t, "django-site"),
				env: env, args: gunicornArgs(runDir(t), "mysite.wsgi"),
			})
			g.waitMarker(0, MarkerWorkerBooted, 1)
			if status, body := g.get("/whoami/", map[string]string{"Host": "localhost"}); status != http.StatusOK {
				t.Fatalf("/whoami/: %d %s", status, body)
			}

			mark := g.lineCount()
			if err := g.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			g.waitMarker(mark, MarkerWorkerBooted, 2)
			if status, body := g.get("/whoami/", map[string]string{"Host": "localhost"}); status != http.StatusOK {
				t.Fatalf("/whoami/ after SIGHUP: %d %s", status, body)
			}
			if out := g.output(); strings.Contains(out, "settings were loaded") {
				t.Errorf("the master loaded Django's settings:\n%s", out)
			}

			// Imported by the worker (django.setup), not by the static list,
			// and importable without settings; auth.models is imported too but
			// needs the app registry, so the master of generation 2 fails to
			// import it and its worker drops it from the list.
			const learnable, unlearnable = "django.contrib.auth.password_validation", "django.contrib.auth.models"
			names := waitLearned(t, learned, func(names []string) bool {
				return slices.Contains(names, learnable) && !slices.Contains(names, unlearnable)
			})
			for _, want := range []string{"plainlib", learnable, "django.db.migrations"} {
				if !slices.Contains(names, want) {
					t.Errorf("learned list lacks %s", want)
				}
			}
			for _, name := range names {
				if strings.HasPrefix(name, "mysite") || strings.HasPrefix(name, "whoami") ||
					strings.HasPrefix(name, "devstack_") || name == "readsettings" || name == "checksconfigured" ||
					name == unlearnable {
					t.Errorf("learned list has %s: project code, devstack's own, or a module that cannot be pre-imported", name)
				}
			}
		})
	}
}

// A URLconf that fails to import still boots the worker (the warm-up only
// tries it) and fails visibly on the first request, as without devstack.
func TestGunicornConfWarmUpLeavesErrorsToRequests(t *testing.T) {
	python := testenv.SystemPython(t)
	site := filepath.Join(t.TempDir(), "site")
	copyDir(t, testdataDir(t, "django-site"), site)
	urls := filepath.Join(site, "mysite", "urls.py")
	data, err := os.ReadFile(urls)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, urls, string(data)+"\nraise RuntimeError('broken urlconf for the test')\n")

	g := startGateway(t, gatewaySpec{
		python: python, dir: site,
		env:  gunicornEnv("", DjangoPreimport),
		args: gunicornArgs(runDir(t), "mysite.wsgi"),
	})
	g.waitMarker(0, MarkerWorkerBooted, 1)
	status, body := g.get("/whoami/", map[string]string{"Host": "localhost"})
	if status != http.StatusInternalServerError || !strings.Contains(string(body), "broken urlconf for the test") {
		t.Errorf("/whoami/ with a broken URLconf: %d, want 500 naming the error; body starts %.200q", status, body)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitLearned waits up to 10 s for the list, which a worker writes just
// after its booted marker, to satisfy settled; it returns the list.
func waitLearned(t *testing.T, path string, settled func([]string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(path)
		names := strings.Fields(string(data))
		if settled(names) || time.Now().After(deadline) {
			return names
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// copyDir copies a sample project, leaving out __pycache__.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if info.IsDir() {
			if info.Name() == "__pycache__" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}
