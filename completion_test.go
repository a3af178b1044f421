package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// completeInBash loads `devstack completion bash` into a real bash, as a
// user's ~/.bashrc would, and returns what <Tab> offers after line (the
// word being completed is the text after the last space).
func completeInBash(t *testing.T, line string) []string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		testenv.Missing(t, "bash")
	}
	bin := devstackBinary(t)
	words := strings.Split(line, " ")
	script := `source <(devstack completion bash) || exit 1
spec=$(complete -p devstack) || exit 1
fn=${spec#*-F }; fn=${fn%% *}
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
"$fn" devstack "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"`
	cmd := exec.Command(bash, append([]string{"--norc", "--noprofile", "-c", script, "bash"}, words...)...)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash completion of %q: %v\n%s", line, err, out)
	}
	return strings.Fields(string(out))
}

func TestBashCompletion(t *testing.T) {
	for _, tc := range []struct {
		line    string
		want    []string // all of these are offered
		notWant []string // none of these is
	}{
		{line: "devstack ", want: []string{"up", "doctor", "proxy", "ca", "export", "version", "completion", "help"}, notWant: []string{"man"}},
		{line: "devstack d", want: []string{"doctor"}, notWant: []string{"up"}},
		{line: "devstack up --", want: []string{"--dir", "--port", "--app-port", "--python", "--no-tui", "--no-watch"}, notWant: []string{"--json"}},
		{line: "devstack up --p", want: []string{"--port", "--python"}, notWant: []string{"--app-port", "-h"}},
		{line: "devstack up --no-", want: []string{"--no-tui", "--no-watch"}, notWant: []string{"--dir"}},
		{line: "devstack doctor --dir . --s", want: []string{"--strict"}},
		{line: "devstack ca ", want: []string{"path", "status", "install", "uninstall"}, notWant: []string{"help"}},
		{line: "devstack completion ", want: []string{"bash", "zsh", "fish"}},
		{line: "devstack export ", want: []string{"caddy", "nginx"}},
		// After "--" the words are the user's command: devstack is not asked
		// (it would run `up`), and nothing of its own is offered.
		{line: "devstack up -- gunicorn --", notWant: []string{"--dir", "--port"}},
	} {
		got := completeInBash(t, tc.line)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q<Tab>: got %q, want it to include %q", tc.line, got, w)
			}
		}
		for _, w := range tc.notWant {
			if slices.Contains(got, w) {
				t.Errorf("%q<Tab>: got %q, want no %q", tc.line, got, w)
			}
		}
	}
}

// The zsh script registers itself with zsh's completion system, and fish
// completes subcommands and flags from its script, where those shells are
// installed (scripts/setup.sh installs both for CI).
func TestZshAndFishCompletion(t *testing.T) {
	bin := devstackBinary(t)
	path := "PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")
	for _, tc := range []struct {
		shell  string
		script string
		want   []string
	}{
		// compadd and _files work only inside a real completion; these
		// stand-ins print what the function hands them.
		{"zsh", `autoload -U compinit && compinit -u -D && source <(devstack completion zsh) || exit 1
print -r -- $_comps[devstack]
compadd() { shift; print -rl -- ${(P)1} }
_files() { print -r -- FILES }
words=(devstack up --no-); CURRENT=3; PREFIX=--no-; _devstack
words=(devstack ca ''); CURRENT=3; PREFIX=''; _devstack
words=(devstack up -- gunicorn --); CURRENT=5; PREFIX=--; _devstack`,
			[]string{"_devstack", "--no-tui", "--no-watch", "install", "uninstall", "FILES"}},
		{"fish", `devstack completion fish | source; complete -C "devstack up --no"; complete -C "devstack ca "`,
			[]string{"--no-tui", "--no-watch", "install", "uninstall"}},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			shell, err := exec.LookPath(tc.shell)
			if err != nil {
				testenv.Missing(t, "%s (apt-get install %s)", tc.shell, tc.shell)
			}
			cmd := exec.Command(shell, "-c", tc.script)
			cmd.Env = append(os.Environ(), path, "HOME="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", tc.shell, err, out)
			}
			for _, w := range tc.want {
				if !slices.Contains(strings.Fields(string(out)), w) {
					t.Errorf("%s offers %q, want %q among it", tc.shell, out, w)
				}
			}
		})
	}
}

// The man page generated from the command definitions renders with man(1),
// without a single groff warning, and documents every command.
func TestManPageRenders(t *testing.T) {
	man, err := exec.LookPath("man")
	if err != nil {
		testenv.Missing(t, "man (apt-get install man-db)")
	}
	page, err := exec.Command(devstackBinary(t), "man").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(page), ".nh\n.TH devstack 1") {
		t.Errorf("the page does not start as a section-1 man page:\n%.200s", page)
	}
	file := filepath.Join(t.TempDir(), "devstack.1")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(man, "--warnings=all", "-l", file)
	cmd.Env = append(os.Environ(), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=80", "LC_ALL=C.UTF-8")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("man -l devstack.1: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"NAME", "devstack up", "--app-port", "uninstall", "completion", "devstack doctor"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the rendered page has no %q", want)
		}
	}
}

func TestVersionFromBuildInfo(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, tc := range []struct {
		name                  string
		ldVer, ldCommit, ldAt string
		bi                    *debug.BuildInfo
		want                  string
	}{
		{name: "release build", ldVer: "1.4.0", ldCommit: "abc1234", ldAt: "2026-12-01T10:00:00Z",
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			want: "devstack 1.4.0 (commit abc1234, built 2026-12-01T10:00:00Z)"},
		{name: "go install @version", bi: &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}},
			want: "devstack v1.4.0 (commit unknown, built unknown)"},
		{name: "go build in a checkout",
			bi: &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201100000-0123456789ab+dirty"},
				Settings: vcs("vcs.revision", "0123456789abcdef", "vcs.time", "2026-12-01T10:00:00Z", "vcs.modified", "true")},
			want: "devstack v0.0.0-20261201100000-0123456789ab+dirty (commit 0123456-dirty, built 2026-12-01T10:00:00Z)"},
		{name: "nothing known", bi: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			want: "devstack dev (commit unknown, built unknown)"},
		{name: "no build info", want: "devstack dev (commit unknown, built unknown)"},
	} {
		if got := versionFrom(tc.ldVer, tc.ldCommit, tc.ldAt, tc.bi).String(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A binary built with -buildvcs in a git checkout reports its revision
// without any -ldflags.
func TestVersionOfAPlainGoBuild(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		testenv.Missing(t, "git")
	}
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "devstack")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "(commit " + string(rev[:7]); !strings.Contains(string(out), want) {
		t.Errorf("devstack version of a plain go build: %q, want it to contain %q", out, want)
	}
}
