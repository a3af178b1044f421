package doctor

import (
	"strings"
	"testing"

	"github.com/devstack-dev/devstack/templates"
)

// django returns the evidence of a well-configured Django site behind the
// proxy, under gunicorn; tests change one thing at a time.
func django(version string) Evidence {
	secure := true
	return Evidence{
		Origin:  "https://localhost:8080",
		Headers: []string{"X-Forwarded-Proto", "X-Forwarded-For", "X-Forwarded-Host"},
		Root:    &Answer{Status: 200},
		Probe: templates.ProbeReport{
			Probe:            1,
			ReachedFramework: true,
			RemoteAddr:       "127.0.0.1",
			Headers:          map[string]string{"x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "https"},
			Framework:        templates.ProbeFramework{Name: "django", Version: version},
			Scheme:           "https",
			IsSecure:         &secure,
			Host:             "localhost:8080",
			AbsoluteURL:      "https://localhost:8080/",
			Gateway:          map[string]any{"wsgi.url_scheme": "http", "REMOTE_ADDR": "127.0.0.1"},
			Server: &templates.ProbeServer{Name: "gunicorn", Version: "23.0.0", ForwardedAllowIPsSource: "default",
				Bind: []string{"127.0.0.1:8000"}, ForwardedAllowIPs: []string{"127.0.0.1", "::1"},
				SecureSchemeHeaders: map[string]string{"X-FORWARDED-PROTO": "https"}},
			CSRF: &templates.ProbeCSRF{MiddlewareEnabled: true, Checked: "origin", OK: true},
			Settings: map[string]any{
				"ALLOWED_HOSTS":           []any{"localhost"},
				"SECURE_PROXY_SSL_HEADER": []any{"HTTP_X_FORWARDED_PROTO", "https"},
				"SESSION_COOKIE_SECURE":   true,
				"CSRF_COOKIE_SECURE":      true,
				"SECURE_HSTS_SECONDS":     float64(0),
			},
		},
	}
}

func find(t *testing.T, results []Result, id string) Result {
	t.Helper()
	for _, r := range results {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no %s check in %+v", id, results)
	return Result{}
}

// Without GET / (devstack up's checks) the redirect check is left out.
func TestWithoutTheRootAnswer(t *testing.T) {
	ev := django("4.2.28")
	ev.Root = nil
	ev.Probe.Settings["SECURE_HSTS_SECONDS"] = float64(60)
	results := Check(ev)
	for _, r := range results {
		if r.ID == IDSSLRedirectLoop {
			t.Errorf("a redirect check without GET /: %+v", r)
		}
	}
	if r := find(t, results, IDHSTS); r.Status != Warn {
		t.Errorf("HSTS from the setting alone: %s", r.Status)
	}
}

func TestAGoodSitePassesEverything(t *testing.T) {
	for _, version := range []string{"3.2.25", "5.2.18"} {
		results := Check(django(version))
		for _, r := range results {
			if r.Status != Pass {
				t.Errorf("Django %s: %s: %s %q", version, r.ID, r.Status, r.Summary)
			}
		}
		if fails, warns, passes := Counts(results); fails+warns != 0 || passes != len(results) {
			t.Errorf("Counts: %d %d %d", fails, warns, passes)
		}
	}
}

// Each case breaks one thing; the check with id must give status and its
// summary or fix must say the words in want.
func TestEachMisconfiguration(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Evidence)
		id     string
		status Status
		want   string
	}{
		{"app sees http", func(ev *Evidence) {
			ev.Probe.Scheme = "http"
			ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] = nil
		}, IDScheme, Fail, `SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")`},
		{"refused before the framework", func(ev *Evidence) {
			ev.Probe.ReachedFramework = false
			ev.Probe.AppResponse = &templates.ProbeAppAnswer{Status: 400, Body: "Invalid host header"}
		}, IDAppReached, Fail, `the bare host "localhost"`},
		{"scheme error", func(ev *Evidence) {
			ev.Probe.Scheme, ev.Probe.SchemeError = "", "The SECURE_PROXY_SSL_HEADER setting must be a tuple"
		}, IDScheme, Fail, "cannot tell the scheme"},
		{"redirect loop", func(ev *Evidence) {
			ev.Root = &Answer{Status: 301, Location: "https://localhost:8080/"}
		}, IDSSLRedirectLoop, Fail, "redirects to itself"},
		{"redirect elsewhere", func(ev *Evidence) {
			ev.Root = &Answer{Status: 302, Location: "/accounts/login/?next=/"}
		}, IDSSLRedirectLoop, Pass, "does not redirect to itself"},
		{"no proxy header, gunicorn trusts", func(ev *Evidence) {
			ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] = nil
		}, IDProxySSLHeader, Warn, "only from gunicorn"},
		{"no proxy header, gunicorn trusts every address", func(ev *Evidence) {
			ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] = nil
			ev.Probe.Server.ForwardedAllowIPs = []string{"*"}
		}, IDProxySSLHeader, Pass, "from every address"},
		{"no proxy header, uvicorn trusts", func(ev *Evidence) {
			ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] = nil
			ev.Probe.Server.Name = "uvicorn"
		}, IDProxySSLHeader, Warn, "only from uvicorn"},
		{"wire name", func(ev *Evidence) {
			ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] = []any{"X-Forwarded-Proto", "https"}
		}, IDProxySSLHeader, Fail, "on the wire"},
		{"no HTTP_ prefix", func(ev *Evidence) {
			ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] = []any{"X_FORWARDED_PROTO", "https"}
		}, IDProxySSLHeader, Fail, "HTTP_ prefix"},
		{"a header the proxy does not send", func(ev *Evidence) {
			ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] = []any{"HTTP_X_FORWARDED_PROTOCOL", "https"}
		}, IDProxySSLHeader, Fail, "does not send"},
		{"a header the proxy is set to send", func(ev *Evidence) {
			ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] = []any{"HTTP_X_FORWARDED_SSL", "on"}
			ev.Headers = append(ev.Headers, "X-Forwarded-Ssl")
		}, IDProxySSLHeader, Fail, `expects "on"`},
		{"value case", func(ev *Evidence) {
			ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] = []any{"HTTP_X_FORWARDED_PROTO", "HTTPS"}
		}, IDProxySSLHeader, Fail, `expects "HTTPS"`},
		{"not a pair", func(ev *Evidence) {
			ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] = "HTTP_X_FORWARDED_PROTO"
		}, IDProxySSLHeader, Fail, "not a (header, value) pair"},
		{"host with port", func(ev *Evidence) {
			ev.Probe.Settings["ALLOWED_HOSTS"] = []any{"localhost:8080"}
			ev.Probe.Host, ev.Probe.HostError = "", "Invalid HTTP_HOST header: 'localhost:8080'."
		}, IDAllowedHosts, Fail, `replace "localhost:8080" with "localhost"`},
		{"host missing", func(ev *Evidence) {
			ev.Probe.Settings["ALLOWED_HOSTS"] = []any{"example.com"}
			ev.Probe.Host, ev.Probe.HostError = "", "Invalid HTTP_HOST header: 'localhost:8080'."
		}, IDAllowedHosts, Fail, `add "localhost" to ALLOWED_HOSTS`},
		{"another configured host refused", func(ev *Evidence) {
			ev.OtherHosts = []HostVerdict{{Host: "myapp.test:8080"}, {Host: "shop.test:8080", Error: "Invalid HTTP_HOST header: 'shop.test:8080'."}}
		}, IDAllowedHosts, Fail, `add "shop.test" to ALLOWED_HOSTS`},
		{"other configured hosts accepted", func(ev *Evidence) {
			ev.OtherHosts = []HostVerdict{{Host: "myapp.test:8080"}}
		}, IDAllowedHosts, Pass, "localhost:8080, myapp.test:8080"},
		{"csrf refused over http", func(ev *Evidence) {
			ev.Probe.Scheme = "http"
			ev.Probe.CSRF.OK, ev.Probe.CSRF.Reason = false, "Origin checking failed"
		}, IDCSRFOrigin, Fail, "make the app see https"},
		{"csrf refused over https", func(ev *Evidence) {
			ev.Probe.CSRF.OK, ev.Probe.CSRF.Reason = false, "Origin checking failed"
		}, IDCSRFOrigin, Fail, `CSRF_TRUSTED_ORIGINS = ["https://localhost:8080"]`},
		{"csrf middleware off", func(ev *Evidence) {
			ev.Probe.CSRF.MiddlewareEnabled = false
		}, IDCSRFOrigin, Warn, "CsrfViewMiddleware"},
		{"origins without scheme on 5.2", func(ev *Evidence) {
			ev.Probe.Settings["CSRF_TRUSTED_ORIGINS"] = []any{"localhost:8080"}
		}, IDCSRFTrustedOrigins, Fail, `"https://localhost:8080"`},
		{"origin with a slash", func(ev *Evidence) {
			ev.Probe.Settings["CSRF_TRUSTED_ORIGINS"] = []any{"https://localhost:8080/"}
		}, IDCSRFTrustedOrigins, Warn, "slash"},
		{"plain http origin", func(ev *Evidence) {
			ev.Probe.Settings["CSRF_TRUSTED_ORIGINS"] = []any{"http://localhost:8080"}
		}, IDCSRFTrustedOrigins, Warn, "plain http"},
		{"two plain http origins", func(ev *Evidence) {
			ev.Probe.Settings["CSRF_TRUSTED_ORIGINS"] = []any{"http://localhost:8080", "http://localhost:1337"}
		}, IDCSRFTrustedOrigins, Warn, `"http://localhost:8080", "http://localhost:1337" trust plain http`},
		{"origin with the gateway's port", func(ev *Evidence) {
			ev.Probe.Settings["CSRF_TRUSTED_ORIGINS"] = []any{"https://localhost:8000", "https://example.com"}
		}, IDCSRFTrustedOrigins, Warn, `"https://localhost:8000" names another port than the browser's https://localhost:8080`},
		{"every band-aid named", func(ev *Evidence) {
			ev.Probe.Settings["CSRF_TRUSTED_ORIGINS"] = []any{"https://localhost:8080/", "http://localhost:8080"}
		}, IDCSRFTrustedOrigins, Warn, `"https://localhost:8080/" ends with a slash, which origins never do; "http://localhost:8080" trusts plain http`},
		{"production origins beside the site's", func(ev *Evidence) {
			ev.Probe.Settings["CSRF_TRUSTED_ORIGINS"] = []any{"https://localhost:8080", "https://example.com"}
		}, IDCSRFTrustedOrigins, Pass, "in the form"},
		{"x-forwarded-host", func(ev *Evidence) {
			ev.Probe.Settings["USE_X_FORWARDED_HOST"] = true
		}, IDForwardedHost, Warn, "X-Forwarded-Host"},
		{"cookies", func(ev *Evidence) {
			ev.Probe.Settings["CSRF_COOKIE_SECURE"] = false
		}, IDSecureCookies, Warn, "CSRF_COOKIE_SECURE = True"},
		{"hsts", func(ev *Evidence) {
			ev.Probe.Settings["SECURE_HSTS_SECONDS"] = float64(31536000)
			ev.Root.HSTS = "max-age=31536000"
		}, IDHSTS, Warn, "every localhost port"},
		{"host names in forwarded_allow_ips", func(ev *Evidence) {
			ev.Probe.Server.ForwardedAllowIPs = []string{"proxy.internal"}
		}, IDForwardedAllowIPs, Fail, `"proxy.internal"`},
		{"forwarded_allow_ips star, loopback only", func(ev *Evidence) {
			ev.Probe.Server.ForwardedAllowIPs = []string{"*"}
		}, IDForwardedAllowIPs, Pass, "only where the proxy reaches it"},
		{"forwarded_allow_ips star, production binds everywhere", func(ev *Evidence) {
			ev.Probe.Server.ForwardedAllowIPs = []string{"*"}
			ev.Probe.Server.ProjectSettings = map[string]templates.SettingSource{
				"bind": {File: "gunicorn.conf.py", Line: 2, Value: []byte(`"0.0.0.0:8000"`)}}
		}, IDForwardedAllowIPs, Warn, "production binds the gateway to 0.0.0.0:8000"},
		{"networks in forwarded_allow_ips", func(ev *Evidence) {
			ev.Probe.Server.ForwardedAllowIPs = []string{"10.0.0.0/8", "127.0.0.0/8"}
		}, IDForwardedAllowIPs, Pass, "trusts the proxy's address 127.0.0.1"},
		{"networks before gunicorn 22", func(ev *Evidence) {
			ev.Probe.Server.Version = "20.1.0"
			ev.Probe.Server.ForwardedAllowIPs = []string{"127.0.0.0/8"}
		}, IDForwardedAllowIPs, Fail, "single addresses only"},
		{"the proxy's address not trusted", func(ev *Evidence) {
			ev.Probe.Scheme = "http"
			ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] = nil
			ev.Probe.Server.ForwardedAllowIPs = []string{"10.0.0.5"}
			ev.Probe.Server.ForwardedAllowIPsSource = "gunicorn.conf.py:3"
		}, IDForwardedAllowIPs, Fail, `os.environ.get("FORWARDED_ALLOW_IPS", "10.0.0.5") (production keeps 10.0.0.5); then, for local runs only, in .env: FORWARDED_ALLOW_IPS=127.0.0.1,::1`},
		{"the proxy's address not trusted, from the environment", func(ev *Evidence) {
			ev.Probe.Scheme = "http"
			ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] = nil
			ev.Probe.Server.ForwardedAllowIPs = []string{"10.0.0.5"}
			ev.Probe.Server.ForwardedAllowIPsSource = "FORWARDED_ALLOW_IPS"
		}, IDScheme, Fail, "set FORWARDED_ALLOW_IPS=127.0.0.1,::1 in .env"},
		{"not trusted, but Django reads the header itself", func(ev *Evidence) {
			ev.Probe.Server.ForwardedAllowIPs = []string{"10.0.0.5"}
		}, IDForwardedAllowIPs, Info, "reads the scheme itself"},
		{"proxy_allow_ips for forwarded headers", func(ev *Evidence) {
			ev.Probe.Server.ProxyAllowIPs = []string{"10.0.0.5"}
			ev.Probe.Server.ProjectSettings = map[string]templates.SettingSource{
				"proxy_allow_ips": {File: "gunicorn.conf.py", Line: 1, Value: []byte(`"10.0.0.5"`)}}
		}, IDForwardedAllowIPs, Warn, "PROXY protocol"},
		{"gunicorn's default scheme headers", func(ev *Evidence) {
			ev.Probe.Server.SecureSchemeHeaders = map[string]string{
				"X-FORWARDED-PROTOCOL": "ssl", "X-FORWARDED-PROTO": "https", "X-FORWARDED-SSL": "on"}
		}, IDSchemeHeaders, Info, "X-FORWARDED-PROTOCOL, X-FORWARDED-SSL"},
		{"a scheme header with an underscore, gunicorn 23", func(ev *Evidence) {
			ev.Probe.Scheme = "http"
			ev.Probe.Server.SecureSchemeHeaders = map[string]string{"X_FORWARDED_PROTO": "https"}
		}, IDSchemeHeaders, Fail, `drops request headers whose names contain "_"`},
		{"a scheme header with an underscore, gunicorn 20", func(ev *Evidence) {
			ev.Probe.Server.Version = "20.1.0"
			ev.Probe.Server.SecureSchemeHeaders = map[string]string{"X_FORWARDED_PROTO": "https"}
		}, IDSchemeHeaders, Warn, "stops matching on upgrade"},
		{"USE_X_FORWARDED_PORT without the header", func(ev *Evidence) {
			ev.Probe.Settings["USE_X_FORWARDED_PORT"] = true
			ev.Probe.Port = "8000"
		}, IDForwardedPort, Warn, "not the browser's 8080"},
		{"a plain-http request seen as https", func(ev *Evidence) {
			ev.DirectProbe = &templates.ProbeReport{Scheme: "https", Gateway: map[string]any{"wsgi.url_scheme": "http"}}
		}, IDSchemeForced, Warn, "forces https"},
		{"a chain of proxies on Django 3.2", func(ev *Evidence) {
			ev.Probe.Framework.Version = "3.2.25"
			ev.ChainProbe = &templates.ProbeReport{Scheme: "http", Gateway: map[string]any{"wsgi.url_scheme": "http"}}
		}, IDProtoChain, Info, "Django 3.2.25 compares the whole value"},
		{"no client address", func(ev *Evidence) {
			ev.Probe.RemoteAddr = ""
		}, IDClientAddress, Fail, "no client address"},
		{"the proxy's address under uvicorn", func(ev *Evidence) {
			ev.Probe.RemoteAddr = "::1"
			ev.Probe.Server = &templates.ProbeServer{Name: "uvicorn", Version: "0.35.0", ForwardedAllowIPs: []string{"10.0.0.5"}}
			ev.Probe.Gateway = map[string]any{"scheme": "http", "peer": "::1"}
		}, IDClientAddress, Warn, "FORWARDED_ALLOW_IPS=127.0.0.1,::1"},
		{"a scheme header the proxy is set to send", func(ev *Evidence) {
			ev.Probe.Server.SecureSchemeHeaders = map[string]string{"X-FORWARDED-PROTO": "https", "X-FORWARDED-SSL": "on"}
			ev.Headers = append(ev.Headers, "X-Forwarded-Ssl")
		}, IDSchemeHeaders, Pass, "only from headers the proxy sets"},
		{"ssl redirect on direct requests", func(ev *Evidence) {
			ev.Probe.Settings["SECURE_SSL_REDIRECT"] = true
			ev.Direct = &Answer{Status: 301, Location: "https://127.0.0.1:8000/"}
		}, IDDirectRedirect, Warn, "SECURE_REDIRECT_EXEMPT"},
		{"ssl redirect without the direct answer", func(ev *Evidence) {
			ev.Probe.Settings["SECURE_SSL_REDIRECT"] = true
		}, IDDirectRedirect, NotRun, "could not run"},
		{"ssl redirect with an exempt health check", func(ev *Evidence) {
			ev.Probe.Settings["SECURE_SSL_REDIRECT"] = true
			ev.Direct = &Answer{Status: 200}
		}, IDDirectRedirect, Pass, "not redirected"},
		{"exposed gateway trusting the header", func(ev *Evidence) {
			ev.Probe.Server.Bind = []string{"0.0.0.0:8000"}
		}, IDGatewayExposed, Fail, "bind the gateway to 127.0.0.1"},
		{"exposed gateway trusting nothing", func(ev *Evidence) {
			ev.Probe.Server.Bind = []string{"[::]:8000"}
			ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] = nil
		}, IDGatewayExposed, Pass, "trusts no forwarded header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := django("5.2.18")
			tc.change(&ev)
			r := find(t, Check(ev), tc.id)
			if r.Status != tc.status || !strings.Contains(r.Summary+" "+r.Fix, tc.want) {
				t.Errorf("%s: %s %q fix %q; want %s mentioning %q", tc.id, r.Status, r.Summary, r.Fix, tc.status, tc.want)
			}
			if r.Status != Pass && r.Status != NotRun && r.Fix == "" {
				t.Errorf("%s: %s without a fix", tc.id, r.Status)
			}
		})
	}
}

// Django 3.2 reads CSRF_TRUSTED_ORIGINS as host names.
func TestCSRFTrustedOriginsOnDjango32(t *testing.T) {
	ev := django("3.2.25")
	ev.Probe.Settings["CSRF_TRUSTED_ORIGINS"] = []any{"localhost:8080"}
	if r := find(t, Check(ev), IDCSRFTrustedOrigins); r.Status != Pass {
		t.Errorf("host name on 3.2: %s %q", r.Status, r.Summary)
	}
	ev.Probe.Settings["CSRF_TRUSTED_ORIGINS"] = []any{"https://localhost:8080"}
	if r := find(t, Check(ev), IDCSRFTrustedOrigins); r.Status != Fail || !strings.Contains(r.Fix, `"localhost:8080"`) {
		t.Errorf("origin on 3.2: %s %q fix %q", r.Status, r.Summary, r.Fix)
	}
}

// Flask: ProxyFix must read X-Forwarded-Proto and count one hop; without
// ProxyFix there is no ProxyFix check, and the scheme fix names it.
func TestProxyFix(t *testing.T) {
	flask := func(mw []map[string]any, scheme string) Evidence {
		return Evidence{Origin: "https://localhost:8080", Root: &Answer{Status: 200}, Probe: templates.ProbeReport{
			Framework: templates.ProbeFramework{Name: "flask", Version: "2.2.2"}, Scheme: scheme, Middleware: mw,
			Gateway: map[string]any{"wsgi.url_scheme": "http"},
		}}
	}
	proxyFix := func(xFor, xProto float64) []map[string]any {
		return []map[string]any{{"class": "werkzeug.middleware.proxy_fix.ProxyFix", "x_for": xFor, "x_proto": xProto, "x_host": 1.0}}
	}
	for _, tc := range []struct {
		mw     []map[string]any
		status Status
	}{{proxyFix(1, 1), Pass}, {proxyFix(1, 0), Fail}, {proxyFix(2, 1), Warn}} {
		if r := find(t, Check(flask(tc.mw, "https")), IDProxyFix); r.Status != tc.status {
			t.Errorf("%v: %s %q, want %s", tc.mw, r.Status, r.Summary, tc.status)
		}
	}
	results := Check(flask(nil, "http"))
	for _, r := range results {
		if r.ID == IDProxyFix {
			t.Errorf("a proxyfix check without ProxyFix: %+v", r)
		}
	}
	if r := find(t, results, IDScheme); r.Status != Fail || !strings.Contains(r.Fix, "ProxyFix(app.wsgi_app") {
		t.Errorf("flask over http: %s fix %q", r.Status, r.Fix)
	}
}

// Split settings: each Django result names the module evaluated and the
// file and line of its setting; Secure cookies are judged by the
// production module beside the development one (issue 12).
func TestSplitSettingsNameModuleAndFile(t *testing.T) {
	ev := django("5.2.18")
	ev.Probe.Settings["DEBUG"] = true
	ev.Probe.Settings["SESSION_COOKIE_SECURE"] = false
	ev.Probe.Settings["CSRF_COOKIE_SECURE"] = false
	ev.Probe.Settings["SETTINGS_MODULE"] = "config.settings.local"
	prod := &templates.SettingsModule{Module: "config.settings.production", File: "config/settings/production.py",
		Settings: map[string]templates.SettingSource{
			"SESSION_COOKIE_SECURE": {File: "config/settings/production.py", Line: 12, Expr: "True", Value: []byte("true")},
			"CSRF_COOKIE_SECURE":    {File: "config/settings/production.py", Line: 13, Expr: "True", Value: []byte("true")},
		}}
	ev.Probe.SettingsSources = &templates.SettingsModule{Module: "config.settings.local", File: "config/settings/local.py",
		Settings: map[string]templates.SettingSource{
			"SECURE_PROXY_SSL_HEADER": {File: "config/settings/base.py", Line: 14},
			"ALLOWED_HOSTS":           {File: "config/settings/base.py", Line: 10},
		}, Production: prod}
	results := Check(ev)
	if r := find(t, results, IDProxySSLHeader); r.Module != "config.settings.local" || r.Where != "config/settings/base.py:14" {
		t.Errorf("proxy-ssl-header: module %q where %q", r.Module, r.Where)
	}
	if r := find(t, results, IDHSTS); r.Where != "config/settings/local.py" {
		t.Errorf("an unset setting belongs in the module's own file: where %q", r.Where)
	}
	r := find(t, results, IDSecureCookies)
	if r.Status != Pass || r.Module != "config.settings.production" || r.Where != "config/settings/production.py:12" {
		t.Errorf("secure-cookies judged on production: %+v", r)
	}
	for _, res := range results {
		if res.Status == Warn || res.Status == Fail {
			t.Errorf("a correct split-settings project: %+v", res)
		}
	}

	prod.Settings["CSRF_COOKIE_SECURE"] = templates.SettingSource{File: "config/settings/production.py", Line: 13, Expr: "False", Value: []byte("false")}
	if r := find(t, Check(ev), IDSecureCookies); r.Status != Warn || r.Where != "config/settings/production.py:13" ||
		!strings.Contains(r.Fix, "in config/settings/production.py: CSRF_COOKIE_SECURE = True") {
		t.Errorf("production without a Secure CSRF cookie: %+v", r)
	}

	// One settings.py with DEBUG on and no production module: advice only.
	ev.Probe.SettingsSources.Production = nil
	if r := find(t, Check(ev), IDSecureCookies); r.Status != Info {
		t.Errorf("development settings alone: %s %q", r.Status, r.Summary)
	}
}

// The first case: gunicorn.conf.py trusts only the production
// proxy; Flask without ProxyFix sees http. The diagnosis names the
// connecting address and the trust list, and the fix is not ProxyFix.
func TestUntrustedProxyDiagnosis(t *testing.T) {
	ev := Evidence{Origin: "https://localhost:8080", Root: &Answer{Status: 200}, Headers: []string{"X-Forwarded-Proto", "X-Forwarded-For", "X-Forwarded-Host"},
		Probe: templates.ProbeReport{Framework: templates.ProbeFramework{Name: "flask", Version: "2.2.2"}, ReachedFramework: true,
			Scheme: "http", RemoteAddr: "127.0.0.1", Headers: map[string]string{"x-forwarded-for": "127.0.0.1"},
			Gateway: map[string]any{"wsgi.url_scheme": "http", "REMOTE_ADDR": "127.0.0.1"},
			Server: &templates.ProbeServer{Name: "gunicorn", Version: "20.1.0", Bind: []string{"127.0.0.1:8000"},
				ForwardedAllowIPs: []string{"10.0.0.5"}, ForwardedAllowIPsSource: "gunicorn.conf.py:3",
				SecureSchemeHeaders: map[string]string{"X-FORWARDED-PROTO": "https"}}}}
	results := Check(ev)
	r := find(t, results, IDForwardedAllowIPs)
	if r.Status != Fail || !strings.Contains(r.Summary, "connected from 127.0.0.1") || r.Where != "gunicorn.conf.py:3" ||
		!strings.Contains(r.Detail, "forwarded_allow_ips = 10.0.0.5 (gunicorn.conf.py:3)") {
		t.Errorf("forwarded-allow-ips: %+v", r)
	}
	for _, res := range results {
		if strings.Contains(res.Fix, "ProxyFix") {
			t.Errorf("%s recommends ProxyFix for an untrusted gateway: %q", res.ID, res.Fix)
		}
	}
	if r := find(t, results, IDScheme); r.Status != Fail || !strings.Contains(r.Fix, "FORWARDED_ALLOW_IPS=127.0.0.1,::1") {
		t.Errorf("scheme: %+v", r)
	}
}

// uvicorn before 0.30 reports no client when the browser's address is
// trusted too (encode/uvicorn#1068); the fix names the version.
func TestClientAddressUnderOldUvicorn(t *testing.T) {
	ev := Evidence{Origin: "https://localhost:8080", Probe: templates.ProbeReport{
		Framework: templates.ProbeFramework{Name: "starlette"}, ReachedFramework: true, Scheme: "https",
		Headers: map[string]string{"x-forwarded-for": "127.0.0.1"},
		Gateway: map[string]any{"scheme": "https", "client": nil, "peer": "127.0.0.1"},
		Server:  &templates.ProbeServer{Name: "uvicorn", Version: "0.17.6", ForwardedAllowIPs: []string{"127.0.0.1"}, ForwardedAllowIPsSource: "default"}}}
	r := find(t, Check(ev), IDClientAddress)
	if r.Status != Fail || !strings.Contains(r.Fix, "uvicorn to 0.30") || !strings.Contains(r.Detail, "uvicorn 0.17.6 trusts 127.0.0.1") {
		t.Errorf("client-address: %+v", r)
	}
	ev.Probe.Server.Version, ev.Probe.RemoteAddr = "0.30.1", "127.0.0.1"
	if r := find(t, Check(ev), IDClientAddress); r.Status != Pass {
		t.Errorf("client-address on 0.30: %+v", r)
	}
}

// The proto-chain detail says what the app saw under each gateway: uvicorn
// passes "https, http" on as the scope's scheme, and Starlette then builds
// a request URL with no scheme; it never prints an empty "decided".
func TestProtoChainWordingPerGateway(t *testing.T) {
	notSecure := false
	starlette := func(chain templates.ProbeReport) Evidence {
		return Evidence{Origin: "https://localhost:8080", Probe: templates.ProbeReport{
			Framework: templates.ProbeFramework{Name: "starlette"}, ReachedFramework: true, Scheme: "https",
			Gateway: map[string]any{"scheme": "https", "client": []any{"127.0.0.1", 5000}},
			Server:  &templates.ProbeServer{Name: "uvicorn", Version: "0.17.6", ForwardedAllowIPs: []string{"127.0.0.1"}}},
			ChainProbe: &chain}
	}
	gunicorn := django("3.2.19")
	gunicorn.Probe.Settings["SECURE_PROXY_SSL_HEADER"] = nil
	gunicorn.ChainProbe = &templates.ProbeReport{Scheme: "http", IsSecure: &notSecure, Gateway: map[string]any{"wsgi.url_scheme": "http"}}
	for _, tc := range []struct {
		name            string
		ev              Evidence
		summary, detail string
	}{
		{"uvicorn and Starlette", starlette(templates.ProbeReport{IsSecure: &notSecure, Gateway: map[string]any{"scheme": "https, http"}}),
			`the app would see no scheme: uvicorn passes the whole value on as the request's scheme`,
			`the gateway passed scope scheme "https, http" and the app's request URL has no scheme ("https, http" is not one)`},
		{"uvicorn and a bare ASGI app", starlette(templates.ProbeReport{Scheme: "https, http", IsSecure: &notSecure, Gateway: map[string]any{"scheme": "https, http"}}),
			`the app would see https, http: uvicorn passes the whole value on`,
			`the gateway passed scope scheme "https, http" and the app decided "https, http"`},
		{"an app that does not report it", starlette(templates.ProbeReport{Gateway: map[string]any{"scheme": "https, http"}}),
			`the app would see something other than https`,
			`the app did not report the scheme it saw`},
		{"gunicorn", gunicorn,
			`the app would see http: gunicorn compares the whole value with "https"`,
			`the gateway passed wsgi.url_scheme=http and the app decided "http"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := find(t, Check(tc.ev), IDProtoChain)
			if r.Status != Info || !strings.Contains(r.Summary, tc.summary) || !strings.Contains(r.Detail, tc.detail) {
				t.Errorf("proto-chain: %s %q\n  detail %q\nwant summary with %q\n  detail with %q", r.Status, r.Summary, r.Detail, tc.summary, tc.detail)
			}
			if strings.Contains(r.Detail, `decided ""`) {
				t.Errorf("detail %q shows an empty decision", r.Detail)
			}
		})
	}
}

// A setting every environment needs belongs in the file the local and
// the production module share (base.py), not in local.py.
func TestMissingProxyHeaderBelongsInTheSharedBase(t *testing.T) {
	ev := django("5.2.18")
	ev.Probe.Settings["SECURE_PROXY_SSL_HEADER"] = nil
	ev.Probe.SettingsSources = &templates.SettingsModule{Module: "config.settings.local", File: "config/settings/local.py",
		Files: []string{"config/settings/local.py", "config/settings/base.py"},
		Production: &templates.SettingsModule{Module: "config.settings.production", File: "config/settings/production.py",
			Files: []string{"config/settings/production.py", "config/settings/base.py"}}}
	r := find(t, Check(ev), IDProxySSLHeader)
	if r.Where != "config/settings/base.py" || !strings.Contains(r.Fix, "in config/settings/base.py: SECURE_PROXY_SSL_HEADER") {
		t.Errorf("proxy-ssl-header: where %q fix %q; want base.py", r.Where, r.Fix)
	}
}

// FastAPI under gunicorn's UvicornWorker with the Procfile's trust list,
// which leaves out the local proxy: forwarded-allow-ips fails at the
// Procfile's line, with a fix for a web line; gunicorn's scheme headers,
// which uvicorn never reads, are not judged.
func TestProcfileTrustUnderUvicornWorker(t *testing.T) {
	ev := Evidence{
		Origin:  "https://localhost:8080",
		Headers: []string{"X-Forwarded-Proto", "X-Forwarded-For", "X-Forwarded-Host"},
		Probe: templates.ProbeReport{Probe: 1, ReachedFramework: true, Scheme: "http", RemoteAddr: "127.0.0.1",
			Headers:   map[string]string{"x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "https"},
			Framework: templates.ProbeFramework{Name: "fastapi", Version: "0.92.0"},
			Gateway:   map[string]any{"scheme": "http", "client": []any{"127.0.0.1", 50000}, "peer": "127.0.0.1"},
			Server: &templates.ProbeServer{Name: "gunicorn", Version: "20.1.0", WorkerClass: "uvicorn.workers.UvicornWorker",
				Bind: []string{"127.0.0.1:8000"}, ForwardedAllowIPs: []string{"10.0.0.5"}, ForwardedAllowIPsSource: "Procfile:2",
				SecureSchemeHeaders: map[string]string{"X-FORWARDED-PROTO": "https", "X-FORWARDED-SSL": "on"},
				Uvicorn:             &templates.ProbeUvicorn{Version: "0.17.6", ProxyHeaders: true, ForwardedAllowIPs: []string{"10.0.0.5"}}}},
	}
	results := Check(ev)
	r := find(t, results, IDForwardedAllowIPs)
	if r.Status != Fail || r.Where != "Procfile:2" || !strings.Contains(r.Detail, "forwarded_allow_ips = 10.0.0.5 (Procfile:2)") ||
		!strings.Contains(r.Fix, "the web line in Procfile:2 passes --forwarded-allow-ips 10.0.0.5") ||
		!strings.Contains(r.Fix, "FORWARDED_ALLOW_IPS=127.0.0.1,::1") {
		t.Errorf("forwarded-allow-ips: %+v", r)
	}
	for _, r := range results {
		if r.ID == IDSchemeHeaders {
			t.Errorf("gunicorn's scheme headers judged under UvicornWorker: %+v", r)
		}
	}
	// gunicorn's default list, handed to uvicorn, is called gunicorn's.
	ev.Probe.Server.ForwardedAllowIPsSource = "default"
	ev.Probe.Server.ForwardedAllowIPs, ev.Probe.Server.Uvicorn.ForwardedAllowIPs = []string{"127.0.0.1"}, []string{"127.0.0.1"}
	ev.Probe.Scheme = "https"
	if r := find(t, Check(ev), IDForwardedAllowIPs); r.Status != Pass || !strings.Contains(r.Detail, "(gunicorn's default)") {
		t.Errorf("forwarded-allow-ips with gunicorn's default: %+v", r)
	}
}

// uvicorn's --no-proxy-headers on the Procfile's web line is named there.
func TestProcfileNoProxyHeaders(t *testing.T) {
	off := false
	ev := Evidence{Origin: "https://localhost:8080", Headers: []string{"X-Forwarded-Proto", "X-Forwarded-For"},
		Probe: templates.ProbeReport{Probe: 1, ReachedFramework: true, Scheme: "http", RemoteAddr: "127.0.0.1",
			Framework: templates.ProbeFramework{Name: "fastapi", Version: "0.92.0"},
			Gateway:   map[string]any{"scheme": "http", "peer": "127.0.0.1"},
			Server: &templates.ProbeServer{Name: "uvicorn", Version: "0.17.6", ProxyHeaders: &off, ProxyHeadersSource: "Procfile:1",
				ForwardedAllowIPs: []string{"127.0.0.1"}, ForwardedAllowIPsSource: "default"}}}
	results := Check(ev)
	r := find(t, results, IDForwardedAllowIPs)
	if r.Status != Fail || r.Where != "Procfile:1" || !strings.Contains(r.Fix, "from the web line in Procfile:1") {
		t.Errorf("forwarded-allow-ips: %+v", r)
	}
	if r := find(t, results, IDScheme); r.Status != Fail || !strings.Contains(r.Fix, "drop --no-proxy-headers") {
		t.Errorf("scheme: %+v, want a fix that turns proxy headers back on", r)
	}
}
