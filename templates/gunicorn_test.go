package templates

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
)

const testProbePath = "/.devstack/probe/0123456789abcdef0123456789abcdef"

// gunicornEnv is the environment devstack gives gunicorn for a project.
func gunicornEnv(projectConf string, preimport []string) []string {
	env := []string{EnvProbePath + "=" + testProbePath, EnvPreimport + "=" + strings.Join(preimport, ",")}
	if projectConf != "" {
		env = append(env, EnvProjectGunicornConf+"="+projectConf)
	}
	return env
}

func gunicornArgs(helpers string, app string) []string {
	return []string{"-m", "gunicorn", "-c", filepath.Join(helpers, GunicornConf), "-b", "fd://{fd}", app}
}

// The sample site with its own gunicorn.conf.py, under each Django/gunicorn
// pair: the project's settings and hooks take effect, the probe answers
// what Django sees, other paths are untouched, and a SIGHUP brings workers
// of a new generation.
func TestGunicornConfDjango(t *testing.T) {
	python := testenv.SystemPython(t)
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			pythonpath := s.pythonpath(t)
			site := testdataDir(t, "django-site-gunicornconf")
			projectConf := filepath.Join(site, "gunicorn.conf.py")
			g := startGateway(t, gatewaySpec{
				python: python, pythonpath: pythonpath, dir: site,
				env:  gunicornEnv(projectConf, DjangoPreimport),
				args: gunicornArgs(runDir(t), "mysite.wsgi"),
			})

			ready, _ := g.waitMarker(0, MarkerReady, 1)
			if ready.Generation != 1 {
				t.Errorf("first ready marker: generation %d, want 1", ready.Generation)
			}
			if got, want := ready.GracefulTimeout, 12*time.Second; got != want {
				t.Errorf("ready marker: graceful timeout %s, want %s (the project's)", got, want)
			}
			// workers = 2 in the project's config: two workers boot, each
			// running the project's post_worker_init before devstack's.
			_, first := g.waitMarker(0, MarkerWorkerBooted, 1)
			g.waitMarker(first+1, MarkerWorkerBooted, 1)
			g.waitLine(0, "the project's post_worker_init line", func(l string) bool {
				return strings.Contains(l, "sample gunicorn.conf.py: post_worker_init pid=")
			})

			r := g.probe(testProbePath, browserHeaders(map[string]string{"X-Forwarded-Proto": "https"}))
			if !r.ReachedFramework || r.Framework.Name != "django" || !strings.HasPrefix(r.Framework.Version, s.djangoVersion) {
				t.Fatalf("probe framework: %+v reached=%v, want django %s*", r.Framework, r.ReachedFramework, s.djangoVersion)
			}
			if r.Server == nil || r.Server.Name != "gunicorn" {
				t.Fatalf("probe server: %+v, want gunicorn", r.Server)
			}
			if got, want := r.Server.ProcName, "sample-gunicornconf"; got != want {
				t.Errorf("proc_name: got %q, want %q (the project's)", got, want)
			}
			if got, want := r.Server.Workers, 2; got != want {
				t.Errorf("workers: got %d, want %d (the project's)", got, want)
			}
			if got, want := r.Server.ProjectConfig, projectConf; got != want {
				t.Errorf("project_config: got %q, want %q", got, want)
			}
			if r.Generation != 1 {
				t.Errorf("generation: got %d, want 1", r.Generation)
			}
			if got, want := r.Server.ForwardedAllowIPsSource, "default"; got != want {
				t.Errorf("forwarded_allow_ips_source: got %q, want %q", got, want)
			}
			if src := r.SettingsSources; src == nil || src.Module != "mysite.settings" || src.File != "mysite/settings.py" ||
				src.Settings["SECURE_PROXY_SSL_HEADER"].File != "mysite/settings.py" || src.Settings["SECURE_PROXY_SSL_HEADER"].Line == 0 {
				t.Errorf("settings_sources: %+v, want where mysite/settings.py sets SECURE_PROXY_SSL_HEADER", src)
			}
			if r.Scheme != "https" || r.IsSecure == nil || !*r.IsSecure {
				t.Errorf("behind the proxy: scheme %q is_secure %s, want https true", r.Scheme, boolp(r.IsSecure))
			}
			if got, want := r.AbsoluteURL, "https://localhost:8080/"; got != want {
				t.Errorf("absolute_url: got %q, want %q", got, want)
			}
			if got, want := r.Host, "localhost:8080"; got != want {
				t.Errorf("host: got %q, want %q", got, want)
			}
			if got, want := r.RemoteAddr, "127.0.0.1"; got != want {
				t.Errorf("remote_addr: got %q, want %q", got, want)
			}
			if r.CSRF == nil || !r.CSRF.OK || !r.CSRF.MiddlewareEnabled {
				t.Errorf("csrf verdict for the site's own https origin: %+v, want ok", r.CSRF)
			}
			if got, want := r.Headers["x-forwarded-proto"], "https"; got != want {
				t.Errorf("headers[x-forwarded-proto]: got %q, want %q", got, want)
			}

			// Without the proxy's header the request is plain http, and on
			// Django 4.0+ the https Origin no longer matches.
			r = g.probe(testProbePath, browserHeaders(nil))
			if r.Scheme != "http" || r.IsSecure == nil || *r.IsSecure {
				t.Errorf("without X-Forwarded-Proto: scheme %q is_secure %s, want http false", r.Scheme, boolp(r.IsSecure))
			}
			if s.djangoVersion != "3.2." {
				want := "Origin checking failed - https://localhost:8080 does not match any trusted origins."
				if r.CSRF == nil || r.CSRF.OK || r.CSRF.Checked != "origin" || r.CSRF.Reason != want {
					t.Errorf("csrf verdict over http: %+v, want origin check failing with %q", r.CSRF, want)
				}
			}

			// Any other path reaches the app untouched.
			status, body := g.get("/whoami/", map[string]string{"Host": "localhost:8080", "X-Forwarded-Proto": "https"})
			var seen map[string]any
			if err := json.Unmarshal(body, &seen); status != 200 || err != nil {
				t.Fatalf("/whoami/: %d %s", status, body)
			}
			if seen["framework"] != "django" || seen["is_secure"] != true || seen["probe"] != nil {
				t.Errorf("/whoami/ answered %s, want the app's own answer", body)
			}

			// SIGHUP: a worker of generation 2 boots, then answers.
			mark := g.lineCount()
			if err := g.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			g.waitMarker(mark, MarkerReloading, 2)
			booted, _ := g.waitMarker(mark, MarkerWorkerBooted, 2)
			if booted.Generation != 2 {
				t.Errorf("after SIGHUP: worker generation %d, want 2", booted.Generation)
			}
			for i := 0; i < 50; i++ { // old workers may still finish a request
				if r = g.probe(testProbePath, browserHeaders(nil)); r.Generation == 2 {
					break
				}
			}
			if r.Generation != 2 {
				t.Errorf("after SIGHUP the probe still answers from generation %d", r.Generation)
			}
		})
	}
}

// The wrapper must leave every gunicorn setting as the project's config
// makes it (only the hooks it chains differ): compared through
// gunicorn's own --print-config, with and without the wrapper.
func TestGunicornConfChangesNoSetting(t *testing.T) {
	python := testenv.SystemPython(t)
	helpers := runDir(t)
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			pythonpath := s.pythonpath(t)
			for _, project := range []string{"django-site-gunicornconf", "django-misconfig/ssl-redirect-untrusted", "django-site"} {
				dir := testdataDir(t, project)
				projectConf := filepath.Join(dir, "gunicorn.conf.py")
				if _, err := os.Stat(projectConf); err != nil {
					projectConf = ""
				}
				plain := printConfig(t, python, pythonpath, dir, nil, "")
				wrapped := printConfig(t, python, pythonpath, dir, gunicornEnv(projectConf, DjangoPreimport), filepath.Join(helpers, GunicornConf))
				for name, want := range plain {
					switch name {
					case "config", "when_ready", "on_reload", "pre_fork", "post_fork", "post_worker_init", "child_exit":
						continue
					}
					if got := wrapped[name]; got != want {
						t.Errorf("%s: %s: got %q with the wrapper, want %q", project, name, got, want)
					}
				}
				if len(wrapped) != len(plain) {
					t.Errorf("%s: %d settings with the wrapper, %d without", project, len(wrapped), len(plain))
				}
			}
		})
	}
}

// printConfig runs gunicorn --print-config in dir (which makes gunicorn
// read ./gunicorn.conf.py when conf is empty) and returns setting → value.
func printConfig(t *testing.T, python, pythonpath, dir string, env []string, conf string) map[string]string {
	t.Helper()
	args := []string{"-m", "gunicorn", "--print-config"}
	if conf != "" {
		args = append(args, "-c", conf)
	}
	cmd := exec.Command(python, append(args, "mysite.wsgi")...)
	cmd.Dir = dir
	cmd.Env = append(testenv.PythonEnv(os.Environ(), pythonpath), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v in %s: %v", cmd.Args, dir, err)
	}
	settings := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		name, value, ok := strings.Cut(line, "=")
		if ok && !strings.HasPrefix(line, " ") {
			settings[strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
	}
	if len(settings) < 20 {
		t.Fatalf("%v printed %d settings:\n%s", cmd.Args, len(settings), out)
	}
	return settings
}

// A project config that trusts only the production load balancer keeps
// doing so under devstack: the forwarded scheme is not believed, exactly as
// in production, and SECURE_SSL_REDIRECT loops.
func TestGunicornConfKeepsUntrustedScheme(t *testing.T) {
	python := testenv.SystemPython(t)
	site := testdataDir(t, "django-misconfig/ssl-redirect-untrusted")
	g := startGateway(t, gatewaySpec{
		python: python, dir: site,
		env:  gunicornEnv(filepath.Join(site, "gunicorn.conf.py"), DjangoPreimport),
		args: gunicornArgs(runDir(t), "mysite.wsgi"),
	})
	g.waitMarker(0, MarkerWorkerBooted, 1)

	r := g.probe(testProbePath, browserHeaders(map[string]string{"X-Forwarded-Proto": "https"}))
	if got, want := strings.Join(r.Server.ForwardedAllowIPs, ","), "10.0.0.5"; got != want {
		t.Errorf("forwarded_allow_ips: got %q, want the project's %q", got, want)
	}
	if got := r.Gateway["wsgi.url_scheme"]; got != "http" {
		t.Errorf("wsgi.url_scheme: got %v, want http (127.0.0.1 is not trusted)", got)
	}
	if r.IsSecure == nil || *r.IsSecure {
		t.Errorf("is_secure: got %s, want false", boolp(r.IsSecure))
	}
	status, _ := g.get("/", map[string]string{"Host": "localhost:8080", "X-Forwarded-Proto": "https"})
	if status != 301 {
		t.Errorf("GET / over https through the proxy: %d, want the 301 of the redirect loop", status)
	}
}

// gunicorn's FORWARDED_ALLOW_IPS environment variable still applies, and
// Django's SECURE_PROXY_SSL_HEADER decides independently of it.
func TestGunicornConfHonoursForwardedAllowIPsEnv(t *testing.T) {
	python := testenv.SystemPython(t)
	site := testdataDir(t, "django-site")
	g := startGateway(t, gatewaySpec{
		python: python, dir: site,
		env:  append(gunicornEnv("", nil), "FORWARDED_ALLOW_IPS=10.1.2.3"),
		args: gunicornArgs(runDir(t), "mysite.wsgi"),
	})
	g.waitMarker(0, MarkerWorkerBooted, 1)
	r := g.probe(testProbePath, browserHeaders(map[string]string{"X-Forwarded-Proto": "https"}))
	if got, want := strings.Join(r.Server.ForwardedAllowIPs, ","), "10.1.2.3"; got != want {
		t.Errorf("forwarded_allow_ips: got %q, want %q from the environment", got, want)
	}
	if got := r.Gateway["wsgi.url_scheme"]; got != "http" {
		t.Errorf("wsgi.url_scheme: got %v, want http", got)
	}
	if r.IsSecure == nil || !*r.IsSecure {
		t.Errorf("is_secure: got %s, want true (SECURE_PROXY_SSL_HEADER)", boolp(r.IsSecure))
	}
}

// Django's own refusals are reported, not hidden: ALLOWED_HOSTS with a port
// makes get_host() fail with Django's message.
func TestProbeReportsDisallowedHost(t *testing.T) {
	python := testenv.SystemPython(t)
	site := testdataDir(t, "django-misconfig/allowed-hosts-with-port")
	g := startGateway(t, gatewaySpec{
		python: python, dir: site,
		env:  gunicornEnv("", DjangoPreimport),
		args: gunicornArgs(runDir(t), "mysite.wsgi"),
	})
	g.waitMarker(0, MarkerWorkerBooted, 1)
	r := g.probe(testProbePath, browserHeaders(map[string]string{"X-Forwarded-Proto": "https"}))
	if r.Host != "" || !strings.Contains(r.HostError, "Invalid HTTP_HOST header: 'localhost:8080'") {
		t.Errorf("host %q, host_error %q: want Django's DisallowedHost message", r.Host, r.HostError)
	}
	if status, _ := g.get("/whoami/", browserHeaders(nil)); status != 400 {
		t.Errorf("the app itself answered %d, want 400", status)
	}
}

// Without a probe path (not under devstack) nothing is installed: the path
// is the app's, and markers still come.
func TestProbeInactiveWithoutPath(t *testing.T) {
	python := testenv.SystemPython(t)
	site := testdataDir(t, "django-site")
	g := startGateway(t, gatewaySpec{
		python: python, dir: site,
		env:  []string{EnvProbePath + "="},
		args: gunicornArgs(runDir(t), "mysite.wsgi"),
	})
	g.waitMarker(0, MarkerWorkerBooted, 1)
	status, body := g.get(testProbePath, map[string]string{"Host": "localhost:8080"})
	if status != 404 || strings.Contains(string(body), `"probe"`) {
		t.Errorf("probe path without %s: %d %.200s, want the app's 404", EnvProbePath, status, body)
	}
}

// Flask behind ProxyFix: the probe sees the request after ProxyFix, and
// lists the middleware with its hop counts.
func TestProbeFlask(t *testing.T) {
	python := testenv.PythonWith(t, "flask", "gunicorn")
	g := startGateway(t, gatewaySpec{
		python: python, dir: testdataDir(t, "flask-app"),
		env:  gunicornEnv("", FlaskPreimport),
		args: gunicornArgs(runDir(t), "app:app"),
	})
	g.waitMarker(0, MarkerWorkerBooted, 1)
	r := g.probe(testProbePath, map[string]string{
		"Host": "127.0.0.1", "X-Forwarded-Proto": "https",
		"X-Forwarded-Host": "localhost:8080", "X-Forwarded-For": "203.0.113.9",
	})
	if !r.ReachedFramework || r.Framework.Name != "flask" {
		t.Fatalf("framework %+v reached=%v, want flask", r.Framework, r.ReachedFramework)
	}
	if r.Scheme != "https" || r.Host != "localhost:8080" || r.RemoteAddr != "203.0.113.9" || r.AbsoluteURL != "https://localhost:8080/" {
		t.Errorf("after ProxyFix: scheme %q host %q remote_addr %q url %q", r.Scheme, r.Host, r.RemoteAddr, r.AbsoluteURL)
	}
	if got := r.Gateway["REMOTE_ADDR"]; got != "127.0.0.1" {
		t.Errorf("gateway REMOTE_ADDR: got %v, want 127.0.0.1 (before ProxyFix)", got)
	}
	if len(r.Middleware) != 1 || !strings.HasSuffix(r.Middleware[0]["class"].(string), ".ProxyFix") || r.Middleware[0]["x_for"] != float64(1) {
		t.Errorf("middleware: %v, want one ProxyFix with x_for=1", r.Middleware)
	}
	status, body := g.get("/whoami/", map[string]string{"X-Forwarded-Proto": "https"})
	if status != 200 || !strings.Contains(string(body), `"framework":"flask"`) {
		t.Errorf("/whoami/: %d %s", status, body)
	}
}

// A plain WSGI app (no framework) gets the gateway's view and the app's own
// status for the path.
func TestProbePlainWSGI(t *testing.T) {
	python := testenv.SystemPython(t)
	dir := t.TempDir()
	app := "def app(environ, start_response):\n" +
		"    start_response('418 I\\'m a teapot', [('Content-Type', 'text/plain')])\n" +
		"    return [b'short and stout']\n"
	if err := os.WriteFile(filepath.Join(dir, "plain.py"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, gatewaySpec{
		python: python, dir: dir,
		env:  gunicornEnv("", nil),
		args: gunicornArgs(runDir(t), "plain:app"),
	})
	g.waitMarker(0, MarkerWorkerBooted, 1)
	r := g.probe(testProbePath, map[string]string{"Host": "localhost:8080", "X-Forwarded-Proto": "https"})
	if r.ReachedFramework || r.Framework.Name != "wsgi" || r.AppResponse == nil || r.AppResponse.Status != 418 {
		t.Fatalf("plain WSGI: reached=%v framework=%+v app_response=%+v", r.ReachedFramework, r.Framework, r.AppResponse)
	}
	if r.Scheme != "https" || r.Host != "localhost:8080" || r.AbsoluteURL != "https://localhost:8080/" {
		t.Errorf("gateway view: scheme %q host %q url %q", r.Scheme, r.Host, r.AbsoluteURL)
	}
	if status, body := g.get("/", nil); status != 418 || string(body) != "short and stout" {
		t.Errorf("/: %d %q, want the app's own answer", status, body)
	}
}
