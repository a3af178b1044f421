package templates

import (
	"strings"
	"testing"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// uvicornGateway starts uvicorn on devstack's ASGI entry point wrapping
// target, from dir.
func uvicornGateway(t *testing.T, python, dir, target string) *gateway {
	t.Helper()
	g := startGateway(t, gatewaySpec{
		python: python, dir: dir, pythonpath: runDir(t),
		env:  []string{EnvProbePath + "=" + testProbePath, EnvASGIApp + "=" + target},
		args: []string{"-m", "uvicorn", ASGIApp, "--fd", "{fd}"},
	})
	g.waitHTTP()
	return g
}

// Starlette under uvicorn: uvicorn's own proxy-header handling (it trusts
// 127.0.0.1 by default) decides the scheme and client, and the probe
// reports it from Starlette's Request.
func TestProbeUvicornStarlette(t *testing.T) {
	python := testenv.PythonWith(t, "uvicorn", "starlette")
	g := uvicornGateway(t, python, testdataDir(t, "asgi-app"), "app:app")

	r := g.probe(testProbePath, map[string]string{
		"Host": "localhost:8080", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9",
	})
	if !r.ReachedFramework || r.Framework.Name != "starlette" || r.Framework.Version == "" {
		t.Fatalf("framework %+v reached=%v, want starlette", r.Framework, r.ReachedFramework)
	}
	if r.Server == nil || r.Server.Name != "uvicorn" {
		t.Errorf("server %+v, want uvicorn", r.Server)
	}
	if r.Scheme != "https" || r.IsSecure == nil || !*r.IsSecure || r.RemoteAddr != "203.0.113.9" {
		t.Errorf("behind the proxy: scheme %q is_secure %s remote_addr %q", r.Scheme, boolp(r.IsSecure), r.RemoteAddr)
	}
	if got, want := r.AbsoluteURL, "https://localhost:8080/"; got != want {
		t.Errorf("absolute_url: got %q, want %q", got, want)
	}

	status, body := g.get("/whoami/", map[string]string{"Host": "localhost:8080"})
	if status != 200 || !strings.Contains(string(body), `"framework":"starlette"`) || strings.Contains(string(body), `"probe"`) {
		t.Errorf("/whoami/: %d %s, want the app's own answer", status, body)
	}
	status, _ = g.get(testProbePath, nil)
	if status != 200 {
		t.Errorf("probe without forwarded headers: %d", status)
	}
}

// Django's ASGI handler under uvicorn reaches the same Django report.
func TestProbeUvicornDjango(t *testing.T) {
	python := testenv.PythonWith(t, "uvicorn", "django")
	g := uvicornGateway(t, python, testdataDir(t, "django-site"), "mysite.asgi:application")
	r := g.probe(testProbePath, browserHeaders(map[string]string{"X-Forwarded-Proto": "https"}))
	if !r.ReachedFramework || r.Framework.Name != "django" {
		t.Fatalf("framework %+v reached=%v, want django", r.Framework, r.ReachedFramework)
	}
	if r.Scheme != "https" || r.AbsoluteURL != "https://localhost:8080/" || r.CSRF == nil || !r.CSRF.OK {
		t.Errorf("scheme %q url %q csrf %+v", r.Scheme, r.AbsoluteURL, r.CSRF)
	}
	if r.Gateway["scheme"] != "https" {
		t.Errorf("ASGI scope scheme: %v, want https (uvicorn trusts 127.0.0.1)", r.Gateway["scheme"])
	}
}

// A wrong DEVSTACK_ASGI_APP stops uvicorn with a message naming the variable.
func TestASGIEntryBadTarget(t *testing.T) {
	python := testenv.PythonWith(t, "uvicorn")
	g := startGateway(t, gatewaySpec{
		python: python, dir: t.TempDir(), pythonpath: runDir(t),
		env:  []string{EnvProbePath + "=" + testProbePath, EnvASGIApp + "=no-colon"},
		args: []string{"-m", "uvicorn", ASGIApp, "--fd", "{fd}"},
	})
	g.waitLine(0, "the error message", func(l string) bool {
		return strings.Contains(l, `DEVSTACK_ASGI_APP must look like "module:attribute", got 'no-colon'`)
	})
}

// gunicorn with uvicorn's worker class serves ASGI: the wrapper installs the
// ASGI probe in each worker.
func TestProbeGunicornUvicornWorker(t *testing.T) {
	python := testenv.PythonWith(t, "uvicorn", "django", "gunicorn")
	g := startGateway(t, gatewaySpec{
		python: python, dir: testdataDir(t, "django-site"),
		env: append(gunicornEnv("", DjangoPreimport), EnvGatewayArgsFrom+"=Procfile:2"),
		args: append(gunicornArgs(runDir(t), "mysite.asgi:application"),
			"-k", "uvicorn.workers.UvicornWorker", "--forwarded-allow-ips=127.0.0.1,::1"),
	})
	g.waitMarker(0, MarkerWorkerBooted, 1)
	r := g.probe(testProbePath, browserHeaders(map[string]string{"X-Forwarded-Proto": "https"}))
	if !r.ReachedFramework || r.Framework.Name != "django" || r.Server == nil || r.Server.WorkerClass != "uvicorn.workers.UvicornWorker" {
		t.Fatalf("framework %+v reached=%v server %+v", r.Framework, r.ReachedFramework, r.Server)
	}
	if r.Scheme != "https" || r.Generation != 1 || r.Gateway["client"] == nil {
		t.Errorf("scheme %q generation %d gateway %v", r.Scheme, r.Generation, r.Gateway)
	}
	// The list on the command line, which devstack carried over from the
	// Procfile's web line, is reported as set there.
	if got, want := r.Server.ForwardedAllowIPsSource, "Procfile:2"; got != want {
		t.Errorf("forwarded_allow_ips_source: got %q, want %q", got, want)
	}
}
