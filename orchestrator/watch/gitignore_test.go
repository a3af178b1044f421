package watch

import "testing"

func TestPatternMatch(t *testing.T) {
	type probe struct {
		path  string
		isDir bool
		want  bool
	}
	f, d := false, true
	tests := []struct {
		pattern string
		probes  []probe
	}{
		// A name without a slash matches at any depth.
		{"*.log", []probe{{"a.log", f, true}, {"x/y/a.log", f, true}, {"a.logx", f, false}, {"log", f, false}, {"dir.log", d, true}}},
		{"build", []probe{{"build", d, true}, {"build", f, true}, {"src/build", d, true}, {"builds", d, false}}},
		// A trailing slash: directories only.
		{"build/", []probe{{"build", d, true}, {"build", f, false}, {"a/build", d, true}}},
		// A leading or middle slash anchors to the .gitignore's directory.
		{"/build", []probe{{"build", d, true}, {"src/build", d, false}}},
		{"doc/frotz", []probe{{"doc/frotz", f, true}, {"a/doc/frotz", f, false}}},
		{"doc/frotz/", []probe{{"doc/frotz", d, true}, {"doc/frotz", f, false}}},
		{"/*.c", []probe{{"cat.c", f, true}, {"mozilla-sha1/sha1.c", f, false}}},
		// "*" and "?" never cross a slash.
		{"foo/*", []probe{{"foo/test.json", f, true}, {"foo/bar", d, true}, {"foo/bar/hello.c", f, false}, {"foo", d, false}}},
		{"a?c", []probe{{"abc", f, true}, {"a/c", f, false}, {"ac", f, false}}},
		{"a*b", []probe{{"ab", f, true}, {"axxb", f, true}, {"a/b", f, false}}},
		// "**".
		{"**/foo", []probe{{"foo", f, true}, {"a/foo", f, true}, {"a/b/foo", d, true}, {"afoo", f, false}}},
		{"**/foo/bar", []probe{{"foo/bar", f, true}, {"x/foo/bar", f, true}, {"foo/x/bar", f, false}}},
		{"abc/**", []probe{{"abc/x", f, true}, {"abc/x/y", f, true}, {"abc", d, false}, {"x/abc/y", f, false}}},
		{"a/**/b", []probe{{"a/b", f, true}, {"a/x/b", f, true}, {"a/x/y/b", f, true}, {"a/xb", f, false}}},
		{"**", []probe{{"x", f, true}, {"x/y", f, true}}},
		{"a**b", []probe{{"axb", f, true}, {"a/b", f, false}}},
		// Character classes.
		{"*.py[co]", []probe{{"a.pyc", f, true}, {"a.pyo", f, true}, {"a.py", f, false}, {"a.pyd", f, false}}},
		{"[a-c]x", []probe{{"ax", f, true}, {"cx", f, true}, {"dx", f, false}}},
		{"[!a-c]x", []probe{{"dx", f, true}, {"ax", f, false}}},
		{"[^a]x", []probe{{"bx", f, true}, {"ax", f, false}}},
		{"[]]x", []probe{{"]x", f, true}, {"ax", f, false}}},
		{"[[:digit:]]*", []probe{{"1abc", f, true}, {"abc", f, false}}},
		{"x[.]y", []probe{{"x.y", f, true}, {"xay", f, false}}},
		{"[ab", []probe{{"[ab", f, true}, {"a", f, false}}},
		// Escapes and spaces.
		{`\#notcomment`, []probe{{"#notcomment", f, true}}},
		{`\!important`, []probe{{"!important", f, true}}},
		{`a\*b`, []probe{{"a*b", f, true}, {"axb", f, false}}},
		{"trailing   ", []probe{{"trailing", f, true}, {"trailing ", f, false}}},
		{`space\ `, []probe{{"space ", f, true}, {"space", f, false}}},
		{"a.b+c(d)", []probe{{"a.b+c(d)", f, true}, {"axb+c(d)", f, false}}},
	}
	for _, tt := range tests {
		p, ok, err := compilePattern(tt.pattern)
		if err != nil || !ok {
			t.Errorf("compilePattern(%q): ok=%v err=%v", tt.pattern, ok, err)
			continue
		}
		for _, pr := range tt.probes {
			if got := p.matches(pr.path, pr.isDir); got != pr.want {
				t.Errorf("%q matches %q (dir %v): got %v, want %v", tt.pattern, pr.path, pr.isDir, got, pr.want)
			}
		}
	}
}

func TestPatternSkipsCommentsAndBlanks(t *testing.T) {
	for _, line := range []string{"", "   ", "# a comment", "#"} {
		if _, ok, err := compilePattern(line); ok || err != nil {
			t.Errorf("compilePattern(%q): ok=%v err=%v, want a skipped line", line, ok, err)
		}
	}
	for _, line := range []string{"!", "/", `foo\`} {
		if _, _, err := compilePattern(line); err == nil {
			t.Errorf("compilePattern(%q): no error for a pattern that matches nothing", line)
		}
	}
	p, ok, _ := compilePattern("!keep.log")
	if !ok || !p.negate || !p.matches("keep.log", false) {
		t.Errorf("!keep.log: got %+v", p)
	}
}

func TestIgnoreFileLastMatchWins(t *testing.T) {
	f := parseIgnoreFile("", []byte("# logs\n*.log\n!keep.log\n\nbuild/\n!build/\n/tmp\n"))
	tests := []struct {
		path             string
		isDir            bool
		ignored, decided bool
	}{
		{"a.log", false, true, true},
		{"x/keep.log", false, false, true}, // negated: decided, not ignored
		{"build", true, false, true},
		{"tmp", true, true, true},
		{"src/tmp", true, false, false},
		{"main.py", false, false, false},
	}
	for _, tt := range tests {
		ignored, decided := f.match(tt.path, tt.isDir)
		if ignored != tt.ignored || decided != tt.decided {
			t.Errorf("match(%q): got ignored=%v decided=%v, want %v %v", tt.path, ignored, decided, tt.ignored, tt.decided)
		}
	}
}

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
