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
		only    bool              // the warnings are exactly warns
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
		// Catalog 1 for Django: no SECURE_PROXY_SSL_HEADER, and gunicorn
		// trusts only production's proxy.
		{project: "django-misconfig/scheme-untrusted", modules: []string{"django", "gunicorn"}, only: true,
			fails: []string{doctor.IDScheme, doctor.IDProxySSLHeader, doctor.IDForwardedAllowIPs}, code: 1,
			want: map[string]string{doctor.IDScheme: `SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")`}},
		{project: "django-misconfig/scheme-untrusted", suite: "sid", modules: []string{"django", "gunicorn"}, only: true,
			fails: []string{doctor.IDScheme, doctor.IDProxySSLHeader, doctor.IDCSRFOrigin, doctor.IDForwardedAllowIPs}, code: 1,
			want: map[string]string{doctor.IDCSRFOrigin: "make the app see https"}},
		// Not a mistake: no SECURE_PROXY_SSL_HEADER while gunicorn trusts
		// every address, which holds behind any proxy.
		{project: "django-gunicorn-trusts-all", modules: []string{"django", "gunicorn"}, only: true,
			want: map[string]string{doctor.IDProxySSLHeader: "from every address"}},
		// Catalog 3: each malformed SECURE_PROXY_SSL_HEADER (the wire name
		// is wrong-proxy-header, in doctor_e2e_test).
		{project: "django-misconfig/header-no-http-prefix", modules: []string{"django", "gunicorn"}, only: true,
			fails: []string{doctor.IDProxySSLHeader}, code: 1,
			want: map[string]string{doctor.IDProxySSLHeader: "lacks the HTTP_ prefix"}},
		{project: "django-misconfig/header-not-sent", modules: []string{"django", "gunicorn"}, only: true,
			fails: []string{doctor.IDProxySSLHeader}, code: 1,
			want: map[string]string{doctor.IDProxySSLHeader: "HTTP_X_FORWARDED_PROTOCOL, which the proxy does not send"}},
		{project: "django-misconfig/header-value-case", modules: []string{"django", "gunicorn"}, only: true,
			fails: []string{doctor.IDScheme, doctor.IDProxySSLHeader}, code: 1,
			want: map[string]string{doctor.IDProxySSLHeader: `expects "HTTPS"`}},
		{project: "django-misconfig/header-value-case", suite: "sid", modules: []string{"django", "gunicorn"}, only: true,
			fails: []string{doctor.IDScheme, doctor.IDProxySSLHeader, doctor.IDCSRFOrigin}, code: 1},
		{project: "django-misconfig/header-not-a-pair", modules: []string{"django", "gunicorn"}, only: true,
			fails: []string{doctor.IDScheme, doctor.IDProxySSLHeader, doctor.IDCSRFOrigin}, code: 1,
			want: map[string]string{doctor.IDProxySSLHeader: "not a (header, value) pair", doctor.IDCSRFOrigin: "cannot tell the scheme"}},
		{project: "django-misconfig/header-not-a-pair", suite: "sid", modules: []string{"django", "gunicorn"}, only: true,
			fails: []string{doctor.IDScheme, doctor.IDProxySSLHeader, doctor.IDCSRFOrigin}, code: 1},
		// Catalog 4: production's gunicorn.conf.py binds every interface
		// while Django trusts the header; devstack binds loopback, so it is
		// advice about production here.
		{project: "django-misconfig/gateway-exposed", modules: []string{"django", "gunicorn"}, only: true,
			infos: []string{doctor.IDGatewayExposed},
			want:  map[string]string{doctor.IDGatewayExposed: "production binds the gateway to 0.0.0.0:8000"}},
		// Catalog 4 as it runs: devstack.toml binds the gateway to 0.0.0.0
		// (requests still go to loopback only).
		{project: "django-misconfig/gateway-bound-everywhere", modules: []string{"django", "gunicorn"}, only: true,
			fails: []string{doctor.IDGatewayExposed}, code: 1,
			want: map[string]string{doctor.IDGatewayExposed: "host in devstack.toml"}},
		// Catalog 11: gunicorn's default X-Forwarded-Ssl/-Protocol, which the
		// proxy does not set: advice (devstack's proxy drops them).
		{project: "django-site", modules: []string{"django", "gunicorn"}, only: true,
			infos: []string{doctor.IDSchemeHeaders}, want: map[string]string{doctor.IDSchemeHeaders: "X-FORWARDED-SSL"}},
		// Catalog 13: ALLOWED_HOSTS with a scheme, without the browser's
		// host, and empty with DEBUG off (with a port: doctor_e2e_test).
		{project: "django-misconfig/allowed-hosts-with-scheme", modules: []string{"django", "gunicorn"}, only: true,
			fails: []string{doctor.IDAllowedHosts, doctor.IDCSRFOrigin}, code: 1,
			want: map[string]string{doctor.IDAllowedHosts: `replace "https://localhost" with "localhost"`}},
		{project: "django-misconfig/allowed-hosts-missing", modules: []string{"django", "gunicorn"}, only: true,
			fails: []string{doctor.IDAllowedHosts, doctor.IDCSRFOrigin}, code: 1,
			want: map[string]string{doctor.IDAllowedHosts: `add "localhost" to ALLOWED_HOSTS`, doctor.IDCSRFOrigin: "fix ALLOWED_HOSTS first"}},
		{project: "django-misconfig/allowed-hosts-empty", modules: []string{"django", "gunicorn"}, only: true,
			fails: []string{doctor.IDAllowedHosts, doctor.IDCSRFOrigin}, code: 1,
			want: map[string]string{doctor.IDAllowedHosts: "ALLOWED_HOSTS = []"}},
		{project: "django-misconfig/allowed-hosts-empty", suite: "sid", modules: []string{"django", "gunicorn"}, only: true,
			fails: []string{doctor.IDAllowedHosts, doctor.IDCSRFOrigin}, code: 1},
		// Catalog 14: USE_X_FORWARDED_HOST.
		{project: "django-misconfig/forwarded-host", modules: []string{"django", "gunicorn"}, only: true,
			warns: []string{doctor.IDForwardedHost}, want: map[string]string{doctor.IDForwardedHost: "overwrites X-Forwarded-Host"}},
		// Catalog 17: origins on Django 3.2, where entries are host names;
		// the same list is right on 5.2.
		{project: "django-misconfig/csrf-origins-with-scheme", modules: []string{"django", "gunicorn"}, only: true,
			fails: []string{doctor.IDCSRFTrustedOrigins}, code: 1,
			want: map[string]string{doctor.IDCSRFTrustedOrigins: "wants CSRF_TRUSTED_ORIGINS as host names"}},
		{project: "django-misconfig/csrf-origins-with-scheme", suite: "sid", modules: []string{"django", "gunicorn"}, only: true},
		// Catalog 18: a trailing slash, the gateway's port, plain http.
		{project: "django-misconfig/csrf-origins-band-aids", suite: "sid", modules: []string{"django", "gunicorn"}, only: true,
			warns: []string{doctor.IDCSRFTrustedOrigins},
			want: map[string]string{doctor.IDCSRFTrustedOrigins: `"https://localhost:8080/" ends with a slash, which origins never do; ` +
				`"https://localhost:8000" names another port than the browser's https://localhost:8080; "http://localhost:8080" trusts plain http`}},
		// Catalog 19: production settings (DEBUG off) without Secure cookies.
		{project: "django-misconfig/insecure-cookies", modules: []string{"django", "gunicorn"}, only: true,
			warns: []string{doctor.IDSecureCookies}, want: map[string]string{doctor.IDSecureCookies: "with DEBUG off"}},
		// Catalog 20: HSTS in the settings devstack runs.
		{project: "django-misconfig/hsts-localhost", modules: []string{"django", "gunicorn"}, only: true,
			warns: []string{doctor.IDHSTS}, want: map[string]string{doctor.IDHSTS: "Strict-Transport-Security: max-age=3600"}},
		{project: "django-misconfig/hsts-localhost", suite: "sid", modules: []string{"django", "gunicorn"}, only: true,
			warns: []string{doctor.IDHSTS}},
		// Catalog 21: SECURE_SSL_REDIRECT with a trusted scheme: no loop,
		// but a health check on the gateway gets a redirect.
		{project: "django-misconfig/ssl-redirect-health-check", modules: []string{"django", "gunicorn"}, only: true,
			warns: []string{doctor.IDDirectRedirect}, want: map[string]string{doctor.IDDirectRedirect: "SECURE_REDIRECT_EXEMPT"}},
		// Catalog 7: production's nginx configuration in the repository,
		// where a location with one header of its own loses the server's
		// (nginx really does: TestNginxLocationLosesTheServersHeaders).
		{project: "django-misconfig/nginx-location-headers", modules: []string{"django", "gunicorn"}, only: true,
			warns: []string{doctor.IDNginxConfig},
			want: map[string]string{doctor.IDNginxConfig: "location /api/ sets proxy_set_header of its own (line 24), " +
				"so it inherits none of the enclosing block's (line 15): X-Forwarded-Proto is not sent"}},
		// Catalog 15: Host $host drops the port the browser uses.
		{project: "django-misconfig/nginx-host-port", modules: []string{"django", "gunicorn"}, only: true,
			warns: []string{doctor.IDNginxConfig},
			want:  map[string]string{doctor.IDNginxConfig: "proxy_set_header Host $http_host"}},
		{project: "django-misconfig/nginx-https-written-in", modules: []string{"django", "gunicorn"}, only: true,
			warns: []string{doctor.IDNginxConfig},
			want:  map[string]string{doctor.IDNginxConfig: "for plain-http requests too (listen 80)"}},
		// Catalog 26: uvicorn before 0.30 trusting every X-Forwarded-For
		// address (browser and proxy share 127.0.0.1) reports no client.
		{project: "asgi-misconfig/client-none", modules: []string{"starlette", "uvicorn"}, only: true,
			fails: []string{doctor.IDClientAddress}, code: 1,
			want: map[string]string{doctor.IDClientAddress: "encode/uvicorn#1068"}},
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
			if warns := r.ids(doctor.Warn); tc.only && !slices.Equal(warns, tc.warns) {
				t.Errorf("warnings %q, want exactly %q\n%+v", warns, tc.warns, r.Checks)
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
		{"django-gunicorn-trusts-all", "django"},
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
