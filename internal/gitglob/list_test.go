package gitglob

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devstack-dev/devstack/internal/testenv"
)

func TestListLastMatchWins(t *testing.T) {
	l := ParseFile("", []byte("\xef\xbb\xbf# logs\n*.log\n!keep.log\n\nbuild/\n!build/\n/tmp\nsrc/[a-\n"))
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
		{"src/[a-", false, false, false}, // a line git never matches is skipped
	}
	for _, tt := range tests {
		ignored, decided := l.Decide(tt.path, tt.isDir)
		if ignored != tt.ignored || decided != tt.decided {
			t.Errorf("Decide(%q): got ignored=%v decided=%v, want %v %v", tt.path, ignored, decided, tt.ignored, tt.decided)
		}
	}
	nested := ParseFile("app", []byte("/local.py\n"))
	for path, want := range map[string]bool{"app/local.py": true, "local.py": false, "app/sub/local.py": false} {
		if got, _ := nested.Decide(path, false); got != want {
			t.Errorf("app/.gitignore decides %q: got %v, want %v", path, got, want)
		}
	}
}

func TestGlobs(t *testing.T) {
	tests := []struct {
		globs []string
		path  string
		isDir bool
		want  bool
	}{
		{[]string{"*.py"}, "a/b.py", f, true},
		{[]string{"docs"}, "docs/index.md", f, true},
		{[]string{"docs/"}, "docs", f, false},
		{[]string{"docs/"}, "docs", d, true},
		{[]string{"/docs"}, "a/docs/index.md", f, false},
		{[]string{"src", "!src/gen"}, "src/gen/x.py", f, false}, // the deepest decision wins
		{[]string{"src", "!src/gen"}, "src/app.py", f, true},
		{[]string{"*[-_]test.py"}, "app/a_test.py", f, true},
		{[]string{"[]]*"}, "]x", f, true},
		{nil, "a.py", f, false},
	}
	for _, tt := range tests {
		g, err := CompileGlobs(tt.globs)
		if err != nil {
			t.Errorf("CompileGlobs(%q): %v", tt.globs, err)
			continue
		}
		if got := g.Match(tt.path, tt.isDir); got != tt.want {
			t.Errorf("%q matches %q: got %v, want %v", tt.globs, tt.path, got, tt.want)
		}
	}
	if !(Globs{}).Empty() || (Globs{}).Match("a", false) {
		t.Error("the zero Globs should be empty and match nothing")
	}
	for glob, want := range map[string]string{
		"":          "is empty",
		"  ":        "is empty",
		"# notes":   `is a comment (write \# for a leading "#")`,
		"!":         "matches nothing",
		"src/[a-":   `pattern "src/[a-" has a "[" without its "]"`,
		`docs\`:     `ends in a lone "\"`,
		"[[:foo:]]": "unknown character class [:foo:]",
	} {
		_, err := CompileGlobs([]string{"*.py", glob})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CompileGlobs(%q): got %v, want an error saying %q", glob, err, want)
		}
	}
}

// TestGitAgrees asks git which probes of patternCases a .gitignore holding
// the pattern ignores, and compares with Globs, which like git also counts
// a path inside a matching directory.
func TestGitAgrees(t *testing.T) {
	git := testenv.LookPath(t, "git", "apt-get install git")
	root := t.TempDir()
	home := t.TempDir() // no user or system config may add excludes
	env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_NOSYSTEM=1")
	run := func(stdin []byte, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(git, args...)
		cmd.Dir, cmd.Env, cmd.Stdin = root, env, bytes.NewReader(stdin)
		out, err := cmd.Output()
		// check-ignore exits 1 when nothing is ignored.
		if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 1) {
			t.Fatalf("git %v: %v\n%s", args, err, ee.Stderr)
		}
		return out
	}
	run(nil, "init", "-q")

	type asked struct {
		pattern string
		probe   probe
	}
	byPath := map[string]asked{}
	var stdin bytes.Buffer
	for i, tc := range patternCases {
		for j, pr := range tc.probes {
			dir := fmt.Sprintf("t%d_%d", i, j)
			p := filepath.Join(root, dir, filepath.FromSlash(pr.path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			var err error
			if pr.isDir {
				err = os.Mkdir(p, 0o755)
			} else {
				err = os.WriteFile(p, nil, 0o644)
			}
			if err == nil {
				err = os.WriteFile(filepath.Join(root, dir, ".gitignore"), []byte(tc.pattern+"\n"), 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
			byPath[dir+"/"+pr.path] = asked{tc.pattern, pr}
			stdin.WriteString(dir + "/" + pr.path + "\x00")
		}
	}
	ignored := map[string]bool{}
	for _, p := range bytes.Split(run(stdin.Bytes(), "check-ignore", "--no-index", "--stdin", "-z"), []byte{0}) {
		if len(p) > 0 {
			ignored[string(p)] = true
		}
	}
	for path, a := range byPath {
		g, err := CompileGlobs([]string{a.pattern})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := g.Match(a.probe.path, a.probe.isDir), ignored[path]; got != want {
			t.Errorf("%q on %q (dir %v): got %v, git says %v", a.pattern, a.probe.path, a.probe.isDir, got, want)
		}
	}
}
