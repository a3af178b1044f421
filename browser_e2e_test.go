package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// chromiumDOM loads url in headless Chromium with home as its HOME (where
// its NSS database lives) and returns the DOM after scripts ran.
func chromiumDOM(t *testing.T, chromium, home, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
		"--user-data-dir="+filepath.Join(home, "profile"),
		"--virtual-time-budget=10000", "--dump-dom", url)
	cmd.Env = append(os.Environ(), "HOME="+home)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v", url, err)
	}
	return string(out)
}

// A real browser, trusting devstack's CA only through the NSS database that
// `devstack ca install` wrote, loads the sample site over HTTPS/HTTP2 and
// posts its CSRF-protected form: Django accepts the browser's Origin and
// Referer because it trusts the scheme the proxy forwards.
func TestChromiumTrustsTheCAAndPassesCSRF(t *testing.T) {
	chromium := testenv.LookPath(t, "chromium", "apt-get install chromium")
	certutil := testenv.LookPath(t, "certutil", "apt-get install libnss3-tools")
	testenv.SystemPython(t)
	r := startUp(t, upConfig{project: "django-site"})

	// Before the CA is trusted, Chromium refuses the site.
	untrusted := t.TempDir()
	if dom := chromiumDOM(t, chromium, untrusted, r.url("/")); strings.Contains(dom, "What Django sees") {
		t.Fatal("Chromium showed the page without trusting devstack's CA")
	}

	home := trustingHome(t, certutil, r)
	dom := chromiumDOM(t, chromium, home, r.url("/"))
	for _, want := range []string{`<td id="scheme">https</td>`, `<td id="is-secure">True</td>`, `<td id="host">` + strings.TrimPrefix(r.url(""), "https://") + `</td>`} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page in Chromium lacks %s:\n%s", want, dom)
		}
	}

	dom = chromiumDOM(t, chromium, home, r.url("/?autosubmit"))
	if !strings.Contains(dom, `"accepted": true`) {
		t.Errorf("the form posted by Chromium was not accepted (CSRF):\n%s", dom)
	}
}

// trustingHome returns a new HOME whose NSS database (Chromium's trust
// store) trusts r's CA, added by devstack ca install.
func trustingHome(t *testing.T, certutil string, r *upRun) string {
	t.Helper()
	home := t.TempDir()
	nssdb := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(nssdb, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(certutil, "-N", "-d", "sql:"+nssdb, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("certutil -N: %v\n%s", err, out)
	}
	install := exec.Command(devstackBinary(t), "ca", "install")
	install.Env = append(os.Environ(), "HOME="+home, "CAROOT="+r.caroot, "TRUST_STORES=nss")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("devstack ca install: %v\n%s", err, out)
	}
	return home
}

// In a real browser, the sample shop's page gets every stylesheet it links
// through devstack's proxy: its own (an app's static/ and STATICFILES_DIRS)
// and the admin's, from Django's installed package.
func TestChromiumLoadsStaticFiles(t *testing.T) {
	chromium := testenv.LookPath(t, "chromium", "apt-get install chromium")
	certutil := testenv.LookPath(t, "certutil", "apt-get install libnss3-tools")
	testenv.SystemPython(t)
	r := startUp(t, upConfig{project: "django-static"})
	dom := chromiumDOM(t, chromium, trustingHome(t, certutil, r), r.url("/"))
	_, sheets, ok := strings.Cut(dom, `data-stylesheets="`)
	sheets, _, _ = strings.Cut(sheets, `"`)
	if !ok {
		t.Fatalf("the page's script did not run:\n%s", dom)
	}
	for _, want := range []string{"css/site.css=1", "catalog/catalog.css=1", "admin/css/base.css="} {
		if !strings.Contains(sheets, want) {
			t.Errorf("stylesheets in Chromium: %q, want %s", sheets, want)
		}
	}
	if strings.Contains(sheets, "=0") || strings.Contains(sheets, "=?") {
		t.Errorf("a stylesheet did not load in Chromium: %q", sheets)
	}
}
