package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/certs"
	"github.com/devstack-dev/devstack/doctor"
	"github.com/devstack-dev/devstack/internal/testenv"
	"github.com/devstack-dev/devstack/session"
	"github.com/devstack-dev/devstack/templates"
)

// exportFor runs devstack export kind for dir, with the domain and upstream
// a test can serve.
func exportFor(t *testing.T, kind, dir string, appPort int) string {
	t.Helper()
	cmd := exec.Command(devstackBinary(t), "export", kind, "--dir", dir, "--domain", "localhost",
		"--upstream", "127.0.0.1:"+strconv.Itoa(appPort))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("devstack export %s: %v", kind, err)
	}
	return string(out)
}

// runningBehind starts devstack up on the sample site and returns it with
// the probe's path, for a production proxy to be put in front of its
// gateway.
func runningBehind(t *testing.T) (*upRun, string, string) {
	t.Helper()
	cache := t.TempDir()
	dir := copyProject(t, "django-site")
	r := startUp(t, upConfig{dir: dir, env: []string{"DEVSTACK_CACHE_DIR=" + cache}})
	t.Setenv("DEVSTACK_CACHE_DIR", cache)
	var st session.RunRecord
	eventually(t, 10*time.Second, "devstack up's run record", func() bool {
		var err error
		st, err = session.FindRunning(dir)
		return err == nil
	})
	return r, dir, st.ProbePath
}

// probeThrough asks the probe through a production proxy at addr, as a
// browser on https://localhost:port would, with forged forwarding headers
// a client could send.
func probeThrough(t *testing.T, r *upRun, addr, probePath string) templates.ProbeReport {
	t.Helper()
	return askProbe(t, r, addr, probePath, "the probe through the exported proxy", func(req *http.Request) {
		origin := "https://" + req.Host
		req.Header.Set("Origin", origin)
		req.Header.Set("Referer", origin+"/")
		req.Header.Set("X-Forwarded-For", "203.0.113.66")
		req.Header.Set("X-Forwarded-Proto", "http")
		req.Header.Set("X-Forwarded-Host", "evil.example")
		req.Header.Set("X-Forwarded-Ssl", "off")
		// gunicorn before 22 takes a SCRIPT_NAME header as the app's mount
		// point: every URL the app builds would start with it.
		req.Header["SCRIPT_NAME"] = []string{"/forged"}
	})
}

// askProbe asks the probe through a proxy at addr as a browser on
// https://localhost:port would, with the headers forge sets, until it
// answers.
func askProbe(t *testing.T, r *upRun, addr, probePath, what string, forge func(*http.Request)) templates.ProbeReport {
	t.Helper()
	ca, err := certs.Load(r.caroot)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	client := doctor.Client(ca.Pool(), addr, 10*time.Second)
	defer client.CloseIdleConnections()
	origin := "https://localhost:" + port
	var report templates.ProbeReport
	eventually(t, 20*time.Second, what, func() bool {
		req, _ := http.NewRequest("GET", origin+probePath, nil)
		forge(req)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200 && json.Unmarshal(body, &report) == nil && report.Probe > 0
	})
	return report
}

// checkLikeDevstack checks the app behind a production proxy sees what it
// sees behind devstack's: https, the browser's host, the real client, and
// none of the client's forged forwarding headers.
func checkLikeDevstack(t *testing.T, name string, rep templates.ProbeReport, host string) {
	t.Helper()
	if rep.Scheme != "https" || rep.IsSecure == nil || !*rep.IsSecure {
		t.Errorf("%s: the app sees %q, want https", name, rep.Scheme)
	}
	if rep.Host != host {
		t.Errorf("%s: the app sees host %q, want %q (a forged X-Forwarded-Host must not win)", name, rep.Host, host)
	}
	if rep.RemoteAddr != "127.0.0.1" {
		t.Errorf("%s: the app sees client %q, want 127.0.0.1 (a forged X-Forwarded-For must not win)", name, rep.RemoteAddr)
	}
	if v, ok := rep.Headers["x-forwarded-ssl"]; ok {
		t.Errorf("%s: the client's X-Forwarded-Ssl reached the app: %q", name, v)
	}
	if v := rep.Gateway["SCRIPT_NAME"]; v != nil && v != "" {
		t.Errorf("%s: the client's SCRIPT_NAME header reached the gateway: SCRIPT_NAME=%v", name, v)
	}
	if rep.CSRF == nil || !rep.CSRF.OK {
		t.Errorf("%s: CSRF verdict for a form of the site: %+v", name, rep.CSRF)
	}
}

// The exported nginx configuration, run by the real nginx in front of the
// gateway, gives the app what devstack's proxy gives it.
func TestExportNginxBehavesLikeTheLocalProxy(t *testing.T) {
	nginx := testenv.LookPath(t, "nginx", "apt-get install nginx-light")
	r, dir, probePath := runningBehind(t)
	conf := exportFor(t, "nginx", dir, r.appPort)

	work := leafIn(t, r)
	httpsPort, httpPort := freePort(t), freePort(t)
	runNginx(t, nginx, work, conf, httpsPort, httpPort)

	rep := probeThrough(t, r, fmt.Sprintf("127.0.0.1:%d", httpsPort), probePath)
	checkLikeDevstack(t, "nginx", rep, fmt.Sprintf("localhost:%d", httpsPort))

	// Plain http is redirected to https.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/x", httpPort))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 301 || !strings.HasPrefix(resp.Header.Get("Location"), "https://") {
		t.Errorf("plain http: %d %q, want a 301 to https", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// The exported Caddyfile, run by a real Caddy 2.7+ in front of the gateway,
// gives the app what devstack's proxy gives it.
func TestExportCaddyBehavesLikeTheLocalProxy(t *testing.T) {
	caddy := testenv.Caddy(t)
	r, dir, probePath := runningBehind(t)
	conf := exportFor(t, "caddy", dir, r.appPort)

	work := leafIn(t, r)
	port := freePort(t)
	runCaddy(t, caddy, work, conf, port)

	rep := probeThrough(t, r, fmt.Sprintf("127.0.0.1:%d", port), probePath)
	checkLikeDevstack(t, "caddy", rep, fmt.Sprintf("localhost:%d", port))
}

// leafIn writes a certificate for localhost, issued by up's CA, into a new
// directory and returns it.
func leafIn(t *testing.T, r *upRun) string {
	t.Helper()
	work := t.TempDir()
	ca, err := certs.Load(r.caroot)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.NewLeaf(work, nil); err != nil {
		t.Fatal(err)
	}
	return work
}

// startProxyProcess runs a proxy in its own process group until the test
// ends.
func startProxyProcess(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	// Registered first, so it runs after StartGroup has stopped the proxy.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	testenv.StartGroup(t, cmd, 10*time.Second)
}

// runNginx runs nginx with the exported site configuration conf until the
// test ends, on httpsPort and httpPort of 127.0.0.1 with the localhost
// certificate in work.
func runNginx(t *testing.T, nginx, work, conf string, httpsPort, httpPort int) {
	t.Helper()
	// Only what a test machine needs changes: ports, certificate paths.
	conf = strings.NewReplacer(
		"listen 443 ssl;", fmt.Sprintf("listen 127.0.0.1:%d ssl;", httpsPort),
		"listen [::]:443 ssl;", "",
		"listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", httpPort),
		"listen [::]:80;", "",
		"/etc/letsencrypt/live/localhost/fullchain.pem", filepath.Join(work, certs.LeafCertFile),
		"/etc/letsencrypt/live/localhost/privkey.pem", filepath.Join(work, certs.LeafKeyFile),
	).Replace(conf)
	if err := os.WriteFile(filepath.Join(work, "site.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	user := ""
	if os.Getuid() == 0 {
		user = "user root;"
	}
	// The types, as a distribution's nginx.conf includes them around the
	// site configuration.
	types := "/etc/nginx/mime.types"
	if _, err := os.Stat(types); err != nil {
		t.Fatalf("nginx's MIME types: %v", err)
	}
	main := fmt.Sprintf(`%s
daemon off;
pid %[2]s/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
	include %[3]s;
	default_type application/octet-stream;
	access_log off;
	client_body_temp_path %[2]s/body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	include %[2]s/site.conf;
}
`, user, work, types)
	if err := os.WriteFile(filepath.Join(work, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	startProxyProcess(t, nginx, "-p", work, "-c", filepath.Join(work, "nginx.conf"))
}

// runCaddy runs Caddy with the exported Caddyfile conf until the test ends,
// on port of 127.0.0.1 with the localhost certificate in work.
func runCaddy(t *testing.T, caddy, work, conf string, port int) {
	t.Helper()
	// Only what a test machine needs changes: the address and the
	// certificate (Caddy would get one from Let's Encrypt).
	global := fmt.Sprintf("{\n\tadmin off\n\tauto_https off\n\tstorage file_system %s\n}\n\n", filepath.Join(work, "data"))
	conf = strings.Replace(conf, "localhost {", fmt.Sprintf("https://localhost:%d {\n\tbind 127.0.0.1\n\ttls %s %s",
		port, filepath.Join(work, certs.LeafCertFile), filepath.Join(work, certs.LeafKeyFile)), 1)
	if err := os.WriteFile(filepath.Join(work, "Caddyfile"), []byte(global+conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", work)
	t.Setenv("XDG_DATA_HOME", work)
	t.Setenv("XDG_CONFIG_HOME", work)
	startProxyProcess(t, caddy, "run", "--config", filepath.Join(work, "Caddyfile"), "--adapter", "caddyfile")
}

// The mistake nginx-config reports (catalog 7) is nginx's real behaviour:
// with the sample's production configuration in front of the gateway, a
// location that sets one header of its own sends neither the server's
// X-Forwarded-Proto nor its Host, and passes the client's forged
// X-Forwarded-Proto on, while a location without headers of its own
// inherits them. devstack export nginx keeps every header in its one
// proxying location (doctor's TestExportedNginxConfigIsClean).
func TestNginxLocationLosesTheServersHeaders(t *testing.T) {
	nginx := testenv.LookPath(t, "nginx", "apt-get install nginx-light")
	r, _, probePath := runningBehind(t)
	conf, err := os.ReadFile(filepath.Join("testdata", "django-misconfig", "nginx-location-headers", "deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		location string // where the probe's path is proxied
		lost     bool
	}{{"/", false}, {"/api/", true}} {
		t.Run(tc.location, func(t *testing.T) {
			site := strings.NewReplacer("example.com", "localhost", "127.0.0.1:8000", "127.0.0.1:"+strconv.Itoa(r.appPort),
				"location "+tc.location+" {", "location "+probePath+" {").Replace(string(conf))
			if !strings.Contains(site, "location "+probePath) {
				t.Fatalf("the sample has no location %s", tc.location)
			}
			work := leafIn(t, r)
			httpsPort := freePort(t)
			runNginx(t, nginx, work, site, httpsPort, freePort(t))
			rep := probeForging(t, r, httpsPort, probePath)
			if !tc.lost {
				if rep.Scheme != "https" || rep.Host != fmt.Sprintf("localhost:%d", httpsPort) {
					t.Errorf("the app sees %s://%s (error %q); want the server's headers: https, localhost:%d", rep.Scheme, rep.Host, rep.HostError, httpsPort)
				}
				return
			}
			if rep.Scheme != "http" || rep.Headers["x-forwarded-proto"] != "http" {
				t.Errorf("the app sees %q with X-Forwarded-Proto %q; want the client's forged http", rep.Scheme, rep.Headers["x-forwarded-proto"])
			}
			if rep.HostError == "" || !strings.Contains(rep.HostError, "'app'") {
				t.Errorf("host %q, error %q; want Django to refuse the upstream's name", rep.Host, rep.HostError)
			}
		})
	}
}

// probeForging asks the probe through a proxy on 127.0.0.1:port as a
// browser on https://localhost:port would, with a forged X-Forwarded-Proto.
func probeForging(t *testing.T, r *upRun, port int, probePath string) templates.ProbeReport {
	t.Helper()
	return askProbe(t, r, fmt.Sprintf("127.0.0.1:%d", port), probePath, "the probe through nginx", func(req *http.Request) {
		req.Header.Set("X-Forwarded-Proto", "http")
	})
}
