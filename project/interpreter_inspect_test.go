package project

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseInterpreterReport(t *testing.T) {
	report := func(fields ...string) string {
		return inspectMarker + strings.Join(fields, "\x00")
	}
	full := report("python", "3.12.1", "prefix", "/v", "base_prefix", "/usr",
		"path", "/p d", "path", "/usr/lib/python3.12",
		"module", "django", "/p d/django/__init__.py", "/p d/django",
		"module", "six", "/usr/lib/six.py", "",
		"missing", "gunicorn", "end", "")
	t.Run("complete", func(t *testing.T) {
		rep, err := parseInterpreterReport([]byte("sitecustomize says hi\n" + full + "atexit output\n"))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Python != "3.12.1" || rep.Prefix != "/v" || rep.BasePrefix != "/usr" {
			t.Errorf("got %+v", rep)
		}
		if !slices.Equal(rep.SysPath, []string{"/p d", "/usr/lib/python3.12"}) {
			t.Errorf("sys.path: got %q", rep.SysPath)
		}
		if got, want := rep.Modules["django"], (moduleLocation{"/p d/django/__init__.py", "/p d/django"}); got != want {
			t.Errorf("django: got %+v, want %+v", got, want)
		}
		if got := rep.Modules["six"]; got.PkgDir != "" || got.Origin != "/usr/lib/six.py" {
			t.Errorf("six: got %+v", got)
		}
		if _, ok := rep.Modules["gunicorn"]; ok {
			t.Error("gunicorn is missing but listed")
		}
	})
	t.Run("the last report counts", func(t *testing.T) {
		rep, err := parseInterpreterReport([]byte(report("python", "2.0", "end") + full))
		if err != nil || rep.Python != "3.12.1" {
			t.Errorf("got %q, %v", rep.Python, err)
		}
	})
	for name, out := range map[string]string{
		"empty":          "",
		"no marker":      "Python 3.12.1\n",
		"truncated":      report("python", "3.12.1", "module", "django"),
		"no end":         report("python", "3.12.1"),
		"no version":     report("prefix", "/usr", "end"),
		"unknown field":  report("python", "3.12.1", "colour", "blue", "end"),
		"only a marker":  inspectMarker,
		"marker and NUL": inspectMarker + "\x00",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseInterpreterReport([]byte(out)); err == nil {
				t.Errorf("%q: no error", out)
			}
		})
	}
}

// TestInspectionFindsWithoutImporting: a module is located as `import` would
// find it, without running it; a bare directory (a namespace package) is
// not an installed module.
func TestInspectionFindsWithoutImporting(t *testing.T) {
	bare := bareVenvPython(t)
	dir := copyFixture(t, "django-basic", map[string]string{
		".env": "PYTHONPATH=vendor\n",
		// Running it would fail: the check must not run it.
		"vendor/django/__init__.py":              "raise SystemExit('imported!')\n",
		"vendor/Django-5.0.1.dist-info/METADATA": "Name: Django\nVersion: 5.0.1\n",
		"vendor/gunicorn/README":                 "a directory, not a package\n",
	})
	p, err := Detect(dir, Overrides{Python: bare, Environ: []string{"PATH=/usr/bin:/bin"}})
	if err == nil {
		t.Fatalf("got %s, want gunicorn missing", p.Interpreter.Path)
	}
	if msg := err.Error(); !strings.Contains(msg, "): no gunicorn") || strings.Contains(msg, "no django") {
		t.Errorf("error %q: want gunicorn missing and django found", msg)
	}

	// With gunicorn vendored too, django's version comes from its metadata.
	if err := os.WriteFile(filepath.Join(dir, "vendor", "gunicorn", "__init__.py"), []byte("version_info = (21, 2, 0)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err = Detect(dir, Overrides{Python: bare, Environ: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	if in := p.Interpreter; in.DjangoVersion != "5.0.1" || in.GunicornVersion != "unknown" {
		t.Errorf("got django %q, gunicorn %q; want 5.0.1 and unknown", in.DjangoVersion, in.GunicornVersion)
	}
}
