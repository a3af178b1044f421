package watch

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devstack-dev/devstack/internal/testenv"
)

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

// setGitHome gives the test an empty home and config directory, with
// XDG_CONFIG_HOME unset, and returns the home.
func setGitHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("GIT_CONFIG_GLOBAL", "") // restored after the test…
	os.Unsetenv("GIT_CONFIG_GLOBAL")  // …unset during it: "" means no file
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	return home
}

func TestGlobalExcludesFileIsWeakest(t *testing.T) {
	home := setGitHome(t)
	write(t, filepath.Join(home, ".gitconfig"), "[user]\n\tname = me\n[core]\n\texcludesFile = ~/.my-excludes\n")
	write(t, filepath.Join(home, ".my-excludes"), "*.scratch\nnotes/\nlocal_settings.py\n/top.txt\n")
	root := project(t, map[string]string{
		".gitignore":        "!local_settings.py\n",
		".git/info/exclude": "!notes/\n",
	})
	r := newRules(root, nil, Globs{}, Globs{})
	r.loadGitignore(root, "")
	for _, tt := range []struct {
		path  string
		isDir bool
		want  bool
	}{
		{"a/b/x.scratch", false, true},
		{"top.txt", false, true},            // anchored to the project root
		{"a/top.txt", false, false},         // …so not deeper
		{"local_settings.py", false, false}, // the project's .gitignore wins
		{"notes", true, false},              // so does .git/info/exclude
		{"app/views.py", false, false},
	} {
		if got := r.ignored(tt.path, tt.isDir); got != tt.want {
			t.Errorf("ignored(%q): got %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestGlobalExcludesFileLocation(t *testing.T) {
	root := t.TempDir()
	t.Run("default under ~/.config", func(t *testing.T) {
		home := setGitHome(t)
		if got, want := globalExcludesFile(root), filepath.Join(home, ".config", "git", "ignore"); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("default under XDG_CONFIG_HOME", func(t *testing.T) {
		setGitHome(t)
		xdg := t.TempDir()
		t.Setenv("XDG_CONFIG_HOME", xdg)
		if got, want := globalExcludesFile(root), filepath.Join(xdg, "git", "ignore"); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("~/.gitconfig over the XDG config", func(t *testing.T) {
		home := setGitHome(t)
		write(t, filepath.Join(home, ".config", "git", "config"), "[core]\nexcludesFile = /from/xdg\n")
		write(t, filepath.Join(home, ".gitconfig"), "[core]\nexcludesFile = /from/home\n")
		if got, want := globalExcludesFile(root), "/from/home"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("the repository's config last", func(t *testing.T) {
		home := setGitHome(t)
		write(t, filepath.Join(home, ".gitconfig"), "[core]\nexcludesFile = /from/home\n")
		repo := project(t, map[string]string{".git/config": "[core]\n\texcludesFile = /from/repo\n"})
		if got, want := globalExcludesFile(repo), "/from/repo"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("GIT_CONFIG_GLOBAL", func(t *testing.T) {
		home := setGitHome(t)
		write(t, filepath.Join(home, ".gitconfig"), "[core]\nexcludesFile = /from/home\n")
		other := filepath.Join(t.TempDir(), "cfg")
		write(t, other, "[core]\nexcludesFile = /from/env\n")
		t.Setenv("GIT_CONFIG_GLOBAL", other)
		if got, want := globalExcludesFile(root), "/from/env"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("set empty: none", func(t *testing.T) {
		home := setGitHome(t)
		write(t, filepath.Join(home, ".gitconfig"), "[core]\nexcludesFile =\n")
		if got := globalExcludesFile(root); got != "" {
			t.Errorf("got %q, want none", got)
		}
	})
	t.Run("missing or unreadable file", func(t *testing.T) {
		home := setGitHome(t)
		write(t, filepath.Join(home, ".gitconfig"), "[core]\nexcludesFile = ~/nowhere\n")
		mkdirAll(t, filepath.Join(home, ".config", "git", "ignore")) // a directory: unreadable as a file
		if r := newRules(root, nil, Globs{}, Globs{}); r.global != nil || r.ignored("x", false) {
			t.Errorf("a missing excludes file should ignore nothing")
		}
	})
}

// gitConfigCases are config files with the core.excludesFile they set
// ("" when unset), written in the ways git's syntax allows. {home} and
// {root} stand for the home and project directories.
var gitConfigCases = []struct{ name, config, want string }{
	{"tab indented", "[core]\n\texcludesFile = ~/ignore-a\n", "{home}/ignore-a"},
	{"same line as the header", "[core] excludesfile = /x/y\n", "/x/y"},
	{"case and no spaces", "[CORE]\nExcludesFile=/a/b\n", "/a/b"},
	{"quotes and a comment", "[core]\n\texcludesFile = \"/with space/x\" ; the old one\n", "/with space/x"},
	{"escapes", "[core]\n\texcludesFile = \"/q\\\"uote\\\\x\" # c\n", "/q\"uote\\x"},
	{"continued line", "[core]\n\texcludesFile = /a\\\n/b\n", "/a/b"},
	{"last one wins", "[core]\n\texcludesFile = /first\n[alias]\n\tst = status\n[core]\n\tbare\n\texcludesFile = /second   \n", "/second"},
	{"relative to the work tree", "[core]\n\texcludesFile = conf/ignore\n", "{root}/conf/ignore"},
	{"other section", "[core \"x\"]\n\texcludesFile = /no\n[user]\n\texcludesFile = /no\n", ""},
	{"CRLF", "[core]\r\n\texcludesFile = /crlf\r\n", "/crlf"},
	{"include", "[include]\n\tpath = {home}/inc.cfg\n", "/from/include"},
	{"include relative to the file", "[include]\n\tpath = inc.cfg\n", "/from/include"},
}

// writeGitConfig writes config (one of gitConfigCases) as ~/.gitconfig in
// a new home, with the file its include cases name, and returns the home
// and what expands {home} and {root}.
func writeGitConfig(t *testing.T, root, config string) (home string, expand *strings.Replacer) {
	t.Helper()
	home = setGitHome(t)
	expand = strings.NewReplacer("{home}", home, "{root}", root)
	write(t, filepath.Join(home, "inc.cfg"), "[core]\n\texcludesFile = /from/include\n")
	write(t, filepath.Join(home, ".gitconfig"), expand.Replace(config))
	return home, expand
}

func TestGitConfigSyntax(t *testing.T) {
	root := t.TempDir()
	for _, tc := range gitConfigCases {
		t.Run(tc.name, func(t *testing.T) {
			home, expand := writeGitConfig(t, root, tc.config)
			want := expand.Replace(tc.want)
			if want == "" {
				want = filepath.Join(home, ".config", "git", "ignore")
			}
			if got := globalExcludesFile(root); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// TestGitConfigAgreesWithGit asks git for core.excludesFile with the same
// configs: the reader must find what git finds.
func TestGitConfigAgreesWithGit(t *testing.T) {
	git := testenv.LookPath(t, "git", "apt-get install git")
	root := t.TempDir()
	for _, tc := range gitConfigCases {
		t.Run(tc.name, func(t *testing.T) {
			home, _ := writeGitConfig(t, root, tc.config)
			cmd := exec.Command(git, "config", "--path", "--get", "core.excludesFile")
			cmd.Dir = root
			out, err := cmd.Output()
			want := strings.TrimSuffix(string(out), "\n")
			if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
				want = filepath.Join(home, ".config", "git", "ignore") // unset: git's default
			} else if err != nil {
				t.Fatalf("git config: %v", err)
			} else if !filepath.IsAbs(want) {
				want = filepath.Join(root, want)
			}
			if got := globalExcludesFile(root); got != want {
				t.Errorf("got %q, git says %q", got, want)
			}
		})
	}
}

func TestGitConfigParserStopsAtBadLines(t *testing.T) {
	for _, config := range []string{
		"excludesFile = /before-any-section\n",
		"[core\nexcludesFile = /x\n",
		"[core]\n\texcludesFile = \"/open\n",
		"[core]\n\texcludesFile = /bad\\escape\n",
		"[core]\n\t=/x\n",
	} {
		var keys []string
		p := configParser{s: config}
		for {
			key, _, ok := p.next()
			if !ok {
				break
			}
			keys = append(keys, key)
		}
		if len(keys) != 0 {
			t.Errorf("%q: got settings %q from a config git refuses", config, keys)
		}
	}
}

// TestGlobalExcludesWhileWatching: what the global excludes file ignores
// never reloads, and an ignored directory is not watched at all.
func TestGlobalExcludesWhileWatching(t *testing.T) {
	home := setGitHome(t)
	write(t, filepath.Join(home, ".config", "git", "ignore"), "*.scratch\nplayground/\n")
	root := project(t, map[string]string{"app/views.py": "", "playground/try.py": ""})
	w := startWatcher(t, Options{Root: root, Quiet: testQuiet})
	if followed(t, w, filepath.Join(root, "playground")) {
		t.Error("a directory the global excludes file ignores is watched")
	}
	write(t, filepath.Join(root, "app", "notes.scratch"), "x")
	write(t, filepath.Join(root, "playground", "try.py"), "x")
	write(t, filepath.Join(root, "app", "views.py"), "x")
	b, _ := batchesUntil(t, w, "app/views.py")
	wantPaths(t, b, "app/views.py")
}
