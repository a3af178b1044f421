package project

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The web line's options in every form gunicorn's argparse and uvicorn's
// click accept: kept ones are carried over, devstack's own dropped, and
// a variable in a dropped option does not hide the app.
func TestParseWebLine(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		server  string
		target  string
		kept    []string
		dropped []string
		unknown []string
	}{
		{name: "-k and its value", line: "gunicorn -k uvicorn.workers.UvicornWorker main:app",
			server: ServerGunicorn, target: "main:app", kept: []string{"-k=uvicorn.workers.UvicornWorker"}},
		{name: "-k joined", line: "gunicorn -kuvicorn.workers.UvicornWorker main:app",
			server: ServerGunicorn, target: "main:app", kept: []string{"-k=uvicorn.workers.UvicornWorker"}},
		{name: "--worker-class=", line: "gunicorn --worker-class=uvicorn_worker.UvicornWorker main:app",
			server: ServerGunicorn, target: "main:app", kept: []string{"--worker-class=uvicorn_worker.UvicornWorker"}},
		{name: "--worker-class and its value", line: "gunicorn --worker-class uvicorn.workers.UvicornWorker main:app",
			server: ServerGunicorn, target: "main:app", kept: []string{"--worker-class=uvicorn.workers.UvicornWorker"}},
		{name: "options after the target, quoted values",
			line:   `gunicorn main:app --forwarded-allow-ips="10.0.0.5,10.0.0.6" --proxy-allow-from '*' -c conf/gunicorn.py`,
			server: ServerGunicorn, target: "main:app",
			kept: []string{"--forwarded-allow-ips=10.0.0.5,10.0.0.6", "--proxy-allow-from=*", "-c=conf/gunicorn.py"}},
		{name: "$PORT and ${WEB_CONCURRENCY} in dropped options",
			line:   "gunicorn --bind 0.0.0.0:$PORT --workers ${WEB_CONCURRENCY:-2} -b=[::]:$PORT -w$WORKERS --log-file - app:app",
			server: ServerGunicorn, target: "app:app", dropped: []string{"--bind", "--workers", "-b", "-w", "--log-file"}},
		{name: "the app in a variable", line: "gunicorn $APP_MODULE --bind 0.0.0.0:$PORT",
			server: ServerGunicorn, target: "$APP_MODULE", dropped: []string{"--bind"}},
		{name: "--env and --proxy-protocol", line: "gunicorn -e SCRIPT_NAME=/shop --env=MODE=prod --proxy-protocol wsgi",
			server: ServerGunicorn, target: "wsgi", kept: []string{"-e=SCRIPT_NAME=/shop", "--env=MODE=prod", "--proxy-protocol"}},
		{name: "--chdir and --pythonpath are the import path", line: "gunicorn --chdir site --pythonpath=lib portal:app",
			server: ServerGunicorn, target: "portal:app"},
		{name: "wrapped in python -m and a shell sequence", line: "python -m gunicorn --preload shop:app && echo done",
			server: ServerGunicorn, target: "shop:app", dropped: []string{"--preload"}},
		{name: "after a monitoring wrapper", line: "newrelic-admin run-program gunicorn -t 60 shop:app",
			server: ServerGunicorn, target: "shop:app", kept: []string{"-t=60"}},
		{name: "an option devstack does not know", line: "gunicorn --frobnicate shop:app",
			server: ServerGunicorn, target: "shop:app", unknown: []string{"--frobnicate"}},
		{name: "uvicorn's trust and root path",
			line:   "uvicorn main:app --host=0.0.0.0 --port=${PORT:-5000} --proxy-headers --forwarded-allow-ips='*' --root-path /api --workers 4",
			server: ServerUvicorn, target: "main:app",
			kept:    []string{"--proxy-headers", "--forwarded-allow-ips=*", "--root-path=/api"},
			dropped: []string{"--host", "--port", "--workers"}},
		{name: "uvicorn without proxy headers, with --app-dir", line: "uvicorn --no-proxy-headers --app-dir src shop.main:app --reload",
			server: ServerUvicorn, target: "shop.main:app", kept: []string{"--no-proxy-headers"}, dropped: []string{"--reload"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv, _, err := splitCommand(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := parseWebLine(argv)
			if !ok {
				t.Fatalf("%q: no server found", tt.line)
			}
			if w.Server != tt.server || w.Target != tt.target {
				t.Errorf("server %q, target %q; want %q, %q", w.Server, w.Target, tt.server, tt.target)
			}
			if !slices.Equal(w.Kept, tt.kept) {
				t.Errorf("kept %q, want %q", w.Kept, tt.kept)
			}
			if !slices.Equal(w.Dropped, tt.dropped) {
				t.Errorf("dropped %q, want %q", w.Dropped, tt.dropped)
			}
			if !slices.Equal(w.Unknown, tt.unknown) {
				t.Errorf("unknown %q, want %q", w.Unknown, tt.unknown)
			}
		})
	}
	if _, ok := parseWebLine([]string{"hypercorn", "main:app"}); ok {
		t.Error("hypercorn read as gunicorn or uvicorn")
	}
}

// Kept values are expanded as the platform's shell would; an option
// whose variable nobody sets is left out with a warning.
func TestCarriedArgs(t *testing.T) {
	vars := map[string]string{"TRUSTED": "10.0.0.5", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	w := webLine{Source: "Procfile:2", Kept: []string{
		"-k=uvicorn.workers.UvicornWorker", "--forwarded-allow-ips=$TRUSTED", "--proxy-allow-from=${EMPTY:-127.0.0.1}",
		"--timeout=${TIMEOUT-30}", "--root-path=$ROOT_PATH", "--proxy-protocol", "-e=A=$TRUSTED,b",
	}}
	args, warnings := w.carriedArgs(lookup)
	want := []string{"-k", "uvicorn.workers.UvicornWorker", "--forwarded-allow-ips=10.0.0.5", "--proxy-allow-from=127.0.0.1",
		"--timeout=30", "--proxy-protocol", "-e", "A=10.0.0.5,b"}
	if !slices.Equal(args, want) {
		t.Errorf("args %q,\nwant %q", args, want)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "Procfile:2: --root-path $ROOT_PATH is not carried over") ||
		!strings.Contains(warnings[0], "ROOT_PATH is not set") {
		t.Errorf("warnings %q, want one naming --root-path and ROOT_PATH", warnings)
	}
}

func TestExpandShellVars(t *testing.T) {
	vars := map[string]string{"A": "x", "EMPTY": "", "PORT": "5000"}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	for _, tt := range []struct{ in, out, missing string }{
		{"plain", "plain", ""},
		{"$A", "x", ""},
		{"${A}y", "xy", ""},
		{"0.0.0.0:$PORT", "0.0.0.0:5000", ""},
		{"${EMPTY:-d}", "d", ""},
		{"${EMPTY-d}", "", ""},
		{"${UNSET-d}", "d", ""},
		{"$UNSET", "", "UNSET"},
		{"cost$", "cost$", ""},
		{"$1", "$1", ""},
	} {
		out, missing := expandShellVars(tt.in, lookup)
		if out != tt.out || missing != tt.missing {
			t.Errorf("expandShellVars(%q) = %q, %q; want %q, %q", tt.in, out, missing, tt.out, tt.missing)
		}
	}
}

func TestWorkerClass(t *testing.T) {
	for _, tt := range []struct {
		args          []string
		class, module string
	}{
		{[]string{"-k", "uvicorn.workers.UvicornWorker"}, "uvicorn.workers.UvicornWorker", "uvicorn"},
		{[]string{"-kuvicorn_worker.UvicornWorker"}, "uvicorn_worker.UvicornWorker", "uvicorn_worker"},
		{[]string{"--worker-class=gevent"}, "gevent", "gevent"},
		{[]string{"--worker-class", "gthread", "--threads", "4"}, "gthread", ""},
		{[]string{"--worker-class", "gunicorn.workers.ggevent.GeventWorker"}, "gunicorn.workers.ggevent.GeventWorker", "gevent"},
		{[]string{"-k", "gunicorn.workers.sync.SyncWorker"}, "gunicorn.workers.sync.SyncWorker", ""},
		{[]string{"--timeout", "30"}, "", ""},
	} {
		class := workerClass(tt.args)
		if class != tt.class || workerModule(class) != tt.module {
			t.Errorf("%q: class %q module %q; want %q, %q", tt.args, class, workerModule(class), tt.class, tt.module)
		}
	}
}

// The Procfile's web line decides the gateway command when nothing else
// does: its server and worker class, and its trust options; the
// config's server or args win over it.
func TestDetectProcfileOptions(t *testing.T) {
	py := systemPython(t)
	const fastapiApp = "from fastapi import FastAPI\n\napp = FastAPI()\n"
	djangoFiles := map[string]string{"manage.py": djangoManage, "config/__init__.py": "", "config/settings.py": djangoConfig,
		"config/wsgi.py": "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n"}
	with := func(base map[string]string, more map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range more {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name     string
		files    map[string]string
		server   string
		target   string   // checked when set
		from     string   // Project.GatewayFrom
		argvTail []string // after the target and devstack's own bind
		dropped  []string
		conf     string // Project.GunicornConfig, relative
		warning  string // among the warnings
	}{
		{name: "FastAPI under gunicorn's UvicornWorker, trusting production's proxy",
			files: map[string]string{"main.py": fastapiApp,
				"Procfile": "web: gunicorn -k uvicorn.workers.UvicornWorker --workers ${WEB_CONCURRENCY:-2} --bind 0.0.0.0:$PORT --forwarded-allow-ips=10.0.0.5 main:app\n"},
			server: ServerGunicorn, from: "Procfile:1", argvTail: []string{"-k", "uvicorn.workers.UvicornWorker", "--forwarded-allow-ips=10.0.0.5"},
			dropped: []string{"--workers", "--bind"}},
		{name: "uvicorn's own options",
			files:  map[string]string{"main.py": fastapiApp, "Procfile": "web: uvicorn main:app --host 0.0.0.0 --port $PORT --no-proxy-headers --root-path=/api\n"},
			server: ServerUvicorn, from: "Procfile:1", argvTail: []string{"--no-proxy-headers", "--root-path=/api"},
			dropped: []string{"--host", "--port"}},
		{name: "a config file on the web line is the project's gunicorn config",
			files: map[string]string{"app.py": flaskApp, "deploy/gunicorn.py": "timeout = 30\n",
				"Procfile": "web: gunicorn -c deploy/gunicorn.py app:app\n"},
			server: ServerGunicorn, from: "Procfile:1", argvTail: []string{"-c", "deploy/gunicorn.py"}, conf: "deploy/gunicorn.py"},
		{name: "a variable in a kept option comes from .env",
			files: map[string]string{"app.py": flaskApp, ".env": "TRUSTED_PROXY=10.1.2.3\n",
				"Procfile": "web: gunicorn --forwarded-allow-ips=$TRUSTED_PROXY --proxy-allow-from=$NOPE app:app\n"},
			server: ServerGunicorn, from: "Procfile:1", argvTail: []string{"--forwarded-allow-ips=10.1.2.3"},
			warning: "Procfile:1: --proxy-allow-from $NOPE is not carried over to the gateway: NOPE is not set"},
		{name: "a Django project's Procfile",
			files:  with(djangoFiles, map[string]string{"Procfile": "release: python manage.py migrate\nweb: gunicorn config.wsgi --forwarded-allow-ips='*' --log-file -\n"}),
			server: ServerGunicorn, from: "Procfile:2", argvTail: []string{"--forwarded-allow-ips=*"}, dropped: []string{"--log-file"}},
		{name: "a Django project's ASGI entry point under UvicornWorker",
			files: with(djangoFiles, map[string]string{"config/asgi.py": "from django.core.asgi import get_asgi_application\napplication = get_asgi_application()\n",
				"Procfile": "web: gunicorn config.asgi:application -k uvicorn.workers.UvicornWorker\n"}),
			server: ServerGunicorn, target: "config.asgi:application", from: "Procfile:1", argvTail: []string{"-k", "uvicorn.workers.UvicornWorker"}},
		{name: "a gunicorn ASGI app without a worker class is told where to add it",
			files:  map[string]string{"main.py": fastapiApp, "Procfile": "web: gunicorn main:app\n"},
			server: ServerGunicorn, from: "Procfile:1", warning: "add -k uvicorn.workers.UvicornWorker to the web line in Procfile:1"},
		{name: "devstack.toml's server wins",
			files: map[string]string{"main.py": fastapiApp, "devstack.toml": "server = \"uvicorn\"\n",
				"Procfile": "web: gunicorn -k uvicorn.workers.UvicornWorker --forwarded-allow-ips=10.0.0.5 main:app\n"},
			server:  ServerUvicorn,
			warning: "Procfile:1: the web line's options (-k=uvicorn.workers.UvicornWorker --forwarded-allow-ips=10.0.0.5) are not used: server in devstack.toml chooses the gateway command"},
		{name: "devstack.toml's args win",
			files: map[string]string{"app.py": flaskApp, "devstack.toml": "args = [\"--timeout\", \"90\"]\n",
				"Procfile": "web: gunicorn --forwarded-allow-ips=10.0.0.5 app:app\n"},
			server: ServerGunicorn, argvTail: []string{"--timeout", "90"}, warning: "args in devstack.toml chooses the gateway command"},
		{name: "a web line for another app is not carried over",
			files: map[string]string{"app.py": flaskApp, "devstack.toml": "app = \"app:app\"\n",
				"Procfile": "web: gunicorn --forwarded-allow-ips=10.0.0.5 other:app\n"},
			server: ServerGunicorn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeTree(t, tt.files)
			p, err := Detect(dir, Overrides{Python: py, Environ: testEnviron()})
			if err != nil {
				t.Fatalf("Detect: %v (hint: %s)", err, hintOf(t, err))
			}
			if tt.target != "" && p.Target != tt.target {
				t.Errorf("target %q, want %q", p.Target, tt.target)
			}
			if p.Server != tt.server || p.GatewayFrom != tt.from {
				t.Errorf("server %q from %q, want %q from %q", p.Server, p.GatewayFrom, tt.server, tt.from)
			}
			i := slices.Index(p.GatewayArgv, p.Target)
			if i < 0 {
				t.Fatalf("argv %q lacks the target %q", p.GatewayArgv, p.Target)
			}
			tail := slices.DeleteFunc(slices.Clone(p.GatewayArgv[i+1:]), func(a string) bool {
				return a == "--bind" || a == "--host" || a == "--port" || strings.HasPrefix(a, "127.0.0.1") || a == "8000"
			})
			if !slices.Equal(tail, tt.argvTail) {
				t.Errorf("argv %q: extra arguments %q, want %q", p.GatewayArgv, tail, tt.argvTail)
			}
			if !slices.Equal(p.GatewayDropped, tt.dropped) {
				t.Errorf("dropped %q, want %q", p.GatewayDropped, tt.dropped)
			}
			if want := tt.conf; want != "" && p.GunicornConfig != filepath.Join(dir, want) {
				t.Errorf("gunicorn config %q, want %s", p.GunicornConfig, want)
			}
			if tt.warning != "" && !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, tt.warning) }) {
				t.Errorf("warnings %q lack %q", p.Warnings, tt.warning)
			}
		})
	}
}
