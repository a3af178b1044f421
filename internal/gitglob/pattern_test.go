package gitglob

import (
	"strings"
	"testing"
)

type probe struct {
	path  string
	isDir bool
	want  bool // whether the pattern itself matches (not a directory above)
}

const f, d = false, true

// patternCases are checked against the pattern alone here, and against git
// itself by TestGitAgrees.
var patternCases = []struct {
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
	{"[a-]y", []probe{{"ay", f, true}, {"-y", f, true}, {"by", f, false}}},
	{"*[-_]test.py", []probe{{"a_test.py", f, true}, {"a-test.py", f, true}, {"atest.py", f, false}}},
	{"[z-a]q", []probe{{"zq", f, true}, {"aq", f, false}}}, // git: the reversed range's first end only
	{"[!]]w", []probe{{"bw", f, true}, {"]w", f, false}}},
	{"[[:digit]x", []probe{{"[x", f, true}, {":x", f, true}, {"dx", f, true}, {"1x", f, false}}}, // no ":]": not a [:class:]
	// Escapes and spaces.
	{`\#notcomment`, []probe{{"#notcomment", f, true}}},
	{`\!important`, []probe{{"!important", f, true}}},
	{`a\*b`, []probe{{"a*b", f, true}, {"axb", f, false}}},
	{"trailing   ", []probe{{"trailing", f, true}, {"trailing ", f, false}}},
	{`space\ `, []probe{{"space ", f, true}, {"space", f, false}}},
	{"a.b+c(d)", []probe{{"a.b+c(d)", f, true}, {"axb+c(d)", f, false}}},
}

func TestPatternMatch(t *testing.T) {
	for _, tt := range patternCases {
		p, ok, err := Compile(tt.pattern)
		if err != nil || !ok {
			t.Errorf("Compile(%q): ok=%v err=%v", tt.pattern, ok, err)
			continue
		}
		for _, pr := range tt.probes {
			if got := p.Match(pr.path, pr.isDir); got != pr.want {
				t.Errorf("%q matches %q (dir %v): got %v, want %v", tt.pattern, pr.path, pr.isDir, got, pr.want)
			}
		}
	}
}

func TestPatternSkipsCommentsAndBlanks(t *testing.T) {
	for _, line := range []string{"", "   ", "# a comment", "#"} {
		if _, ok, err := Compile(line); ok || err != nil {
			t.Errorf("Compile(%q): ok=%v err=%v, want a skipped line", line, ok, err)
		}
	}
	// Patterns git never matches: refused, with what is wrong.
	for line, want := range map[string]string{
		"!":          "matches nothing",
		"/":          "matches nothing",
		`foo\`:       `lone "\"`,
		"src/[a-":    `"[" without its "]"`,
		"[ab":        `"[" without its "]"`,
		"x[a\\]":     `"[" without its "]"`,
		"[[:word:]]": "unknown character class [:word:]",
		"[[::]]":     "unknown character class [::]",
	} {
		_, _, err := Compile(line)
		if err == nil {
			t.Errorf("Compile(%q): no error for a pattern that matches nothing", line)
		} else if !strings.Contains(err.Error(), want) {
			t.Errorf("Compile(%q): got %q, want it to say %q", line, err, want)
		}
	}
	p, ok, _ := Compile("!keep.log")
	if !ok || !p.Negated() || !p.Match("keep.log", false) || p.String() != "!keep.log" {
		t.Errorf("!keep.log: got %+v", p)
	}
}
