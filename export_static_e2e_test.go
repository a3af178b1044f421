package main

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/certs"
	"github.com/devstack-dev/devstack/internal/testenv"
)

// The exported configurations, run by the real nginx and Caddy, serve what
// collectstatic wrote to STATIC_ROOT (with its precompressed siblings) and
// the uploads in MEDIA_ROOT, as devstack's proxy serves them locally.
func TestExportServesStaticAndMedia(t *testing.T) {
	python := testenv.SystemPython(t)
	dir := copyProject(t, "django-static")
	collect := exec.Command(python, "manage.py", "collectstatic", "--noinput")
	collect.Dir = dir
	collect.Env = testenv.PythonEnv(os.Environ(), "")
	if out, err := collect.CombinedOutput(); err != nil {
		t.Fatalf("collectstatic: %v\n%s", err, out)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("body { font-family: sans-serif; }\n"))
	zw.Close()
	for name, content := range map[string]string{"collected/css/site.css.gz": gz.String(), "uploads/photos/shoe.png": "\x89PNG"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ca, _, err := certs.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if _, err := ca.NewLeaf(work, nil); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, DisableCompression: true, Proxy: nil}}
	defer client.CloseIdleConnections()
	// Nothing listens on the upstream port: only files are asked for.
	appPort := freePort(t)

	for _, kind := range []string{"nginx", "caddy"} {
		t.Run(kind, func(t *testing.T) {
			conf := exportFor(t, kind, dir, appPort)
			port := freePort(t)
			if kind == "nginx" {
				runNginx(t, testenv.LookPath(t, "nginx", "apt-get install nginx-light"), work, conf, port, freePort(t))
			} else {
				runCaddy(t, testenv.Caddy(t), work, conf, port)
			}
			get := func(path, acceptEncoding string) (*http.Response, string) {
				t.Helper()
				req, _ := http.NewRequest("GET", fmt.Sprintf("https://localhost:%d%s", port, path), nil)
				req.Header.Set("Accept-Encoding", acceptEncoding)
				var resp *http.Response
				eventually(t, 20*time.Second, kind+" answering", func() bool {
					var err error
					resp, err = client.Do(req)
					return err == nil
				})
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				return resp, string(body)
			}
			if resp, body := get("/static/admin/css/base.css", ""); resp.StatusCode != 200 ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, "DJANGO Admin styles") {
				t.Errorf("the admin's stylesheet: %d %q %.80q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			if resp, body := get("/static/css/site.css", "gzip"); resp.StatusCode != 200 ||
				resp.Header.Get("Content-Encoding") != "gzip" || body != gz.String() {
				t.Errorf("the gzip sibling: %d, encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
			}
			if resp, body := get("/static/downloads/price-list.csv", ""); resp.StatusCode != 200 || body != "item,price\nshoe,40\n" {
				t.Errorf("a prefixed STATICFILES_DIRS file: %d %q", resp.StatusCode, body)
			}
			if resp, body := get("/media/photos/shoe.png", ""); resp.StatusCode != 200 || body != "\x89PNG" {
				t.Errorf("an upload: %d %q", resp.StatusCode, body)
			}
			if resp, _ := get("/static/missing.css", ""); resp.StatusCode != 404 {
				t.Errorf("a missing file: %d, want 404", resp.StatusCode)
			}
		})
	}
}
