package project

import (
	"testing"

	"github.com/BurntSushi/toml"
)

// The parsers read files users write by hand: whatever is in them, they
// must return an error, never panic.

func FuzzParseDotenv(f *testing.F) {
	for _, s := range []string{"A=1\n", "export B='x\ny'\n", `C="a\"b${A:-d}"`, "D=\"open", "#c\n\nE=1 # x", "=", "F='", "\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseDotenv(".env", s, func(string) (string, bool) { return "v", true })
	})
}

func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{"a b", `a "b c" 'd'`, "a && b", `x\`, `"\`, "FOO=1 x", "#", "~", "$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		argv, shell, err := commandArgv(s)
		if err == nil && len(argv) == 0 {
			t.Errorf("commandArgv(%q): no error and no argv (shell %v)", s, shell)
		}
	})
}

func FuzzConfig(f *testing.F) {
	for _, s := range []string{"port = 1\n", "[proxy]\nmax_body = \"1x\"\n", "prot = 1", "[processes.a]\ncommand = 1\n", "a.b.c = 1\n[x]\n", "command = []"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = decodeConfig("/x/devstack.toml", "devstack.toml", s, nil)
		_, _ = decodeConfig("/x/pyproject.toml", "pyproject.toml", s, toml.Key{"tool", "devstack"})
		_ = findKeyLine(s, toml.Key{"a", "b"})
	})
}

func FuzzGuessApp(f *testing.F) {
	for _, s := range []string{"app = Flask(__name__)", "x = FastAPI(", "def application(e, s): pass", "from a import (b, app)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, name := range append([]string{"wsgi.py", "asgi.py"}, fastapiFiles...) {
			_ = guessApp(name, s)
		}
		_, _ = flaskAppTarget("/nonexistent", s)
		_ = resolveRelative("a.b.c", "/x/a/b/c.py", s)
		_ = dottedToTarget(s)
	})
}

func FuzzWebLine(f *testing.F) {
	for _, s := range []string{"gunicorn -kX a:b", "uvicorn --port=$PORT a:b", "gunicorn -w ${W:-2} --forwarded-allow-ips=\"$T\" a", "gunicorn -k", "uvicorn -H", "gunicorn --x=${", "x && gunicorn a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		argv, _, err := splitCommand(s)
		if err != nil {
			return
		}
		if w, ok := parseWebLine(argv); ok {
			_ = w.target()
			_, _ = w.carriedArgs(func(string) (string, bool) { return "", false })
		}
		_, _ = expandShellVars(s, func(k string) (string, bool) { return k, k != "" })
	})
}
