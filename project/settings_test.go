package project

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPrecedence(t *testing.T) {
	py := systemPython(t)
	config := "port = 8443\napp_port = 8001\nhost = \"::1\"\n"
	tests := []struct {
		name               string
		config             string
		env                map[string]string
		flags              Overrides
		wantPort, wantApp  int
		wantHost, wantBind string
	}{
		{name: "defaults", wantPort: 8080, wantApp: 8000, wantHost: "127.0.0.1", wantBind: "127.0.0.1:8000"},
		{name: "config over defaults", config: config, wantPort: 8443, wantApp: 8001, wantHost: "::1", wantBind: "[::1]:8001"},
		{
			name: "environment over config", config: config,
			env:      map[string]string{"DEVSTACK_PORT": "9443", "DEVSTACK_APP_PORT": "9001", "DEVSTACK_HOST": "127.0.0.2"},
			wantPort: 9443, wantApp: 9001, wantHost: "127.0.0.2", wantBind: "127.0.0.2:9001",
		},
		{
			name: "flags over environment", config: config,
			env:      map[string]string{"DEVSTACK_PORT": "9443", "DEVSTACK_APP_PORT": "9001"},
			flags:    Overrides{Port: 10443},
			wantPort: 10443, wantApp: 9001, wantHost: "::1", wantBind: "[::1]:9001",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{"app.py": "from flask import Flask\napp = Flask(__name__)\n"}
			if tt.config != "" {
				files["devstack.toml"] = tt.config
			}
			env, err := EnvOverrides(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			o := tt.flags.Or(env)
			o.Python, o.Environ = py, testEnviron()
			p, err := Detect(writeTree(t, files), o)
			if err != nil {
				t.Fatal(err)
			}
			if p.Port != tt.wantPort || p.AppPort != tt.wantApp || p.Host != tt.wantHost {
				t.Errorf("got port %d, app port %d, host %q; want %d, %d, %q", p.Port, p.AppPort, p.Host, tt.wantPort, tt.wantApp, tt.wantHost)
			}
			if i := slices.Index(p.GatewayArgv, "--bind"); i < 0 || p.GatewayArgv[i+1] != tt.wantBind {
				t.Errorf("argv %q: want --bind %s", p.GatewayArgv, tt.wantBind)
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	env := map[string]string{
		"DEVSTACK_PYTHON": "/opt/py/bin/python", "DEVSTACK_APP": "x:app", "DEVSTACK_SERVER": "uvicorn",
		"DEVSTACK_COMMAND": "node server.js --port {port}", "DEVSTACK_PORT": " 8443 ",
	}
	o, err := EnvOverrides(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if o.Python != "/opt/py/bin/python" || o.App != "x:app" || o.Server != "uvicorn" || o.Port != 8443 || !slices.Equal(o.Command, []string{"node server.js --port {port}"}) {
		t.Errorf("got %+v", o)
	}
	if got := o.source("Python", "--python", "DEVSTACK_PYTHON"); got != "DEVSTACK_PYTHON" {
		t.Errorf("source: got %q, want DEVSTACK_PYTHON", got)
	}
	merged := Overrides{Python: "/flag/python"}.Or(o)
	if merged.Python != "/flag/python" || merged.source("Python", "--python", "DEVSTACK_PYTHON") != "--python" || merged.App != "x:app" {
		t.Errorf("flags.Or(env): got %+v", merged)
	}

	for _, bad := range []string{"http", "0", "65536", "-1"} {
		_, err := EnvOverrides(func(k string) (string, bool) {
			if k == "DEVSTACK_APP_PORT" {
				return bad, true
			}
			return "", false
		})
		if err == nil || !strings.Contains(err.Error(), "DEVSTACK_APP_PORT") {
			t.Errorf("DEVSTACK_APP_PORT=%q: got %v, want an error naming the variable", bad, err)
			continue
		}
		hintOf(t, err)
	}
}

func TestEnvAndProcesses(t *testing.T) {
	py := systemPython(t)
	dir := copyFixture(t, "flask-factory", map[string]string{
		".env":       "SECRET_KEY='s3cr3t'\nexport DEBUG=1\nHOME_COPY=${HOME}\nFORWARDED_ALLOW_IPS=127.0.0.1\n",
		".env.local": "DEBUG=0\nSHELL_SET=from-file\nKEY_COPY=${SECRET_KEY}-local\n",
		"frontend/":  "",
		"devstack.toml": `env_files = [".env", ".env.local"]
hosts = ["myapp.test"]

[watch]
exclude = ["docs/"]

[processes.assets]
command = ["npm", "run", "watch"]
dir = "frontend"
restart_on = ["package.json"]
env = { NODE_ENV = "development", A = "1" }

[processes.worker]
command = "python -m rq worker"

[proxy]
max_body = "1MiB"
hold_timeout = 3
`,
	})
	p, err := Detect(dir, Overrides{Python: py, Environ: testEnviron("SHELL_SET=from-shell", "GUNICORN_CMD_ARGS=--workers=3")})
	if err != nil {
		t.Fatal(err)
	}

	wantEnv := []string{
		"SECRET_KEY=s3cr3t", "DEBUG=0", "HOME_COPY=/nonexistent", "FORWARDED_ALLOW_IPS=127.0.0.1",
		"KEY_COPY=s3cr3t-local", "PYTHONUNBUFFERED=1",
	}
	if !slices.Equal(p.Env, wantEnv) {
		t.Errorf("env:\n got  %q\n want %q (SHELL_SET stays the shell's; later files win)", p.Env, wantEnv)
	}
	if len(p.EnvFiles) != 2 {
		t.Errorf("env files: got %q", p.EnvFiles)
	}
	if slices.ContainsFunc(p.GatewayArgv, func(a string) bool { return strings.Contains(a, "forwarded") || strings.Contains(a, "workers") }) {
		t.Errorf("gateway argv %q must not add trust or worker flags: GUNICORN_CMD_ARGS and FORWARDED_ALLOW_IPS pass through the environment", p.GatewayArgv)
	}

	var names []string
	for _, pr := range p.Processes {
		names = append(names, pr.Name)
	}
	// Procfile.dev order, web skipped, config's assets replacing the
	// Procfile's, config-only worker last.
	if got, want := strings.Join(names, ","), "assets,logs,worker"; got != want {
		t.Fatalf("processes: got %s, want %s", got, want)
	}
	assets, logs, worker := p.Processes[0], p.Processes[1], p.Processes[2]
	if !slices.Equal(assets.Argv, []string{"npm", "run", "watch"}) || assets.Shell || assets.Dir != dir+"/frontend" ||
		!slices.Equal(assets.Env, []string{"A=1", "NODE_ENV=development"}) || !slices.Equal(assets.RestartOn, []string{"package.json"}) {
		t.Errorf("assets: got %+v", assets)
	}
	if !logs.Shell || logs.Argv[0] != "/bin/sh" || logs.Argv[2] != "tail -F instance/app.log | grep --line-buffered ERROR" || logs.Source != "Procfile.dev:4" || logs.Dir != dir {
		t.Errorf("logs: got %+v, want a shell command from Procfile.dev:4", logs)
	}
	if !slices.Equal(worker.Argv, []string{"python", "-m", "rq", "worker"}) || worker.Shell {
		t.Errorf("worker: got %+v", worker)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], `Procfile.dev:2: the "web" process is not started`) {
		t.Errorf("warnings: got %q, want one about the web process", p.Warnings)
	} else if w := p.Warnings[0]; !strings.HasSuffix(w, `in devstack.toml)`) || strings.Count(w, "(") != strings.Count(w, ")") {
		// Issue 9: the warning was reported without its closing ")".
		t.Errorf("the web process warning is cut: %q", w)
	}

	if !slices.Equal(p.Watch.Include, []string{"**"}) || !slices.Equal(p.Watch.Exclude, []string{"docs/"}) {
		t.Errorf("watch: got %+v", p.Watch)
	}
	if !slices.Equal(p.Hosts, []string{"myapp.test"}) {
		t.Errorf("hosts: got %q", p.Hosts)
	}
	if p.Proxy.MaxBody != 1<<20 || p.Proxy.HoldTimeout != 3*time.Second || !p.Proxy.ForwardedProto || p.Proxy.ForwardedSSL {
		t.Errorf("proxy: got %+v", p.Proxy)
	}
}
