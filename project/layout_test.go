package project

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Sources of the small apps the layout tests are made of.
const (
	flaskApp     = "from flask import Flask\n\napp = Flask(__name__)\n"
	flaskFactory = "from flask import Flask\n\n\ndef create_app(config=None):\n    app = Flask(__name__)\n    return app\n"
	starletteApp = "from starlette.applications import Starlette\n\napp = Starlette()\n"
	djangoManage = "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
	djangoConfig = "WSGI_APPLICATION = 'config.wsgi.application'\n"
)

// Every common layout is found with no flag and no config.
func TestDetectLayouts(t *testing.T) {
	py := systemPython(t)
	tests := []struct {
		name     string
		files    map[string]string
		environ  []string
		target   string
		fw       Framework
		layout   string   // Project.Layout
		appDir   string   // relative to the project, "" = the project itself
		argvTail []string // what follows the target and the bind address
	}{
		{
			name:   "flask app factory in a package, as in Flask's tutorial",
			files:  map[string]string{"flaskr/__init__.py": flaskFactory, "flaskr/db.py": "", "tests/__init__.py": "", "tests/conftest.py": "from flaskr import create_app\n"},
			target: "flaskr:create_app()", fw: Flask, layout: "flaskr/__init__.py",
		},
		{
			name:    "FLASK_APP=module.py from the environment",
			files:   map[string]string{"hello.py": flaskApp},
			environ: []string{"FLASK_APP=hello.py"},
			target:  "hello:app", fw: Flask, layout: "FLASK_APP in the environment",
		},
		{
			name:   "FLASK_APP=module in .env",
			files:  map[string]string{"hello.py": "from flask import Flask\napplication = Flask(__name__)\n", ".env": "FLASK_APP=hello\n"},
			target: "hello:application", fw: Flask, layout: "FLASK_APP in the env file",
		},
		{
			name:   "FLASK_APP=module:name in .flaskenv, FLASK_RUN_PORT ignored",
			files:  map[string]string{"site_app.py": "import flask\nweb = flask.Flask(__name__)\n", ".flaskenv": "FLASK_APP=site_app:web\nFLASK_RUN_PORT=5001\n"},
			target: "site_app:web", fw: Flask, layout: "FLASK_APP in .flaskenv",
		},
		{
			name:   "FLASK_APP=module:factory()",
			files:  map[string]string{"hello.py": flaskFactory, ".flaskenv": "FLASK_APP=hello:create_app()\n"},
			target: "hello:create_app()", fw: Flask,
		},
		{
			name:   "FLASK_APP=module:factory(args)",
			files:  map[string]string{"hello.py": flaskFactory, ".flaskenv": "FLASK_APP=\"hello:create_app('dev')\"\n"},
			target: "hello:create_app('dev')", fw: Flask,
		},
		{
			name:   "FLASK_APP naming a factory without parentheses calls it, as Flask does",
			files:  map[string]string{"hello.py": flaskFactory, ".flaskenv": "FLASK_APP=hello:create_app\n"},
			target: "hello:create_app()", fw: Flask,
		},
		{
			name:   "FLASK_APP=package finds its factory",
			files:  map[string]string{"flaskr/__init__.py": flaskFactory, ".flaskenv": "FLASK_APP=flaskr\n"},
			target: "flaskr:create_app()", fw: Flask,
		},
		{
			name:   "FLASK_APP=path/to/module.py walks up the packages",
			files:  map[string]string{"web/__init__.py": "", "web/server.py": flaskApp, ".flaskenv": "FLASK_APP=web/server.py\n"},
			target: "web.server:app", fw: Flask,
		},
		{
			name:   "FLASK_APP=path outside a package puts its directory on the path",
			files:  map[string]string{"src/myapp/__init__.py": flaskFactory, ".flaskenv": "FLASK_APP=src/myapp\n"},
			target: "myapp:create_app()", fw: Flask,
			argvTail: []string{"--pythonpath", "src"},
		},
		{
			name:    "the environment beats .env, which beats .flaskenv",
			files:   map[string]string{"a.py": flaskApp, "b.py": flaskApp, "c.py": flaskApp, ".env": "FLASK_APP=b\n", ".flaskenv": "FLASK_APP=c\n"},
			environ: []string{"FLASK_APP=a"},
			target:  "a:app", fw: Flask,
		},
		{
			name:   ".env beats .flaskenv",
			files:  map[string]string{"b.py": flaskApp, "c.py": flaskApp, ".env": "FLASK_APP=b\n", ".flaskenv": "FLASK_APP=c\n"},
			target: "b:app", fw: Flask,
		},
		{
			name:   "main.py before app.py, as the fastapi CLI searches",
			files:  map[string]string{"main.py": starletteApp, "app.py": flaskApp},
			target: "main:app", fw: Starlette, layout: "main.py",
		},
		{
			name:   "api.py",
			files:  map[string]string{"api.py": starletteApp},
			target: "api:app", fw: Starlette, layout: "api.py",
		},
		{
			name:   "app/main.py in a package",
			files:  map[string]string{"app/__init__.py": "", "app/main.py": starletteApp, "app/routers/__init__.py": ""},
			target: "app.main:app", fw: Starlette, layout: "app/main.py",
		},
		{
			name:   "app/main.py without __init__.py: app/ goes on the path",
			files:  map[string]string{"app/main.py": starletteApp},
			target: "main:app", fw: Starlette, layout: "app/main.py",
			argvTail: []string{"--app-dir", "app"},
		},
		{
			name:   "app/api.py after app/app.py",
			files:  map[string]string{"app/__init__.py": "", "app/api.py": starletteApp, "app/app.py": starletteApp},
			target: "app.app:app", fw: Starlette,
		},
		{
			name: "manage.py one directory down runs from there",
			files: map[string]string{"README.md": "", "frontend/package.json": "{}",
				"backend/manage.py": djangoManage, "backend/config/__init__.py": "", "backend/config/settings.py": djangoConfig,
				"backend/config/wsgi.py": "application = None\n"},
			target: "config.wsgi:application", fw: Django, layout: "backend/manage.py", appDir: "backend",
		},
		{
			name: "manage.py in src/",
			files: map[string]string{"src/manage.py": djangoManage, "src/config/__init__.py": "", "src/config/settings.py": djangoConfig,
				"src/config/wsgi.py": "application = None\n"},
			target: "config.wsgi:application", fw: Django, layout: "src/manage.py", appDir: "src",
		},
		{
			name:   "src/ layout with a Flask factory",
			files:  map[string]string{"src/flaskr/__init__.py": flaskFactory, "pyproject.toml": "[project]\nname = \"flaskr\"\n"},
			target: "flaskr:create_app()", fw: Flask, layout: "src/flaskr/__init__.py",
			argvTail: []string{"--pythonpath", "src"},
		},
		{
			name:   "src/ layout with an ASGI app in a module of the package",
			files:  map[string]string{"src/shop/__init__.py": "", "src/shop/main.py": starletteApp},
			target: "shop.main:app", fw: Starlette,
			argvTail: []string{"--app-dir", "src"},
		},
		{
			name:   "several packages: the one named like the project wins",
			files:  map[string]string{"pyproject.toml": "[project]\nname = \"blog-app\"\n", "admin/__init__.py": flaskFactory, "blog_app/__init__.py": flaskFactory},
			target: "blog_app:create_app()", fw: Flask,
		},
		{
			name: "Procfile's web line names the app",
			files: map[string]string{"Procfile": "release: flask db upgrade\nweb: gunicorn -w 2 --log-file - flasky:app\n",
				"flasky.py":       "import os\nfrom app import create_app\napp = create_app(os.getenv('FLASK_CONFIG') or 'default')\n",
				"app/__init__.py": "from flask import Flask\n\ndef create_app(config_name):\n    return Flask(__name__)\n"},
			target: "flasky:app", fw: Flask, layout: "Procfile's web line",
		},
		{
			name:   "Procfile's web line with uvicorn and --app-dir",
			files:  map[string]string{"Procfile": "web: uvicorn --app-dir src shop.main:app --host 0.0.0.0 --port $PORT\n", "src/shop/__init__.py": "", "src/shop/main.py": starletteApp},
			target: "shop.main:app", fw: Starlette,
			argvTail: []string{"--app-dir", "src"},
		},
		{
			name:   "Procfile's web line with --chdir, gunicorn's default callable",
			files:  map[string]string{"Procfile": "web: gunicorn --chdir backend site_wsgi\n", "backend/site_wsgi.py": "def application(environ, start_response):\n    pass\n"},
			target: "site_wsgi:application", fw: WSGI,
			argvTail: []string{"--pythonpath", "backend"},
		},
		{
			name: "a Procfile naming a Django project one level down leaves it to the manage.py search",
			files: map[string]string{"Procfile": "web: gunicorn --chdir backend config.wsgi\n",
				"backend/manage.py": djangoManage, "backend/config/__init__.py": "", "backend/config/settings.py": djangoConfig,
				"backend/config/wsgi.py": "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n"},
			target: "config.wsgi:application", fw: Django, layout: "backend/manage.py", appDir: "backend",
		},
		{
			name: "a factory that needs arguments is reached through the module that calls it",
			files: map[string]string{"flasky.py": "import os\nfrom app import create_app, db\napp = create_app(os.getenv('FLASK_CONFIG') or 'default')\n",
				"app/__init__.py": "from flask import Flask\n\ndef create_app(config_name, *extra):\n    return Flask(__name__)\n"},
			target: "flasky:app", fw: Flask, layout: "flasky.py",
		},
		{
			name: "a Flask-Script manage.py is no Django project",
			files: map[string]string{"manage.py": "from flask_script import Manager\nfrom app import create_app\nmanager = Manager(create_app)\n",
				"app/__init__.py": flaskFactory},
			target: "app:create_app()", fw: Flask,
		},
		{
			name:   "run.py that makes the app",
			files:  map[string]string{"run.py": "from blog import create_app\napp = create_app()\n", "blog/__init__.py": flaskFactory},
			target: "run:app", fw: Flask, layout: "run.py",
		},
		{
			name:   "an ASGI app made by a factory only is served through it",
			files:  map[string]string{"main.py": "from starlette.applications import Starlette\n\ndef create_app():\n    return Starlette()\n"},
			target: "main:create_app()", fw: Starlette,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeTree(t, tt.files)
			p, err := Detect(dir, Overrides{Python: py, Environ: testEnviron(tt.environ...)})
			if err != nil {
				t.Fatalf("Detect: %v (hint: %s)", err, hintOf(t, err))
			}
			if p.Target != tt.target || p.Framework != tt.fw {
				t.Errorf("target %q (%s), want %q (%s)", p.Target, p.Framework, tt.target, tt.fw)
			}
			if tt.layout != "" && p.Layout != tt.layout {
				t.Errorf("layout %q, want %q", p.Layout, tt.layout)
			}
			if want := filepath.Join(dir, tt.appDir); p.AppDir != want || p.Dir != dir {
				t.Errorf("dirs: app %s, project %s; want app %s, project %s", p.AppDir, p.Dir, want, dir)
			}
			i := slices.Index(p.GatewayArgv, p.Target)
			if p.Server == ServerUvicorn {
				i = slices.Index(p.GatewayArgv, strings.TrimSuffix(p.Target, "()")) // uvicorn takes --factory
			}
			if i < 0 {
				t.Fatalf("argv %q lacks the target", p.GatewayArgv)
			}
			tail := p.GatewayArgv[i+1:]
			tail = slices.DeleteFunc(slices.Clone(tail), func(a string) bool {
				return a == "--bind" || a == "--host" || a == "--port" || a == "--factory" || strings.HasPrefix(a, "127.0.0.1") || a == "8000"
			})
			if !slices.Equal(tail, tt.argvTail) {
				t.Errorf("argv %q: extra arguments %q, want %q", p.GatewayArgv, tail, tt.argvTail)
			}
			if p.AppPort != DefaultAppPort {
				t.Errorf("app port %d, want %d (FLASK_RUN_PORT is flask run's, not the gateway's)", p.AppPort, DefaultAppPort)
			}
		})
	}
}

// A Django project one level down reads its own .env too, after the
// project's, and the interpreter check runs where the gateway will.
func TestDetectDjangoBelowReadsItsEnv(t *testing.T) {
	py := systemPython(t)
	dir := writeTree(t, map[string]string{
		".env":                       "A=root\nB=root\n",
		"backend/.env":               "B=backend\nDJANGO_SETTINGS_MODULE=config.prod\n",
		"backend/manage.py":          djangoManage,
		"backend/config/__init__.py": "", "backend/config/settings.py": djangoConfig,
		"backend/config/prod.py": "WSGI_APPLICATION = 'config.prod_wsgi.application'\n", "backend/config/prod_wsgi.py": "application = None\n",
	})
	p, err := Detect(dir, Overrides{Python: py, Environ: testEnviron()})
	if err != nil {
		t.Fatalf("Detect: %v (hint: %s)", err, hintOf(t, err))
	}
	if p.Target != "config.prod_wsgi:application" || p.SettingsModule != "config.prod" {
		t.Errorf("target %q, settings %q; want backend/.env's settings", p.Target, p.SettingsModule)
	}
	for _, kv := range []string{"A=root", "B=backend"} {
		if !slices.Contains(p.Env, kv) {
			t.Errorf("env %q lacks %s", p.Env, kv)
		}
	}
}

// When nothing is found, the error says what was looked for and the hint
// gives the exact way to run the likeliest file.
func TestDetectLayoutFailureNamesTheCandidate(t *testing.T) {
	py := systemPython(t)
	tests := []struct {
		name  string
		files map[string]string
		hint  []string
		not   []string // what the hint must not say
	}{
		{
			name:  "a Flask app in a file no convention names",
			files: map[string]string{"webapp.py": flaskApp},
			hint:  []string{"webapp.py looks like a flask app", "devstack up --app 'webapp:app'", `app = "webapp:app"`},
		},
		{
			name:  "an ASGI app in a directory that is not a package",
			files: map[string]string{"service/web.py": starletteApp},
			hint:  []string{"service/web.py", `app = "web:app"`, `args = ["--app-dir", "service"]`},
		},
		{
			name: "a FastAPI package in backend/, whose paths are relative to it",
			files: map[string]string{
				"backend/shop/__init__.py": "",
				"backend/shop/main.py":     "from fastapi import FastAPI\n\napp = FastAPI()\n",
				"frontend/package.json":    "{}",
			},
			hint: []string{"backend/shop/main.py looks like a fastapi app: run devstack up --dir backend", `app = "shop.main:app"`, `args = ["--app-dir", "backend"]`},
		},
		{
			name:  "manage.py two levels down",
			files: map[string]string{"deploy/site/manage.py": djangoManage},
			hint:  []string{"deploy/site/manage.py is a Django project", "devstack up --dir deploy/site"},
			not:   []string{"one level down"},
		},
		{
			name: "a Flask command line named manage.py two levels down",
			files: map[string]string{
				"services/web/manage.py":        "from flask.cli import FlaskGroup\n\nfrom shop import app\n\ncli = FlaskGroup(app)\n",
				"services/web/shop/__init__.py": flaskApp,
			},
			hint: []string{"services/web/shop/__init__.py looks like a flask app", `app = "shop:app"`, `args = ["--pythonpath", "services/web"]`},
			not:  []string{"Django"},
		},
		{
			name:  "nothing at all",
			files: map[string]string{"README.md": "hi"},
			hint:  []string{"run devstack in your project's directory"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Detect(writeTree(t, tt.files), Overrides{Python: py, Environ: testEnviron()})
			if err == nil {
				t.Fatal("Detect found an app")
			}
			for _, want := range []string{"cannot find the app", "FLASK_APP", "app/main.py", "backend/", "src/"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			hint := hintOf(t, err)
			for _, want := range tt.hint {
				if !strings.Contains(hint, want) {
					t.Errorf("hint %q lacks %q", hint, want)
				}
			}
			for _, wrong := range tt.not {
				if strings.Contains(hint, wrong) {
					t.Errorf("hint %q says %q", hint, wrong)
				}
			}
		})
	}
}

func TestDetectBadFlaskApp(t *testing.T) {
	py := systemPython(t)
	dir := writeTree(t, map[string]string{".flaskenv": "FLASK_APP=missing/hello.py\n"})
	_, err := Detect(dir, Overrides{Python: py, Environ: testEnviron()})
	if err == nil || !strings.Contains(err.Error(), `FLASK_APP in .flaskenv ("missing/hello.py"): missing/hello.py does not exist`) {
		t.Fatalf("got %v", err)
	}
	if hint := hintOf(t, err); !strings.Contains(hint, "module:create_app()") {
		t.Errorf("hint %q", hint)
	}
}

func TestDetectSeveralPackagesAsksWhichOne(t *testing.T) {
	py := systemPython(t)
	dir := writeTree(t, map[string]string{"alpha/__init__.py": flaskFactory, "beta/app.py": starletteApp, "beta/__init__.py": ""})
	_, err := Detect(dir, Overrides{Python: py, Environ: testEnviron()})
	if err == nil || !strings.Contains(err.Error(), "alpha/__init__.py: alpha:create_app()") || !strings.Contains(err.Error(), "beta/app.py: beta.app:app") {
		t.Fatalf("got %v, want both packages listed", err)
	}
	if hint := hintOf(t, err); !strings.Contains(hint, "devstack up --app 'alpha:create_app()'") {
		t.Errorf("hint %q", hint)
	}
}

// A configured target in a src/ layout imports with src/ on the path.
func TestDetectConfiguredAppInSrc(t *testing.T) {
	py := systemPython(t)
	dir := writeTree(t, map[string]string{"src/flaskr/__init__.py": flaskFactory, ConfigFileName: "app = \"flaskr:create_app()\"\n"})
	p, err := Detect(dir, Overrides{Python: py, Environ: testEnviron()})
	if err != nil {
		t.Fatalf("Detect: %v (hint: %s)", err, hintOf(t, err))
	}
	if p.Framework != Flask || p.PythonPath != "src" || !slices.Contains(p.GatewayArgv, "--pythonpath") {
		t.Errorf("framework %s, python path %q, argv %q", p.Framework, p.PythonPath, p.GatewayArgv)
	}
}

func TestImportName(t *testing.T) {
	root := writeTree(t, map[string]string{
		"pkg/__init__.py": "", "pkg/sub/__init__.py": "", "pkg/sub/mod.py": "",
		"plain/mod.py": "", "src/lib/__init__.py": "", "top.py": "",
	})
	tests := []struct{ file, module, pathDir string }{
		{"top.py", "top", ""},
		{"pkg/__init__.py", "pkg", ""},
		{"pkg/sub/mod.py", "pkg.sub.mod", ""},
		{"pkg/sub/__init__.py", "pkg.sub", ""},
		{"plain/mod.py", "mod", "plain"},
		{"src/lib/__init__.py", "lib", "src"},
	}
	for _, tt := range tests {
		m, d := importName(root, filepath.Join(root, tt.file))
		if m != tt.module || d != tt.pathDir {
			t.Errorf("%s: got %q, %q; want %q, %q", tt.file, m, d, tt.module, tt.pathDir)
		}
	}
}

func TestGuessAppFastAPIFiles(t *testing.T) {
	// FastAPI is not in Debian bookworm, so its layouts are read statically
	// here and run with Starlette apps of the same shape end to end.
	dir := writeTree(t, map[string]string{
		"app/__init__.py": "",
		"app/main.py":     "from fastapi import FastAPI\nfrom app.routers import items\n\napp = FastAPI()\n",
	})
	a, err := findFileApp(dir)
	if err != nil || a == nil {
		t.Fatalf("got %v, %v", a, err)
	}
	if a.Framework != FastAPI || a.Target() != "app.main:app" || a.How != "app/main.py" {
		t.Errorf("got %+v", a)
	}
}
