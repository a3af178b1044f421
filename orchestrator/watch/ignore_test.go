package watch

import (
	"path/filepath"
	"testing"
)

func TestDefaultIgnores(t *testing.T) {
	root := t.TempDir()
	r := newRules(root, []string{"static_out", filepath.Join(root, "var/media"), "/elsewhere/outside"}, Globs{}, mustGlobs(t, "*.csv", "legacy/**"))
	r.venvs["tools/myenv"] = true // found holding pyvenv.cfg by the walk
	tests := []struct {
		path  string
		isDir bool
		want  bool
	}{
		{".git", true, true},
		{".git/objects/ab", true, true},
		{"sub/.git", true, true},
		{".hg", true, true},
		{"__pycache__", true, true},
		{"app/__pycache__/views.cpython-311.pyc", false, true},
		{"app/views.pyc", false, true},
		{"app/views.pyo", false, true},
		{".venv", true, true},
		{"tools/myenv", true, true},
		{"tools/myenv/lib/x.py", false, true},
		{"node_modules", true, true},
		{"frontend/node_modules/react/index.js", false, true},
		{".mypy_cache", true, true},
		{".pytest_cache", true, true},
		{".ruff_cache", true, true},
		{".tox", true, true},
		{".nox", true, true},
		{"mypkg.egg-info", true, true},
		{"src/mypkg.egg-info/PKG-INFO", false, true},
		{"staticfiles", true, true},
		{"media", true, true},
		{"app/media", true, false}, // output directories only at the root
		{"static_out", true, true}, // IgnorePaths, relative
		{"var/media", true, true},  // IgnorePaths, absolute
		{".devstack", true, true},
		{".devstack/run/gunicorn.conf.py", false, true},
		{"app/views.py~", false, true},
		{"app/.#views.py", false, true},
		{"app/#views.py#", false, true},
		{"app/.views.py.swp", false, true},
		{"app/.views.py.swx", false, true},
		{"app/.views.py.swo", false, true},
		{"app/4913", false, true},
		{"app/.views.py.kate-swp", false, true},
		{"app/views.py.tmp", false, true},
		{"app/views.py___jb_tmp___", false, true},
		{"db.sqlite3", false, true},
		{"db.sqlite3-journal", false, true},
		{"db.sqlite3-wal", false, true},
		{"data/dev.db", false, true},
		{"debug.log", false, true},
		{".coverage", false, true},
		{"report.csv", false, true},    // Exclude
		{"legacy/old.py", false, true}, // Exclude with **
		{"legacy", true, false},        // "legacy/**" is what is inside
		{"app/views.py", false, false},
		{"app/templates/base.html", false, false},
		{"env", true, false}, // a package named env, not a virtualenv
		{"manage.py", false, false},
		{".env", false, false},
	}
	for _, tt := range tests {
		if got := r.ignored(tt.path, tt.isDir); got != tt.want {
			t.Errorf("ignored(%q, dir=%v): got %v, want %v", tt.path, tt.isDir, got, tt.want)
		}
	}
}

func TestTriggersHonoursInclude(t *testing.T) {
	r := newRules(t.TempDir(), nil, mustGlobs(t, "**/*.py", "templates/"), Globs{})
	for path, want := range map[string]bool{
		"app.py": true, "a/b/c.py": true, "templates/x/base.html": true,
		"static/app.css": false, ".gitignore": false, "README.md": false,
	} {
		if got := r.triggers(path); got != want {
			t.Errorf("triggers(%q): got %v, want %v", path, got, want)
		}
	}
	all := newRules(t.TempDir(), nil, Globs{}, Globs{})
	if !all.triggers("static/app.css") || all.triggers(".gitignore") {
		t.Error("without Include, every file but .gitignore should trigger")
	}
}

func TestGlobs(t *testing.T) {
	tests := []struct {
		globs []string
		path  string
		want  bool
	}{
		{[]string{"*.py"}, "a/b.py", true},
		{[]string{"*.py"}, "a/b.pyi", false},
		{[]string{"src/**/*.py"}, "src/x/y/z.py", true},
		{[]string{"src/**/*.py"}, "lib/src/z.py", false},
		{[]string{"docs"}, "docs/index.md", true},
		{[]string{"docs/"}, "docs/index.md", true},
		{[]string{"/docs"}, "a/docs/index.md", false},
		{[]string{"src", "!src/gen"}, "src/gen/x.py", false},
		{[]string{"src", "!src/gen"}, "src/app.py", true},
		{[]string{"worker/**", "!**/*.md"}, "worker/README.md", false},
		{nil, "a.py", false},
	}
	for _, tt := range tests {
		if got := Matches(tt.globs, []string{"unrelated.txt", tt.path}); got != tt.want {
			t.Errorf("Matches(%q, %q): got %v, want %v", tt.globs, tt.path, got, tt.want)
		}
	}
	if Matches([]string{"*.py"}, nil) {
		t.Error("Matches with no paths: got true")
	}
	for _, bad := range [][]string{{""}, {"# only a comment"}, {"!"}} {
		if _, err := CompileGlobs(bad); err == nil {
			t.Errorf("CompileGlobs(%q): no error", bad)
		}
	}
}

func mustGlobs(t *testing.T, globs ...string) Globs {
	t.Helper()
	g, err := CompileGlobs(globs)
	if err != nil {
		t.Fatal(err)
	}
	return g
}
