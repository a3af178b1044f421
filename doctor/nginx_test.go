package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devstack-dev/devstack/templates"
)

func TestNginxConfigFindings(t *testing.T) {
	for _, tc := range []struct {
		name, conf string
		want       []string // each finding's words, in order; none for a clean config
	}{
		{"headers in the server, none in the location", `
server {
    listen 443 ssl;
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-Proto $scheme;
    location / { proxy_pass http://app; }
}`, nil},
		{"a location with one header of its own loses the server's", `
server {
    listen 443 ssl;
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-Proto $scheme;
    location / { proxy_pass http://app; }
    location /api/ {
        proxy_set_header X-Request-Id $request_id;
        proxy_pass http://app;
    }
}`, []string{"location /api/ sets proxy_set_header of its own (line 8), so it inherits none of the enclosing block's (line 4): X-Forwarded-Proto",
			"location /api/ does not set Host"}},
		{"the http block's headers, lost in a server", `
http {
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-Proto $scheme;
    server {
        listen 443 ssl;
        proxy_set_header X-Real-IP $remote_addr;
        location / { proxy_pass http://app; }
    }
}`, []string{"the server block sets proxy_set_header of its own (line 7)", "does not set Host"}},
		{"Host $host on another port than 443", `
server {
    listen 8443 ssl;
    location / {
        proxy_pass http://app;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-Proto $scheme;
    }
}`, []string{"sends Host $host, which drops the port the browser uses (listen 8443)"}},
		{"Host $host on 443 keeps what the browser sent", `
server {
    listen [::]:443 ssl;
    listen 443 ssl;
    location / {
        proxy_pass http://app;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-Proto $scheme;
    }
}`, nil},
		{"Debian's proxy_params, included in the location", `
server {
    listen 443 ssl;
    location / { include proxy_params; proxy_pass http://unix:/run/gunicorn.sock; }
}`, nil},
		{"proxy_params beside an extra header keeps both", `
server {
    listen 443 ssl;
    location / {
        include /etc/nginx/proxy_params;
        proxy_set_header X-Request-Id $request_id; # one more
        proxy_pass http://app;
    }
}`, nil},
		{"an include this check cannot read may set them", `
server {
    location / { include /etc/nginx/snippets/proxy-headers.conf; proxy_pass http://app; }
}`, nil},
		{"no forwarding header at all", `
server {
    listen 443 ssl;
    location / { proxy_pass http://app; proxy_set_header Host $http_host; }
}`, []string{"location / proxies without X-Forwarded-Proto"}},
		{"https written in, on a plain-http listener", `
server {
    listen 80;
    location /api {
        proxy_pass http://api;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Proto "https";
    }
}`, []string{"location /api sends X-Forwarded-Proto: https for plain-http requests too (listen 80)"}},
		{"https written in, on https and plain http", `
server {
    listen 443 ssl;
    listen 80;
    location / { proxy_pass http://app; proxy_set_header Host $http_host; proxy_set_header X-Forwarded-Proto https; }
}`, []string{"for plain-http requests too (listen 80)"}},
		{"https written in, where every listener is https", `
server {
    listen 443 ssl;
    listen [::]:443 ssl http2;
    listen 443 quic reuseport;
    location / { proxy_pass http://app; proxy_set_header Host $http_host; proxy_set_header X-Forwarded-Proto https; }
}`, nil},
		{"https written in, with ssl on", `
server {
    listen 443;
    ssl on;
    location / { proxy_pass http://app; proxy_set_header Host $http_host; proxy_set_header X-Forwarded-Proto https; }
}`, nil},
		{"quotes, comments and a brace in a string", `
server {
    listen 443 ssl; # "{"
    proxy_set_header Host "$http_host";
    proxy_set_header 'X-Forwarded-Proto' $scheme;
    location ~ "^/a{2}" { proxy_pass http://app; }
}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := nginxProxyFindings(t.TempDir(), "nginx.conf", parseNginx([]byte(tc.conf)), nginxApp{})
			if len(got) != len(tc.want) {
				t.Fatalf("%d findings, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i].text, w) {
					t.Errorf("finding %d: %q, want it to say %q", i, got[i].text, w)
				}
			}
		})
	}
}

// What devstack export nginx writes never loses a header in a location:
// every header is set where it proxies, and Host keeps the browser's port.
func TestExportedNginxConfigIsClean(t *testing.T) {
	static := &templates.StaticReport{Framework: "django", StaticURL: "/static/", StaticRoot: "/srv/static",
		MediaURL: "/media/", MediaRoot: "/srv/media"}
	for _, c := range []templates.ExportConfig{
		{Domain: "example.com", Upstream: "127.0.0.1:8000", MaxBody: 10 << 20},
		{Domain: "example.com", Upstream: "127.0.0.1:8000", MaxBody: 10 << 20, ForwardedHost: true, ForwardedSSL: true, RealIP: true, Static: static},
	} {
		conf, err := templates.Export("nginx", c)
		if err != nil {
			t.Fatal(err)
		}
		if f := nginxProxyFindings(t.TempDir(), "nginx.conf", parseNginx(conf),
			nginxApp{schemeHeaders: []string{"X-Forwarded-Ssl", "X-Forwarded-Protocol"}, forwardedHost: c.ForwardedHost}); len(f) > 0 {
			t.Errorf("the exported configuration has findings %+v:\n%s", f, conf)
		}
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "deploy"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "deploy", "nginx.conf"), conf, 0o644); err != nil {
			t.Fatal(err)
		}
		if r, ok := checkNginxConfig(Evidence{Dir: dir}); !ok || r.Status != Pass || !strings.Contains(r.Summary, "deploy/nginx.conf") {
			t.Errorf("nginx-config on the exported configuration: %+v", r)
		}
	}
}

func TestNginxConfigFilesFound(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"deploy/nginx/site.conf":          "server { location / { proxy_pass http://app; } }",
		"nginx.conf.template":             "server { location / { proxy_pass http://app; } }",
		"gunicorn.conf.py":                "bind = '127.0.0.1:8000'",
		"deploy/other.conf":               "[program:app]",
		"node_modules/x/nginx.conf":       "server { location / { proxy_pass http://app; } }",
		"a/b/c/d/too-deep/nginx.conf":     "server { location / { proxy_pass http://app; } }",
		".venv/lib/site/nginx/proxy.conf": "proxy_pass",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for _, f := range nginxConfigFiles(dir) {
		names = append(names, f.rel)
	}
	got := strings.Join(names, " ")
	if got != "deploy/nginx/site.conf nginx.conf.template" {
		t.Errorf("found %q", got)
	}
	if _, ok := checkNginxConfig(Evidence{Dir: t.TempDir()}); ok {
		t.Error("a project without an nginx configuration got an nginx-config result")
	}
}

// A configuration that sets every header but passes the client's
// X-Forwarded-Ssl on to gunicorn (which reads it as the scheme) gets
// advice, not a warning: only a client that forges it is hurt.
func TestNginxConfigAdvisesClearingGunicornsSchemeHeaders(t *testing.T) {
	dir := t.TempDir()
	conf := `server {
    listen 443 ssl;
    location / {
        proxy_pass http://app;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Protocol "";
    }
}`
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	ev := Evidence{Dir: dir}
	ev.Probe.Server = &templates.ProbeServer{Name: "gunicorn",
		SecureSchemeHeaders: map[string]string{"X-FORWARDED-PROTO": "https", "X-FORWARDED-SSL": "on", "X-FORWARDED-PROTOCOL": "ssl"}}
	r, ok := checkNginxConfig(ev)
	if !ok || r.Status != Info || !strings.Contains(r.Summary, "passes the client's X-Forwarded-Ssl on to gunicorn") ||
		strings.Contains(r.Summary, "Protocol") || !strings.Contains(r.Fix, `proxy_set_header X-Forwarded-Ssl "";`) || !strings.Contains(r.Summary, "(e.g. X-Forwarded-Ssl: off)") || r.Where != "nginx.conf:4" {
		t.Errorf("%+v", r)
	}
	// Under uvicorn, which reads X-Forwarded-Proto only, nothing to say.
	ev.Probe.Server = &templates.ProbeServer{Name: "uvicorn"}
	if r, _ := checkNginxConfig(ev); r.Status != Pass {
		t.Errorf("under uvicorn: %+v", r)
	}
}

// With USE_X_FORWARDED_HOST, a location that passes the client's
// X-Forwarded-Host on lets any client choose the host (catalog 14).
func TestNginxConfigWithForwardedHost(t *testing.T) {
	conf := []byte(`server {
    listen 443 ssl;
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-Proto $scheme;
    location / { proxy_pass http://app; }
    location /admin/ { proxy_pass http://app; proxy_set_header X-Forwarded-Host $http_host; proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme; }
}`)
	got := nginxProxyFindings(t.TempDir(), "nginx.conf", parseNginx(conf), nginxApp{forwardedHost: true})
	if len(got) != 1 || got[0].where != "nginx.conf:5" || !strings.Contains(got[0].text, "passes the client's X-Forwarded-Host on") {
		t.Errorf("%+v", got)
	}
	if got := nginxProxyFindings(t.TempDir(), "nginx.conf", parseNginx(conf), nginxApp{}); len(got) != 0 {
		t.Errorf("without USE_X_FORWARDED_HOST: %+v", got)
	}
}
