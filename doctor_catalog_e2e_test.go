package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/doctor"
	"github.com/devstack-dev/devstack/internal/testenv"
)

// Each trust-catalog project (testdata/flask-misconfig, asgi-misconfig,
// django-misconfig) run through devstack doctor with its real gateway, on
// Django 3.2/gunicorn 20 and, where the rule depends on the version,
// Django 5.2/gunicorn 26: the check for its mistake fails or warns, naming
// the cause in its words, and nothing else fails.
func TestDoctorTrustCatalog(t *testing.T) {
	for _, tc := range []struct {
		project string
		suite   string   // "sid" for Django 5.2 and gunicorn 26
		modules []string // the interpreter must import these
		fails   []string // exactly the failed checks
		warns   []string // among the warnings
		infos   []string // among the advice (--all)
		code    int
		want    map[string]string // check ID → words its summary, detail or fix must hold
		avoid   string            // no fix may say this
	}{
		// Catalog 1/8: gunicorn trusts only production's proxy.
		{project: "flask-misconfig/untrusted-gateway", modules: []string{"flask", "gunicorn"},
			fails: []string{doctor.IDScheme, doctor.IDForwardedAllowIPs}, code: 1,
			want: map[string]string{doctor.IDForwardedAllowIPs: "connected from 127.0.0.1",
				doctor.IDScheme: `os.environ.get("FORWARDED_ALLOW_IPS", "10.0.0.5")`},
			avoid: "ProxyFix"},
		{project: "flask-misconfig/untrusted-gateway", suite: "sid", modules: []string{"flask", "gunicorn"},
			fails: []string{doctor.IDScheme, doctor.IDForwardedAllowIPs}, code: 1,
			want: map[string]string{doctor.IDForwardedAllowIPs: "gunicorn.conf.py:3"}, avoid: "ProxyFix"},
		// Catalog 9: the PROXY protocol's list instead of the forwarded one.
		{project: "flask-misconfig/proxy-allow-ips", modules: []string{"flask", "gunicorn"},
			warns: []string{doctor.IDForwardedAllowIPs}, want: map[string]string{doctor.IDForwardedAllowIPs: "PROXY protocol"}},
		// Catalog 9: a host name, never matched by gunicorn 20.
		{project: "flask-misconfig/hostname-trust", modules: []string{"flask", "gunicorn"},
			fails: []string{doctor.IDScheme, doctor.IDForwardedAllowIPs}, code: 1,
			want: map[string]string{doctor.IDForwardedAllowIPs: `"localhost"`}},
		// Catalog 10: "*" while production binds every interface.
		{project: "flask-misconfig/trust-all-exposed", modules: []string{"flask", "gunicorn"},
			warns: []string{doctor.IDForwardedAllowIPs}, want: map[string]string{doctor.IDForwardedAllowIPs: "0.0.0.0:8000"}},
		// Catalog 12: "_" in a scheme header: dropped by gunicorn 22+.
		{project: "flask-misconfig/underscore-scheme-header", modules: []string{"flask", "gunicorn"},
			fails: []string{doctor.IDScheme}, warns: []string{doctor.IDSchemeHeaders}, code: 1,
			want: map[string]string{doctor.IDScheme: "secure_scheme_headers"}},
		{project: "flask-misconfig/underscore-scheme-header", suite: "sid", modules: []string{"flask", "gunicorn"},
			fails: []string{doctor.IDScheme, doctor.IDSchemeHeaders}, code: 1,
			want: map[string]string{doctor.IDSchemeHeaders: "gunicorn 26"}},
		// Catalog 25: ProxyFix counting two hops in front of one proxy
		// (locally gunicorn's own trust still gives https).
		{project: "flask-misconfig/proxyfix-two-hops", modules: []string{"flask", "gunicorn"},
			warns: []string{doctor.IDProxyFix}, want: map[string]string{doctor.IDProxyFix: "more than one proxy hop"}},
		// Catalog 6: https hard-coded on a plain listener.
		{project: "flask-misconfig/forced-https", modules: []string{"flask", "gunicorn"},
			warns: []string{doctor.IDSchemeForced}},
		// Catalog 16: USE_X_FORWARDED_PORT with no X-Forwarded-Port.
		{project: "django-misconfig/forwarded-port", modules: []string{"django", "gunicorn"},
			warns: []string{doctor.IDForwardedPort}, want: map[string]string{doctor.IDForwardedPort: "not the browser's 8080"}},
		{project: "django-misconfig/forwarded-port", suite: "sid", modules: []string{"django", "gunicorn"},
			warns: []string{doctor.IDForwardedPort}},
		// Catalog 5: "https, http" — Django 3.2 compares the whole value,
		// 4.1 and later read the first.
		{project: "django-site", modules: []string{"django", "gunicorn"}, infos: []string{doctor.IDProtoChain, doctor.IDStaticProduction},
			want: map[string]string{doctor.IDProtoChain: "Django 3.2"}},
		{project: "django-site", suite: "sid", modules: []string{"django", "gunicorn"},
			want: map[string]string{doctor.IDProtoChain: "read by its first value"}},
		// Catalog 22: uvicorn trusting only production's proxy.
		{project: "asgi-misconfig/untrusted-proxy", modules: []string{"starlette", "uvicorn"},
			fails: []string{doctor.IDScheme, doctor.IDForwardedAllowIPs}, code: 1,
			want: map[string]string{doctor.IDForwardedAllowIPs: "--forwarded-allow-ips = 10.0.0.5 (on the command line)"}},
		// Catalog 23: uvicorn's settings written for gunicorn.
		{project: "asgi-misconfig/uvicorn-worker-config", modules: []string{"starlette", "uvicorn", "gunicorn"},
			warns: []string{doctor.IDUvicornWorker}, want: map[string]string{doctor.IDUvicornWorker: "proxy_headers"}},
		// Catalog 24: TrustedHostMiddleware with a port.
		{project: "asgi-misconfig/trusted-host-with-port", modules: []string{"starlette", "uvicorn"},
			fails: []string{doctor.IDAppReached}, code: 1, want: map[string]string{doctor.IDAppReached: `the bare host "localhost"`}},
	} {
		name := tc.project
		if tc.suite != "" {
			name += "/" + tc.suite
		}
		t.Run(name, func(t *testing.T) {
			testenv.PythonWith(t, tc.modules...)
			var env []string
			if tc.suite != "" {
				env = append(env, "PYTHONPATH="+testenv.PythonSuite(t, tc.suite))
			}
			code, r := doctorJSON(t, copyProject(t, tc.project), env, "--all")
			if fails := r.ids(doctor.Fail); !slices.Equal(fails, tc.fails) {
				t.Errorf("failed checks %q, want %q\n%+v", fails, tc.fails, r.Checks)
			}
			for _, id := range tc.warns {
				if r.status(id) != doctor.Warn {
					t.Errorf("check %s: %q, want a warning\n%+v", id, r.status(id), r.Checks)
				}
			}
			for _, id := range tc.infos {
				if r.status(id) != doctor.Info {
					t.Errorf("check %s: %q, want advice (info)", id, r.status(id))
				}
			}
			for id, words := range tc.want {
				c := r.check(id)
				if text := c.Summary + " " + c.Detail + " " + c.Fix; !strings.Contains(text, words) {
					t.Errorf("check %s does not say %q: %+v", id, words, c)
				}
			}
			for _, c := range r.Checks {
				if tc.avoid != "" && strings.Contains(c.Fix, tc.avoid) {
					t.Errorf("check %s's fix mentions %s: %q", c.ID, tc.avoid, c.Fix)
				}
			}
			if code != tc.code {
				t.Errorf("exit status %d, want %d", code, tc.code)
			}
		})
	}
}

// gunicorn 22 and later refuse a host name in forwarded_allow_ips at
// start: the doctor cannot run, and says why (exit 2).
func TestDoctorHostNameTrustRefusedByNewGunicorn(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	env := []string{"PYTHONPATH=" + testenv.PythonSuite(t, "sid")}
	code, out, errOut := runDoctorCmd(t, copyProject(t, "flask-misconfig/hostname-trust"), env)
	if code != 2 || out != "" || !strings.Contains(errOut, "forwarded_allow_ips") || !strings.Contains(errOut, "devstack: hint: ") {
		t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant 2 naming forwarded_allow_ips", code, out, errOut)
	}
}

// Split settings: every Django result names the module evaluated, and
// the file and line of its setting, following `from .base import *`.
func TestDoctorSplitSettingsNamesModuleAndFile(t *testing.T) {
	testenv.SystemPython(t)
	code, r := doctorJSON(t, copyProject(t, "django-split-settings"), nil, "--all")
	if code != 0 || r.Summary["fail"]+r.Summary["warn"] != 0 {
		t.Errorf("exit %d, summary %v; want a clean report\n%+v", code, r.Summary, r.Checks)
	}
	for _, c := range r.Checks {
		if c.Module == "" {
			t.Errorf("check %s names no settings module", c.ID)
		}
	}
	if c := r.check(doctor.IDProxySSLHeader); c.Module != "config.settings.local" || c.Where != "config/settings/base.py:14" {
		t.Errorf("proxy-ssl-header: module %q where %q; want config.settings.local, config/settings/base.py:14", c.Module, c.Where)
	}
	if c := r.check(doctor.IDSecureCookies); c.Status != doctor.Pass || c.Module != "config.settings.production" ||
		c.Where != "config/settings/production.py:12" {
		t.Errorf("secure-cookies judged on production's settings: %+v", c)
	}
}

// devstack up runs the doctor's checks: on every correctly configured
// sample it reports no failure and no warning (issue 12), and it runs
// health-check-redirect too, which needs a request straight to the gateway.
func TestUpCleanOnCorrectSamples(t *testing.T) {
	for _, tc := range []struct{ project, module string }{
		{"django-site", "django"},
		{"django-split-settings", "django"},
		{"django-site-gunicornconf", "django"},
		{"django-static", "django"},
		{"flask-app", "flask"},
		{"selfcall", "flask"},
		{"asgi-app", "starlette"},
		{"fastapi-app", "fastapi"},
	} {
		t.Run(tc.project, func(t *testing.T) {
			testenv.PythonWith(t, tc.module)
			r := startUp(t, upConfig{project: tc.project})
			r.waitLine(`trust check: all \d+ passed`, 60*time.Second)
			if out := r.output(); strings.Contains(out, ": warn: ") || strings.Contains(out, ": fail: ") || strings.Contains(out, ": info: ") {
				t.Errorf("up reported a warning, failure or advice:\n%s", out)
			}
		})
	}
	t.Run("health-check-redirect", func(t *testing.T) {
		testenv.SystemPython(t)
		r := startUp(t, upConfig{project: "django-misconfig/ssl-redirect-untrusted"})
		r.waitLine(`check health-check-redirect: warn: `, 60*time.Second)
		r.waitLine(`check forwarded-allow-ips: fail: gunicorn does not trust the proxy: it connected from 127\.0\.0\.1`, 60*time.Second)
	})
}

// doctor --settings on the split-settings sample: production's module runs
// behind the proxy with placeholders for the variables only production
// sets, asked with devstack.toml's host name, on Django 3.2 and 5.2; the
// config's own module is what doctor checks without the flag.
func TestDoctorProductionSettings(t *testing.T) {
	for _, suite := range []string{"", "sid"} {
		t.Run("django"+map[string]string{"": "-3.2", "sid": "-5.2"}[suite], func(t *testing.T) {
			testenv.SystemPython(t)
			var env []string
			if suite != "" {
				env = append(env, "PYTHONPATH="+testenv.PythonSuite(t, suite))
			}
			dir := copyProject(t, "django-split-settings")
			if err := os.WriteFile(filepath.Join(dir, "devstack.toml"), []byte(`hosts = ["example.com"]`+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			code, r := doctorJSON(t, dir, env, "--settings", "config.settings.production")
			if code != 0 || r.Summary["fail"]+r.Summary["warn"]+r.Summary["not-run"] != 0 {
				t.Errorf("exit %d, summary %v\n%+v", code, r.Summary, r.Checks)
			}
			if r.About.Origin != "https://example.com:8080" || r.About.Settings != "config.settings.production" ||
				!slices.Equal(r.About.Placeholders, []string{"DJANGO_SECRET_KEY", "DATABASE_PATH"}) {
				t.Errorf("about %+v; want production's host, module and two placeholders", r.About)
			}
			for _, id := range []string{doctor.IDSecureCookies, doctor.IDHSTS, doctor.IDAllowedHosts, doctor.IDSSLRedirectLoop} {
				if c := r.check(id); c.Status != doctor.Pass || c.Module != "config.settings.production" {
					t.Errorf("%s on production's settings: %+v", id, c)
				}
			}
			if c := r.check(doctor.IDHSTS); !strings.Contains(c.Summary, "production settings send HSTS") {
				t.Errorf("hsts: %+v", c)
			}
		})
	}
}
