package project

import (
	"strings"
	"testing"
	"time"
)

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name     string
		file     string // devstack.toml or pyproject.toml
		content  string
		wantLine int
		wantKey  string
		wantMsg  string // substring of the error
		wantHint string // substring of the hint
	}{
		{
			name:     "unknown top-level key",
			file:     "devstack.toml",
			content:  "port = 8443\n\nprot = 9000\n",
			wantLine: 3, wantKey: "prot", wantMsg: `devstack.toml:3: unknown key "prot"`, wantHint: `did you mean "port"?`,
		},
		{
			name:     "unknown key in a table",
			file:     "devstack.toml",
			content:  "[proxy]\nforwarded_proto = true\nforwarded_prot = false\n",
			wantLine: 3, wantKey: "proxy.forwarded_prot", wantMsg: `unknown key "proxy.forwarded_prot"`, wantHint: `"forwarded_proto"`,
		},
		{
			name:     "unknown table reported once, at its header",
			file:     "devstack.toml",
			content:  "port = 1\n# comment\n[prxy]\nmax_body = 5\n",
			wantLine: 3, wantKey: "prxy", wantMsg: `unknown key "prxy"`, wantHint: `"proxy"`,
		},
		{
			name:     "unknown key inside a process",
			file:     "devstack.toml",
			content:  "[processes.worker]\ncommand = \"celery worker\"\nrestart = [\"*.py\"]\n",
			wantLine: 3, wantKey: "processes.worker.restart", wantMsg: `unknown key "processes.worker.restart"`,
		},
		{
			name:     "unknown dotted key",
			file:     "devstack.toml",
			content:  "watch.includes = [\"*.py\"]\n",
			wantLine: 1, wantKey: "watch.includes", wantMsg: "unknown key",
		},
		{
			name:     "unknown key in pyproject",
			file:     "pyproject.toml",
			content:  "[project]\nname = \"x\"\n\n[tool.black]\nline-length = 100\n\n[tool.devstack]\nport = 8443\napp_prot = 1\n",
			wantLine: 9, wantKey: "app_prot", wantMsg: `pyproject.toml:9: unknown key "app_prot"`, wantHint: `"app_port"`,
		},
		{
			name:     "string for integer",
			file:     "devstack.toml",
			content:  "host = \"127.0.0.1\"\nport = \"8443\"\n",
			wantLine: 2, wantKey: "port", wantMsg: "devstack.toml:2: port must be an integer, not a string",
		},
		{
			name:     "string for list",
			file:     "devstack.toml",
			content:  "\nhosts = \"myapp.test\"\n",
			wantLine: 2, wantKey: "hosts", wantMsg: "hosts must be a list, not a string",
		},
		{
			name:     "wrong type in a table",
			file:     "devstack.toml",
			content:  "[proxy]\nforwarded_host = \"yes\"\n",
			wantLine: 2, wantKey: "proxy.forwarded_host", wantMsg: "proxy.forwarded_host must be a boolean, not a string",
		},
		{
			name:     "command neither string nor list",
			file:     "devstack.toml",
			content:  "port = 8080\ncommand = 5\n",
			wantLine: 2, wantKey: "command", wantMsg: "command must be a string or a list of strings, not a integer",
		},
		{
			name:     "bad size",
			file:     "devstack.toml",
			content:  "[proxy]\nmax_body = \"10 parsecs\"\n",
			wantLine: 2, wantKey: "proxy.max_body", wantMsg: "unknown unit",
		},
		{
			name:     "bad duration",
			file:     "devstack.toml",
			content:  "[proxy]\n\nhold_timeout = \"soon\"\n",
			wantLine: 3, wantKey: "proxy.hold_timeout", wantMsg: "not a duration",
		},
		{
			name:     "wrong type in pyproject",
			file:     "pyproject.toml",
			content:  "[tool.devstack]\napp_port = true\n",
			wantLine: 2, wantKey: "app_port", wantMsg: "pyproject.toml:2: app_port must be an integer, not a bool",
		},
		{
			name:     "bad TOML",
			file:     "devstack.toml",
			content:  "port = 8080\nhost = \"127.0.0.1\n",
			wantLine: 2, wantMsg: "devstack.toml:2: invalid TOML", wantHint: "TOML syntax",
		},
		{
			name:     "port out of range",
			file:     "devstack.toml",
			content:  "\n\napp_port = 70000\n",
			wantLine: 3, wantKey: "app_port", wantMsg: "app_port must be between 1 and 65535",
		},
		{
			name:     "unknown server",
			file:     "devstack.toml",
			content:  "server = \"waitress\"\n",
			wantLine: 1, wantKey: "server", wantMsg: `server must be "gunicorn", "uvicorn" or "command"`,
		},
		{
			name:     "server command without command",
			file:     "devstack.toml",
			content:  "port = 1\nserver = \"command\"\n",
			wantLine: 2, wantKey: "server", wantMsg: "no command is set",
		},
		{
			name:     "malformed app",
			file:     "devstack.toml",
			content:  "app = \"mysite/wsgi.py\"\n",
			wantLine: 1, wantKey: "app", wantMsg: `app must look like "package.module:callable"`,
		},
		{
			name:     "host and bind",
			file:     "devstack.toml",
			content:  "host = \"127.0.0.1\"\nbind = \"::1\"\n",
			wantLine: 2, wantKey: "bind", wantMsg: "bind and host are both set",
		},
		{
			name:     "valid multi-line list",
			file:     "devstack.toml",
			content:  "hosts = [\n  \"myapp.test\",\n]\n[watch]\nexclude = []\n",
			wantLine: 0,
		},
		{
			name:     "hosts entry with scheme",
			file:     "devstack.toml",
			content:  "port = 1\nhosts = [\"https://myapp.test\"]\n",
			wantLine: 2, wantKey: "hosts", wantMsg: `"https://myapp.test" is not a host name`,
		},
		{
			name:     "process without command",
			file:     "devstack.toml",
			content:  "[processes.worker]\nrestart_on = [\"*.py\"]\n",
			wantLine: 1, wantKey: "processes.worker", wantMsg: "has no command",
		},
		{
			name:     "bad glob",
			file:     "devstack.toml",
			content:  "[watch]\ninclude = [\"src/[a-\"]\n",
			wantLine: 2, wantKey: "watch.include", wantMsg: "bad pattern",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{tt.file: tt.content})
			_, err := loadConfig(dir)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.wantMsg)
			}
			ce := configError(t, err)
			if got := ce.Line; got != tt.wantLine {
				t.Errorf("line: got %d, want %d (%v)", got, tt.wantLine, err)
			}
			if got := ce.Key; got != tt.wantKey {
				t.Errorf("key: got %q, want %q (%v)", got, tt.wantKey, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error: got %q, want it to contain %q", err, tt.wantMsg)
			}
			if h := hintOf(t, err); !strings.Contains(h, tt.wantHint) {
				t.Errorf("hint: got %q, want it to contain %q", h, tt.wantHint)
			}
		})
	}
}

func TestConfigValues(t *testing.T) {
	dir := writeTree(t, map[string]string{"devstack.toml": `
port = 8443
app_port = 8001
bind = "::1"
hosts = ["myapp.test", "*.myapp.test"]
python = ".venv/bin/python"
app = "mysite.asgi:application"
server = "uvicorn"
args = ["--workers", "2"]
env_files = [".env", ".env.local"]

[watch]
include = ["**/*.py", "templates/"]
exclude = ["docs/"]

[processes.worker]
command = ["celery", "-A", "mysite", "worker"]
restart_on = ["**/*.py"]
env = { C_FORCE_ROOT = "1" }

[processes.assets]
command = "npm run watch"
dir = "frontend"

[proxy]
forwarded_host = false
real_ip = true
max_body = "10MB"
hold_timeout = "30s"
`})
	lc, err := loadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := *lc.Port, 8443; got != want {
		t.Errorf("port: got %d, want %d", got, want)
	}
	if got, want := *lc.Bind, "::1"; got != want {
		t.Errorf("bind: got %q, want %q", got, want)
	}
	if got, want := strings.Join(lc.ProcessKeys, ","), "worker,assets"; got != want {
		t.Errorf("process order: got %q, want %q (file order)", got, want)
	}
	if got, want := strings.Join(lc.Processes["worker"].Command.Argv, " "), "celery -A mysite worker"; got != want {
		t.Errorf("worker argv: got %q, want %q", got, want)
	}
	if got, want := lc.Processes["assets"].Command.Line, "npm run watch"; got != want {
		t.Errorf("assets line: got %q, want %q", got, want)
	}
	ps := proxySettings(lc.Proxy)
	want := ProxySettings{ForwardedProto: true, ForwardedFor: true, ForwardedHost: false, RealIP: true, MaxBody: 10e6, HoldTimeout: 30 * time.Second}
	if ps != want {
		t.Errorf("proxy: got %+v, want %+v", ps, want)
	}
}

func TestConfigFromPyproject(t *testing.T) {
	t.Run("tool.devstack is read, other tools ignored", func(t *testing.T) {
		dir := writeTree(t, map[string]string{"pyproject.toml": "[tool.ruff]\nline-length = 99\n[tool.devstack]\nport = 9443\n[tool.devstack.proxy]\nreal_ip = true\n"})
		lc, err := loadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		if lc.Port == nil || *lc.Port != 9443 || lc.Display != "pyproject.toml" || !*lc.Proxy.RealIP {
			t.Errorf("got port %v from %q, want 9443 from pyproject.toml", lc.Port, lc.Display)
		}
	})
	t.Run("pyproject without tool.devstack is no config", func(t *testing.T) {
		dir := writeTree(t, map[string]string{"pyproject.toml": "[project]\nname = \"x\"\n[tool.black]\nfoo = 1\n"})
		lc, err := loadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		if lc.Path != "" {
			t.Errorf("got config %q, want none", lc.Path)
		}
	})
	t.Run("devstack.toml wins over pyproject", func(t *testing.T) {
		dir := writeTree(t, map[string]string{
			"pyproject.toml": "[tool.devstack]\nport = 1111\n",
			"devstack.toml":  "port = 2222\n",
		})
		lc, err := loadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		if *lc.Port != 2222 || len(lc.Warnings) != 1 {
			t.Errorf("got port %d, warnings %q; want 2222 and one warning", *lc.Port, lc.Warnings)
		}
	})
	t.Run("bad TOML in pyproject", func(t *testing.T) {
		dir := writeTree(t, map[string]string{"pyproject.toml": "[project]\nname = \n"})
		_, err := loadConfig(dir)
		ce := configError(t, err)
		if ce.File != "pyproject.toml" || ce.Line != 2 || !strings.Contains(err.Error(), "invalid TOML") {
			t.Errorf("got %v, want pyproject.toml:2: invalid TOML", err)
		}
	})
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"512": 512, "10KB": 10e3, "10KiB": 10 << 10, "10k": 10 << 10, "64MiB": 64 << 20,
		"1g": 1 << 30, "2GB": 2e9, " 3 mb ": 3e6, "0": 0,
	} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ten", "10 parsecs", "-1", "1.5MB", "99999999999999999999"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q): no error", in)
		}
	}
}
