package templates

import (
	"strings"
	"testing"
)

func TestExportHeadersFollowTheProxyPolicy(t *testing.T) {
	base := ExportConfig{Domain: "shop.example", Upstream: "127.0.0.1:9000", Describe: "the app", MaxBody: 100 << 20, ForwardedHost: true}
	nginx, err := Export("nginx", base)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"server 127.0.0.1:9000;", "server_name shop.example;", "client_max_body_size 100m;",
		"proxy_set_header X-Forwarded-Proto $scheme;", "proxy_set_header X-Forwarded-For $remote_addr;",
		"proxy_set_header X-Forwarded-Host $http_host;", `proxy_set_header X-Forwarded-Ssl "";`,
		`proxy_set_header Forwarded "";`, "/etc/letsencrypt/live/shop.example/fullchain.pem",
	} {
		if !strings.Contains(string(nginx), want) {
			t.Errorf("nginx config lacks %q:\n%s", want, nginx)
		}
	}
	if strings.Contains(string(nginx), "$proxy_add_x_forwarded_for") {
		t.Error("nginx config appends to the client's X-Forwarded-For")
	}

	// X-Forwarded-Ssl and X-Real-IP set, X-Forwarded-Host not.
	opts := base
	opts.ForwardedHost, opts.ForwardedSSL, opts.RealIP, opts.MaxBody = false, true, true, 1500<<10
	nginx, _ = Export("nginx", opts)
	caddy, err := Export("caddy", opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ conf, want string }{
		{string(nginx), "proxy_set_header X-Forwarded-Ssl on;"},
		{string(nginx), "proxy_set_header X-Real-IP $remote_addr;"},
		{string(nginx), `proxy_set_header X-Forwarded-Host "";`},
		{string(nginx), "client_max_body_size 2m;"},
		{string(caddy), "header_up X-Forwarded-Ssl on"},
		{string(caddy), "header_up X-Real-IP {remote_host}"},
		{string(caddy), "header_up -X-Forwarded-Host"},
		{string(caddy), "max_size 2MiB"},
		{string(caddy), "request_buffers 2MiB"},
		{string(caddy), "shop.example {"},
		{string(caddy), "reverse_proxy 127.0.0.1:9000 {"},
	} {
		if !strings.Contains(c.conf, c.want) {
			t.Errorf("config lacks %q:\n%s", c.want, c.conf)
		}
	}
	if strings.Contains(string(caddy), "header_up -X-Forwarded-Ssl") {
		t.Errorf("caddy config both sets and removes X-Forwarded-Ssl:\n%s", caddy)
	}
	if _, err := Export("apache", base); err == nil {
		t.Error("an unknown kind gave no error")
	}
}

func TestExportSizes(t *testing.T) {
	for _, tc := range []struct {
		n            int64
		nginx, caddy string
	}{{512, "512", "512B"}, {1 << 10, "1k", "1KiB"}, {100 << 20, "100m", "100MiB"}, {(1 << 30) + 1, "2g", "2GiB"}} {
		if got := nginxSize(tc.n); got != tc.nginx {
			t.Errorf("nginxSize(%d) = %q, want %q", tc.n, got, tc.nginx)
		}
		if got := caddySize(tc.n); got != tc.caddy {
			t.Errorf("caddySize(%d) = %q, want %q", tc.n, got, tc.caddy)
		}
	}
}

func TestExportStaticLocations(t *testing.T) {
	shop := &StaticReport{Framework: "django", StaticURL: "/static/", StaticRoot: "/srv/shop/collected", StaticFiles: true,
		MediaURL: "/media/", MediaRoot: "/srv/shop/uploads"}
	base := ExportConfig{Domain: "shop.example", Upstream: "127.0.0.1:9000", Describe: "the app", MaxBody: 1 << 20, Static: shop}
	nginx, _ := Export("nginx", base)
	caddy, _ := Export("caddy", base)
	for _, c := range []struct{ conf, want string }{
		{string(nginx), "    location /static/ {\n        alias /srv/shop/collected/;\n        gzip_static on;\n    }"},
		{string(nginx), "    location /media/ {\n        alias /srv/shop/uploads/;\n    }"},
		{string(nginx), `Run "python manage.py collectstatic" on every deploy`},
		{string(caddy), "\thandle_path /static/* {\n\t\troot * /srv/shop/collected/\n\t\tfile_server {\n\t\t\tprecompressed br gzip\n\t\t}\n\t}"},
		{string(caddy), "\thandle_path /media/* {\n\t\troot * /srv/shop/uploads/\n\t\tfile_server\n\t}\n\n\treverse_proxy"},
		{string(caddy), `Run "python manage.py collectstatic" on every deploy`},
	} {
		if !strings.Contains(c.conf, c.want) {
			t.Errorf("config lacks %q:\n%s", c.want, c.conf)
		}
	}

	// Whitenoise serves /static/ in production too; no STATIC_ROOT means
	// collectstatic has nowhere to write; a path with a space is quoted.
	whitenoise := *shop
	whitenoise.AppServes = []string{"whitenoise.middleware.WhiteNoiseMiddleware"}
	noRoot := *shop
	noRoot.StaticRoot, noRoot.MediaRoot = "", "/srv/my shop/uploads"
	for _, c := range []struct {
		rep       *StaticReport
		want, not []string
	}{
		{&whitenoise, []string{"# /static/ is left to the app: the app serves them itself (whitenoise.middleware.WhiteNoiseMiddleware).", "location /media/"}, []string{"location /static/"}},
		{&noRoot, []string{"# /static/ is not served from disk: STATIC_ROOT is not set.", `alias "/srv/my shop/uploads/";`}, []string{"location /static/"}},
		{nil, nil, []string{"location /static/", "location /media/", "collectstatic"}},
	} {
		opts := base
		opts.Static = c.rep
		conf, err := Export("nginx", opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range c.want {
			if !strings.Contains(string(conf), want) {
				t.Errorf("config lacks %q:\n%s", want, conf)
			}
		}
		for _, not := range c.not {
			if strings.Contains(string(conf), not) {
				t.Errorf("config has %q:\n%s", not, conf)
			}
		}
	}
}
