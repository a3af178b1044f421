package watch

import "testing"

func TestNestedGitignore(t *testing.T) {
	root := project(t, map[string]string{
		".gitignore":              "*.gen.py\n/out/\nsecret*\n",
		"app/.gitignore":          "!keep.gen.py\n/local.py\nfixtures/\n",
		"app/sub/.gitignore":      "!secret.txt\n",
		".git/info/exclude":       "scratch/\n",
		"app/other/.gitkeep":      "",
		"app/fixtures/x.json":     "",
		"app/sub/x":               "",
		"out/x":                   "",
		"scratch/notes.txt":       "",
		"nested/out/x":            "",
		"nested/.gitignore":       "# nothing\n",
		"app/sub/deeper/.gitkeep": "",
	})
	r := newRules(root, nil, Globs{}, Globs{})
	for _, d := range []string{"", "app", "app/sub", "nested", "app/sub/deeper"} {
		r.loadGitignore(root, d)
	}
	tests := []struct {
		path  string
		isDir bool
		want  bool
	}{
		{"x.gen.py", false, true},
		{"app/x.gen.py", false, true},
		{"app/keep.gen.py", false, false},    // re-included by the nested file
		{"keep.gen.py", false, true},         // the nested negation does not reach up
		{"app/local.py", false, true},        // anchored to app/
		{"app/sub/local.py", false, false},   // …so not deeper
		{"local.py", false, false},           // …nor above
		{"app/fixtures", true, true},         // dir-only
		{"app/fixtures/x.json", false, true}, // inside an ignored directory
		{"app/sub/secret.txt", false, false}, // the deepest .gitignore wins
		{"app/secret.txt", false, true},
		{"app/sub/deeper/secret.txt", false, false},
		{"out", true, true},
		{"out/x", false, true},
		{"nested/out", true, false}, // /out/ is anchored to the root
		{"scratch", true, true},     // .git/info/exclude
		{"scratch/notes.txt", false, true},
		{"app/views.py", false, false},
	}
	for _, tt := range tests {
		if got := r.ignored(tt.path, tt.isDir); got != tt.want {
			t.Errorf("ignored(%q): got %v, want %v", tt.path, got, tt.want)
		}
	}
}
