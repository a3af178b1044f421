package project

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cacheTest runs Detect with an interpreter cache of its own and tells
// whether a report came from the cache: markCached changes every kept
// report's Python version to a value only the cache can give.
type cacheTest struct {
	t       *testing.T
	file    string
	dir     string
	environ []string
	python  string
	first   Interpreter // the first check's result
}

const cachedMark = "0.0.0-cached"

func newCacheTest(t *testing.T, files map[string]string, environ ...string) *cacheTest {
	t.Helper()
	cacheDir := t.TempDir()
	t.Setenv("DEVSTACK_CACHE_DIR", cacheDir)
	c := &cacheTest{
		t:       t,
		file:    filepath.Join(cacheDir, interpreterCacheFile),
		dir:     copyFixture(t, "django-basic", files),
		environ: append([]string{"PATH=/usr/bin:/bin"}, environ...),
		python:  privatePython(t),
	}
	c.age(c.dir)
	return c
}

// age sets every modification time under root an hour back: reports whose
// files changed in the last seconds are not kept.
func (c *cacheTest) age(root string) {
	c.t.Helper()
	old := time.Now().Add(-time.Hour)
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, old, old)
	})
	if err != nil {
		c.t.Fatal(err)
	}
}

func (c *cacheTest) detect() Interpreter {
	c.t.Helper()
	p, err := Detect(c.dir, Overrides{Python: c.python, Environ: c.environ})
	if err != nil {
		c.t.Fatal(err)
	}
	return p.Interpreter
}

func (c *cacheTest) entries() int {
	c.t.Helper()
	data, err := os.ReadFile(c.file)
	if os.IsNotExist(err) {
		return 0
	}
	var f cacheFile
	if err != nil || json.Unmarshal(data, &f) != nil {
		c.t.Fatalf("cache file: %v %s", err, data)
	}
	return len(f.Entries)
}

func (c *cacheTest) markCached() {
	c.t.Helper()
	data, err := os.ReadFile(c.file)
	if err != nil {
		c.t.Fatalf("nothing was cached: %v", err)
	}
	var f cacheFile
	if err := json.Unmarshal(data, &f); err != nil {
		c.t.Fatal(err)
	}
	for i := range f.Entries {
		f.Entries[i].Report.Python = cachedMark
	}
	if data, err = json.Marshal(f); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(c.file, data, 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// fromCache reports whether the last detect used the kept report.
func (c *cacheTest) fromCache() bool {
	c.t.Helper()
	in := c.detect()
	return in.Version == cachedMark
}

func TestInterpreterCacheReused(t *testing.T) {
	c := newCacheTest(t, nil)
	first := c.detect()
	if first.DjangoVersion != "3.2.19" {
		t.Fatalf("Django %q: the test's own interpreter tree was not used", first.DjangoVersion)
	}
	if c.entries() != 1 {
		t.Fatalf("%d cache entries, want 1", c.entries())
	}
	c.markCached()
	if !c.fromCache() {
		t.Fatal("the second check ran the interpreter again")
	}
	// Versions are read from the files every time, never cached.
	if got := c.detect(); got.DjangoVersion != first.DjangoVersion || got.GunicornVersion != first.GunicornVersion || got.Path != first.Path {
		t.Errorf("from the cache: got %+v, want %+v", got, first)
	}
}

// TestInterpreterCacheInvalidated: each change that can change what the
// interpreter imports makes the next check run it again.
func TestInterpreterCacheInvalidated(t *testing.T) {
	vendorFiles := map[string]string{
		".env":                    "PYTHONPATH=vendor\n",
		"vendor/gunicorn/README":  "a bare directory: not the package\n",
		"vendor/site-extras.pth":  "# nothing yet\n",
		"vendor/unrelated/x.py":   "",
		"vendor/other-1.0.txt":    "",
		"vendor/.keep":            "",
		"vendor/django/README.md": "not a package either\n",
	}
	tests := []struct {
		name   string
		change func(c *cacheTest)
	}{
		{"a package appears in a bare directory", func(c *cacheTest) {
			write(t, filepath.Join(c.dir, "vendor", "gunicorn", "__init__.py"), "")
		}},
		{"a distribution is installed", func(c *cacheTest) {
			if err := os.Mkdir(filepath.Join(c.dir, "vendor", "Flask-3.0.0.dist-info"), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"a .pth file is edited", func(c *cacheTest) {
			write(t, filepath.Join(c.dir, "vendor", "site-extras.pth"), "extra\n")
		}},
		{"a module appears in the project directory", func(c *cacheTest) {
			write(t, filepath.Join(c.dir, "uvicorn.py"), "")
		}},
		{"PYTHONPATH changes", func(c *cacheTest) {
			write(t, filepath.Join(c.dir, ".env"), "PYTHONPATH=vendor:lib\n")
		}},
		{"the user site directory is created", func(c *cacheTest) {
			// As the first pip install --user does.
			v := strings.SplitN(c.first.Version, ".", 3)
			site := filepath.Join(envMap(c.environ)["HOME"], ".local", "lib", "python"+v[0]+"."+v[1], "site-packages")
			if err := os.MkdirAll(site, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"the cache file is unreadable JSON", func(c *cacheTest) {
			write(t, c.file, "{not json")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			c := newCacheTest(t, vendorFiles, "HOME="+home)
			c.age(home)
			c.first = c.detect()
			c.markCached()
			if !c.fromCache() {
				t.Fatal("not reused before the change")
			}
			tt.change(c)
			if c.fromCache() {
				t.Error("reused after the change")
			}
		})
	}
}

// privatePython returns an interpreter with a tree of its own: a copy of
// the system's python3 binary in a temporary prefix, whose standard
// library is the system's (by a link) and whose site directories are its
// own, holding a stand-in django and gunicorn. The cache stamps every site
// directory, so with the live interpreter's a package installed by another
// process during the test (or two seconds before it) changed what the test
// saw (issue 9).
func privatePython(t *testing.T) string {
	t.Helper()
	system := systemPython(t)
	real, err := filepath.EvalSymlinks(system)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(real, "-c", "import sys; print(sys.prefix); print('%d.%d' % sys.version_info[:2])").Output()
	if err != nil {
		t.Fatalf("%s: %v", real, err)
	}
	fields := strings.Fields(string(out))
	prefix, version := fields[0], fields[1]
	stdlib := filepath.Join(prefix, "lib", "python"+version)
	if _, err := os.Stat(filepath.Join(stdlib, "os.py")); err != nil {
		t.Skipf("%s keeps its standard library elsewhere than %s", real, stdlib)
	}

	root := t.TempDir()
	bin := filepath.Join(root, "bin", "python3")
	data, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Dir(bin), filepath.Join(root, "lib")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	// Python finds its prefix from the binary's place: the standard
	// library under root/lib makes root the prefix, and every site
	// directory is then under root.
	if err := os.Symlink(stdlib, filepath.Join(root, "lib", "python"+version)); err != nil {
		t.Fatal(err)
	}
	check, err := exec.Command(bin, "-c", "import site, sys; print(sys.prefix); print('\\n'.join(site.getsitepackages()))").Output()
	if err != nil {
		t.Fatalf("the private interpreter does not start: %v", err)
	}
	sites := strings.Fields(string(check))
	if len(sites) < 2 || sites[0] != root {
		t.Skipf("the copied interpreter did not take %s as its prefix: %q", root, sites)
	}
	site := sites[1]
	for _, pkg := range []struct{ module, dist, version string }{{"django", "Django", "3.2.19"}, {"gunicorn", "gunicorn", "20.1.0"}} {
		for file, content := range map[string]string{
			filepath.Join(site, pkg.module, "__init__.py"):                         "",
			filepath.Join(site, pkg.dist+"-"+pkg.version+".dist-info", "METADATA"): "Metadata-Version: 2.1\nName: " + pkg.dist + "\nVersion: " + pkg.version + "\n",
		} {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			write(t, file, content)
		}
	}
	// Old enough to be kept (see recentChange).
	old := time.Now().Add(-time.Hour)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err // the link's target is the system's: left alone
		}
		return os.Chtimes(p, old, old)
	})
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestInterpreterCacheNotKept(t *testing.T) {
	t.Run("a wrapper script", func(t *testing.T) {
		c := newCacheTest(t, nil)
		c.python = filepath.Join(shimDir(t, c.python), "python3")
		c.age(filepath.Dir(c.python))
		c.detect()
		if n := c.entries(); n != 0 {
			t.Errorf("%d entries: a script that starts Python must be checked every time", n)
		}
	})
	t.Run("files changed a moment ago", func(t *testing.T) {
		c := newCacheTest(t, nil)
		write(t, filepath.Join(c.dir, "new.py"), "")
		c.detect()
		if n := c.entries(); n != 0 {
			t.Errorf("%d entries: the project directory just changed", n)
		}
	})
	t.Run("no cache directory", func(t *testing.T) {
		c := newCacheTest(t, nil)
		t.Setenv("DEVSTACK_CACHE_DIR", "")
		t.Setenv("XDG_CACHE_HOME", "")
		t.Setenv("HOME", "")
		c.detect() // must simply work
	})
}
