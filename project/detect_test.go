package project

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testEnviron is a small, fixed environment so the runner's own
// DJANGO_SETTINGS_MODULE, VIRTUAL_ENV or DEVSTACK_* cannot leak in.
func testEnviron(extra ...string) []string {
	return append([]string{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "LANG=C.UTF-8"}, extra...)
}

func fixture(name string) string {
	return filepath.Join("..", "testdata", "project", name)
}

func TestDetectApps(t *testing.T) {
	py := systemPython(t)
	tests := []struct {
		name  string
		dir   func(t *testing.T) string
		o     Overrides
		check func(t *testing.T, p *Project)
		want  Project // the fields compared: Framework, Kind, Server, Target, SettingsModule
	}{
		{
			name: "django from manage.py and WSGI_APPLICATION",
			dir:  func(*testing.T) string { return fixture("django-basic") },
			want: Project{Framework: Django, Kind: KindWSGI, Server: ServerGunicorn, Target: "mysite.wsgi:application", SettingsModule: "mysite.settings"},
			check: func(t *testing.T, p *Project) {
				wantArgv := []string{py, "-m", "gunicorn", "mysite.wsgi:application", "--bind", "127.0.0.1:8000"}
				if !slices.Equal(p.GatewayArgv, wantArgv) {
					t.Errorf("argv: got %q, want %q", p.GatewayArgv, wantArgv)
				}
				for _, kv := range []string{"PYTHONUNBUFFERED=1", "DJANGO_SETTINGS_MODULE=mysite.settings"} {
					if !slices.Contains(p.Env, kv) {
						t.Errorf("env %q lacks %s", p.Env, kv)
					}
				}
				if got := filepath.Base(p.SettingsFile); got != "settings.py" {
					t.Errorf("settings file: got %q", p.SettingsFile)
				}
				if p.Interpreter.DjangoVersion == "" || p.Interpreter.GunicornVersion == "" || p.Interpreter.FrameworkVersion != p.Interpreter.DjangoVersion {
					t.Errorf("versions not reported: %+v", p.Interpreter)
				}
			},
		},
		{
			name: "django split settings follow the star import",
			dir:  func(*testing.T) string { return fixture("django-split") },
			want: Project{Framework: Django, Kind: KindWSGI, Server: ServerGunicorn, Target: "config.wsgi:application", SettingsModule: "config.settings.dev"},
		},
		{
			name: "django settings from the environment beat manage.py",
			dir:  func(*testing.T) string { return fixture("django-split") },
			o:    Overrides{Environ: testEnviron("DJANGO_SETTINGS_MODULE=config.settings.prod")},
			want: Project{Framework: Django, Kind: KindWSGI, Server: ServerGunicorn, Target: "config.prod_wsgi:application", SettingsModule: "config.settings.prod"},
		},
		{
			name: "django settings from .env",
			dir: func(t *testing.T) string {
				return copyFixture(t, "django-split", map[string]string{".env": "DJANGO_SETTINGS_MODULE=config.settings.prod\n"})
			},
			want: Project{Framework: Django, Kind: KindWSGI, Server: ServerGunicorn, Target: "config.prod_wsgi:application", SettingsModule: "config.settings.prod"},
		},
		{
			name: "django settings from the config beat .env",
			dir: func(t *testing.T) string {
				return copyFixture(t, "django-split", map[string]string{
					".env":          "DJANGO_SETTINGS_MODULE=config.settings.dev\n",
					"devstack.toml": "settings = \"config.settings.prod\"\n",
				})
			},
			want: Project{Framework: Django, Kind: KindWSGI, Server: ServerGunicorn, Target: "config.prod_wsgi:application", SettingsModule: "config.settings.prod"},
			check: func(t *testing.T, p *Project) {
				if slices.Contains(p.Env, "DJANGO_SETTINGS_MODULE=config.settings.dev") || !slices.Contains(p.Env, "DJANGO_SETTINGS_MODULE=config.settings.prod") {
					t.Errorf("env: got %q, want the config's settings only", p.Env)
				}
			},
		},
		{
			name: "django without WSGI_APPLICATION falls back to wsgi.py",
			dir: func(t *testing.T) string {
				return copyFixture(t, "django-basic", map[string]string{"mysite/settings.py": "DEBUG = True\n"})
			},
			want: Project{Framework: Django, Kind: KindWSGI, Server: ServerGunicorn, Target: "mysite.wsgi:application", SettingsModule: "mysite.settings"},
		},
		{
			name: "django ASGI-only runs under uvicorn",
			dir: func(t *testing.T) string {
				return copyFixture(t, "django-basic", map[string]string{
					"mysite/settings.py": "ASGI_APPLICATION = 'mysite.asgi.application'\n",
				})
			},
			o:    Overrides{},
			want: Project{Framework: Django, Kind: KindASGI, Server: ServerUvicorn, Target: "mysite.asgi:application", SettingsModule: "mysite.settings"},
			check: func(t *testing.T, p *Project) {
				want := []string{py, "-m", "uvicorn", "mysite.asgi:application", "--host", "127.0.0.1", "--port", "8000"}
				if !slices.Equal(p.GatewayArgv, want) {
					t.Errorf("argv: got %q, want %q", p.GatewayArgv, want)
				}
			},
		},
		{
			name: "django with server = uvicorn uses asgi.py",
			dir: func(t *testing.T) string {
				return copyFixture(t, "django-basic", map[string]string{"devstack.toml": "server = \"uvicorn\"\nargs = [\"--ws\", \"none\"]\n"})
			},
			want: Project{Framework: Django, Kind: KindASGI, Server: ServerUvicorn, Target: "mysite.asgi:application", SettingsModule: "mysite.settings"},
			check: func(t *testing.T, p *Project) {
				if got := strings.Join(p.GatewayArgv[len(p.GatewayArgv)-2:], " "); got != "--ws none" {
					t.Errorf("args not appended: %q", p.GatewayArgv)
				}
			},
		},
		{
			name: "django's own gunicorn.conf.py is recorded",
			dir: func(t *testing.T) string {
				return copyFixture(t, "django-basic", map[string]string{"gunicorn.conf.py": "workers = 2\n"})
			},
			want: Project{Framework: Django, Kind: KindWSGI, Server: ServerGunicorn, Target: "mysite.wsgi:application", SettingsModule: "mysite.settings"},
			check: func(t *testing.T, p *Project) {
				if filepath.Base(p.GunicornConfig) != "gunicorn.conf.py" || !filepath.IsAbs(p.GunicornConfig) {
					t.Errorf("GunicornConfig: got %q", p.GunicornConfig)
				}
			},
		},
		{
			name: "a config file named in args wins over gunicorn.conf.py",
			dir: func(t *testing.T) string {
				return copyFixture(t, "django-basic", map[string]string{"gunicorn.conf.py": "", "deploy/gunicorn.py": "", "devstack.toml": "args = [\"--config\", \"deploy/gunicorn.py\"]\n"})
			},
			want: Project{Framework: Django, Kind: KindWSGI, Server: ServerGunicorn, Target: "mysite.wsgi:application", SettingsModule: "mysite.settings"},
			check: func(t *testing.T, p *Project) {
				if want := filepath.Join(p.Dir, "deploy", "gunicorn.py"); p.GunicornConfig != want {
					t.Errorf("GunicornConfig: got %q, want %q", p.GunicornConfig, want)
				}
			},
		},
		{
			name: "flask app.py",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{"app.py": "from flask import Flask\n\napp = Flask(__name__)\n"})
			},
			want: Project{Framework: Flask, Kind: KindWSGI, Server: ServerGunicorn, Target: "app:app"},
			check: func(t *testing.T, p *Project) {
				if p.Interpreter.FrameworkModule != "flask" || p.Interpreter.FlaskVersion == "" {
					t.Errorf("flask not checked: %+v", p.Interpreter)
				}
			},
		},
		{
			name: "flask callable named from the assignment",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{"app.py": "import flask\nserver: flask.Flask = flask.Flask('x')\n"})
			},
			want: Project{Framework: Flask, Kind: KindWSGI, Server: ServerGunicorn, Target: "app:server"},
		},
		{
			name: "flask factory is called by gunicorn",
			dir:  func(*testing.T) string { return fixture("flask-factory") },
			want: Project{Framework: Flask, Kind: KindWSGI, Server: ServerGunicorn, Target: "app:create_app()"},
		},
		{
			name: "wsgi.py beats app.py",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{
					"app.py":  "from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n",
					"wsgi.py": "from app import create_app\n\napplication = create_app()\n",
				})
			},
			want: Project{Framework: WSGI, Kind: KindWSGI, Server: ServerGunicorn, Target: "wsgi:application"},
		},
		{
			name: "plain WSGI callable",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{"wsgi.py": "def application(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n"})
			},
			want: Project{Framework: WSGI, Kind: KindWSGI, Server: ServerGunicorn, Target: "wsgi:application"},
		},
		{
			name: "starlette main.py runs under uvicorn",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{"main.py": "from starlette.applications import Starlette\n\napi = Starlette(routes=[])\n"})
			},
			want: Project{Framework: Starlette, Kind: KindASGI, Server: ServerUvicorn, Target: "main:api"},
		},
		{
			name: "plain ASGI callable in asgi.py",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{"asgi.py": "async def app(scope, receive, send):\n    pass\n"})
			},
			want: Project{Framework: ASGI, Kind: KindASGI, Server: ServerUvicorn, Target: "asgi:app"},
		},
		{
			name: "configured app wins over detection",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{
					"app.py":              "from flask import Flask\napp = Flask(__name__)\n",
					"service/__init__.py": "",
					"service/web.py":      "from starlette.applications import Starlette\nsite = Starlette()\n",
					"devstack.toml":       "app = \"service.web:site\"\n",
				})
			},
			want: Project{Framework: Starlette, Kind: KindASGI, Server: ServerUvicorn, Target: "service.web:site"},
		},
		{
			name: "--app wins over the config",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{
					"app.py":        "from flask import Flask\napp = Flask(__name__)\n",
					"devstack.toml": "app = \"other:app\"\n",
				})
			},
			o:    Overrides{App: "app:app"},
			want: Project{Framework: Flask, Kind: KindWSGI, Server: ServerGunicorn, Target: "app:app"},
		},
		{
			name: "uvicorn factory",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{"devstack.toml": "app = \"svc:make()\"\nserver = \"uvicorn\"\n", "svc.py": "from starlette.applications import Starlette\ndef make():\n    return Starlette()\n"})
			},
			want: Project{Framework: Starlette, Kind: KindASGI, Server: ServerUvicorn, Target: "svc:make()"},
			check: func(t *testing.T, p *Project) {
				if !slices.Contains(p.GatewayArgv, "--factory") || !slices.Contains(p.GatewayArgv, "svc:make") {
					t.Errorf("argv: got %q, want svc:make with --factory", p.GatewayArgv)
				}
			},
		},
		{
			name: "command after -- replaces the gateway",
			dir:  func(*testing.T) string { return fixture("django-basic") },
			o:    Overrides{Command: []string{"/usr/bin/env", "python3", "manage.py", "runserver", "127.0.0.1:{port}"}, AppPort: 8123},
			want: Project{Framework: Django, Kind: KindCommand, Server: ServerCommand, Target: "mysite.wsgi:application", SettingsModule: "mysite.settings"},
			check: func(t *testing.T, p *Project) {
				want := []string{"/usr/bin/env", "python3", "manage.py", "runserver", "127.0.0.1:8123"}
				if !slices.Equal(p.GatewayArgv, want) || p.GatewayShell {
					t.Errorf("argv: got %q (shell %v), want %q", p.GatewayArgv, p.GatewayShell, want)
				}
				if !slices.Equal(p.GatewayEnv, []string{"PORT=8123"}) {
					t.Errorf("gateway env: got %q", p.GatewayEnv)
				}
			},
		},
		{
			name: "command string in the config that needs a shell",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{"devstack.toml": "command = \"npm run build && node server.js --port {port}\"\n"})
			},
			want: Project{Framework: Custom, Kind: KindCommand, Server: ServerCommand},
			check: func(t *testing.T, p *Project) {
				want := []string{"/bin/sh", "-c", "npm run build && node server.js --port 8000"}
				if !slices.Equal(p.GatewayArgv, want) || !p.GatewayShell {
					t.Errorf("argv: got %q (shell %v), want %q as a shell command", p.GatewayArgv, p.GatewayShell, want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := tt.o
			if o.Python == "" {
				o.Python = py
			}
			if o.Environ == nil {
				o.Environ = testEnviron()
			}
			p, err := Detect(tt.dir(t), o)
			if err != nil {
				t.Fatalf("Detect: %v (hint: %s)", err, hintOf(t, err))
			}
			got := Project{Framework: p.Framework, Kind: p.Kind, Server: p.Server, Target: p.Target, SettingsModule: p.SettingsModule}
			w := tt.want
			if got.Framework != w.Framework || got.Kind != w.Kind || got.Server != w.Server || got.Target != w.Target || got.SettingsModule != w.SettingsModule {
				t.Errorf("got  framework=%s kind=%s server=%s target=%q settings=%q\nwant framework=%s kind=%s server=%s target=%q settings=%q",
					got.Framework, got.Kind, got.Server, got.Target, got.SettingsModule,
					w.Framework, w.Kind, w.Server, w.Target, w.SettingsModule)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

func TestGuessAppFastAPI(t *testing.T) {
	// FastAPI is not in Debian bookworm, so this is read statically only.
	g := guessApp("main.py", "from fastapi import FastAPI\n\napi: FastAPI = FastAPI(title='x')\n")
	if g == nil || g.Framework != FastAPI || g.Kind != KindASGI || g.Callable != "api" {
		t.Errorf("got %+v, want FastAPI ASGI api", g)
	}
	if g := guessApp("main.py", "print('hello')\napp = 1\n"); g != nil {
		t.Errorf("main.py without a framework: got %+v, want nothing", g)
	}
}

func TestDetectErrors(t *testing.T) {
	py := systemPython(t)
	tests := []struct {
		name      string
		files     map[string]string
		o         Overrides
		msg, hint string
	}{
		{
			name:  "no app at all",
			files: map[string]string{"README.md": "hi"},
			msg:   "cannot find the app in ",
			hint:  `run devstack in your project's directory, or set app = "pkg.module:callable" in devstack.toml`,
		},
		{
			name:  "manage.py that does not name its settings",
			files: map[string]string{"manage.py": "import sys\n"},
			msg:   "manage.py does not set DJANGO_SETTINGS_MODULE",
			hint:  "DJANGO_SETTINGS_MODULE=mysite.settings in .env",
		},
		{
			name:  "django settings without any entry point",
			files: map[string]string{"manage.py": "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n", "site/settings.py": "DEBUG = True\n"},
			msg:   "no WSGI_APPLICATION or ASGI_APPLICATION in site/settings.py",
			hint:  `set app = "mysite.wsgi:application"`,
		},
		{
			name:  "missing listed env file",
			files: map[string]string{"app.py": "from flask import Flask\napp = Flask(__name__)\n", "devstack.toml": "env_files = [\".env.local\"]\n"},
			msg:   "reading env file .env.local",
			hint:  "create .env.local or remove it from env_files in devstack.toml",
		},
		{
			name:  "same port twice",
			files: map[string]string{"app.py": "from flask import Flask\napp = Flask(__name__)\n"},
			o:     Overrides{Port: 9000, AppPort: 9000},
			msg:   "both use port 9000",
			hint:  "different ports",
		},
		{
			name:  "bad --app",
			files: map[string]string{"app.py": "from flask import Flask\napp = Flask(__name__)\n"},
			o:     Overrides{App: "app.py"},
			msg:   `--app "app.py" is not a "package.module:callable" target`,
			hint:  "mysite.wsgi:application",
		},
		{
			name:  "host name as bind address",
			files: map[string]string{"app.py": "from flask import Flask\napp = Flask(__name__)\n"},
			o:     Overrides{Host: "example.com"},
			msg:   `gateway host "example.com" is not an IP address`,
			hint:  "127.0.0.1",
		},
		{
			name:  "process dir that does not exist",
			files: map[string]string{"app.py": "from flask import Flask\napp = Flask(__name__)\n", "devstack.toml": "[processes.css]\ncommand = \"npm run watch\"\ndir = \"frontend\"\n"},
			msg:   `processes.css.dir "frontend" in devstack.toml is not a directory`,
			hint:  "relative to the project directory",
		},
		{
			name:  "Procfile.dev syntax",
			files: map[string]string{"app.py": "from flask import Flask\napp = Flask(__name__)\n", "Procfile.dev": "worker celery\n"},
			msg:   "Procfile.dev:1:",
			hint:  "name: command",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := tt.o
			o.Python = py
			o.Environ = testEnviron()
			_, err := Detect(writeTree(t, tt.files), o)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error: got %q, want it to contain %q", err, tt.msg)
			}
			if h := hintOf(t, err); !strings.Contains(h, tt.hint) {
				t.Errorf("hint: got %q, want it to contain %q", h, tt.hint)
			}
		})
	}
	t.Run("not a directory", func(t *testing.T) {
		_, err := Detect(filepath.Join(t.TempDir(), "missing"), Overrides{Environ: testEnviron()})
		if err == nil || !strings.Contains(hintOf(t, err), "--dir") {
			t.Errorf("got %v, want an error pointing at --dir", err)
		}
	})
}
