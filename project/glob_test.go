package project

import (
	"fmt"
	"path"
	"strings"
	"testing"

	"github.com/devstack-dev/devstack/internal/gitglob"
)

// The watch globs of devstack.toml are validated by the compiler the watcher
// matches with, so a pattern loads exactly when the watcher can use it.

func TestGlobsTheWatcherAcceptsLoad(t *testing.T) {
	// Each was refused by path.Match before ("syntax error in pattern").
	for _, g := range []string{"*[-_]test.py", "[]]*.txt", "data/[a-]*.csv"} {
		if _, err := path.Match(g, ""); err == nil {
			t.Fatalf("%q: path.Match accepts it; pick a pattern it refuses", g)
		}
		dir := writeTree(t, map[string]string{"devstack.toml": `
[watch]
include = ["**/*.py", "` + g + `"]
exclude = ["` + g + `"]

[processes.worker]
command = "celery -A mysite worker"
restart_on = ["` + g + `"]
`})
		lc, err := loadConfig(dir)
		if err != nil {
			t.Errorf("%q: %v", g, err)
			continue
		}
		if _, err := gitglob.CompileGlobs(lc.Watch.Include); err != nil {
			t.Errorf("%q loads but the watcher refuses it: %v", g, err)
		}
	}
}

func TestBadGlobsAreRefusedWithTheirLine(t *testing.T) {
	tests := []struct {
		toml, key, why string
		line           int
	}{
		{"[watch]\ninclude = [\"**/*.py\", \"src/[a-\"]\n", "watch.include", `"[" without its "]"`, 2},
		{"port = 8443\n\n[watch]\nexclude = [\"docs\\\\\"]\n", "watch.exclude", `lone "\"`, 4},
		{"[watch]\nexclude = [\"[[:letter:]]*\"]\n", "watch.exclude", "unknown character class [:letter:]", 2},
		{"[watch]\ninclude = [\"# generated\"]\n", "watch.include", "is a comment", 2},
		{"[watch]\ninclude = [\"  \"]\n", "watch.include", "is empty", 2},
		{"[processes.worker]\ncommand = \"celery worker\"\nrestart_on = [\"!\"]\n", "processes.worker.restart_on", "matches nothing", 3},
	}
	for _, tt := range tests {
		dir := writeTree(t, map[string]string{"devstack.toml": tt.toml})
		_, err := loadConfig(dir)
		if err == nil {
			t.Errorf("%q: no error", tt.toml)
			continue
		}
		ce := configError(t, err)
		if ce.Line != tt.line || ce.Key != tt.key {
			t.Errorf("%q: got %s line %d, want %s line %d (%v)", tt.toml, ce.Key, ce.Line, tt.key, tt.line, err)
		}
		if want := fmt.Sprintf("devstack.toml:%d: ", tt.line); !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error %q does not start with %q", err, want)
		}
		if h := hintOf(t, err); !strings.Contains(h, tt.why) {
			t.Errorf("%q: hint %q does not say %q", tt.toml, h, tt.why)
		}
	}
}
