package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
	"github.com/devstack-dev/devstack/orchestrator"
)

// An edit to .env while up runs restarts the gateway with the new values,
// and the log names the variables that changed, never their values.
func TestUpAppliesDotenvEdits(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := copyProject(t, "selfcall")
	r := startUp(t, upConfig{dir: dir})
	if code, body := r.get("/greeting"); code != 200 || body != "hello\n" {
		t.Fatalf("GET /greeting: %d %q, want .env's hello", code, body)
	}
	after := r.lineCount()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("GREETING=bonjour-s3cret\nADDED=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitLineAfter(after, `environment: ADDED, GREETING changed`, 30*time.Second)
	r.waitLineAfter(after, `reloaded in`, 60*time.Second)
	if code, body := r.get("/greeting"); code != 200 || body != "bonjour-s3cret\n" {
		t.Errorf("GET /greeting after the edit: %d %q, want the new value", code, body)
	}
	if strings.Contains(r.output(), "bonjour-s3cret") {
		t.Error("the log shows a variable's value")
	}
}

// A .env line python-dotenv would skip (a quoted value followed by more
// text) does not stop devstack up: the line is named once, at the start,
// the other lines reach the app, and a restart does not repeat it.
func TestUpSkipsABadDotenvLine(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := copyProject(t, "selfcall")
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ALLOWED_HOSTS='a','b'\nGREETING=hello\n")
	r := startUp(t, upConfig{dir: dir})
	if code, body := r.get("/greeting"); code != 200 || body != "hello\n" {
		t.Fatalf("GET /greeting: %d %q, want .env's hello", code, body)
	}
	const warning = `.env:1: unexpected ",'b'" after the closing quote of ALLOWED_HOSTS; line skipped`
	after := r.lineCount()
	write("ALLOWED_HOSTS='a','b'\nGREETING=bonjour\n")
	r.waitLineAfter(after, `environment: GREETING changed`, 30*time.Second)
	r.waitLineAfter(after, `reloaded in`, 60*time.Second)
	if code, body := r.get("/greeting"); code != 200 || body != "bonjour\n" {
		t.Errorf("GET /greeting after the edit: %d %q, want the new value", code, body)
	}
	if n := strings.Count(r.output(), warning); n != 1 {
		t.Errorf("the warning %q is told %d times, want once:\n%s", warning, n, r.output())
	}
}

// The .env of a Django project one level down is watched and read again
// too, and the trust checks run again with the new settings.
func TestUpRechecksTrustAfterAnEnvEdit(t *testing.T) {
	testenv.PythonWith(t, "django", "gunicorn")
	dir := copyProject(t, "layouts/django-backend")
	r := startUp(t, upConfig{dir: dir})
	r.waitLine(`trust check: `, 30*time.Second)
	after := r.lineCount()
	env := "GREETING=from-backend-env\nTRUST_PROXY_HEADER=0\n"
	if err := os.WriteFile(filepath.Join(dir, "backend", ".env"), []byte(env), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitLineAfter(after, `environment: TRUST_PROXY_HEADER changed`, 30*time.Second)
	r.waitLineAfter(after, `check proxy-ssl-header: (warn|fail)`, 60*time.Second)
}

// The app can call its own https URL with urllib and with requests (which
// trusts certifi's roots, not the system's): every child gets a bundle of
// the system's roots and devstack's CA.
func TestUpAppCallsItsOwnHTTPSURL(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn", "requests")
	r := startUp(t, upConfig{project: "selfcall", unset: orchestrator.CABundleVars})
	for _, client := range []string{"urllib", "requests"} {
		if code, body := r.get("/self/" + client); code != 200 || body != client+": hello\n" {
			t.Errorf("GET /self/%s: %d %q, want the app's own /greeting", client, code, body)
		}
	}
	_, body := r.get("/ca")
	for _, name := range []string{"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"} {
		if !strings.Contains(body, name+"=/") || !strings.Contains(body, "ca-bundle.pem") {
			t.Errorf("%s is not the bundle:\n%s", name, body)
		}
	}
}

// A value the user set is kept, and ca_bundle = false gives the children
// no bundle: the call to the app's own URL then fails as it would without
// devstack.
func TestUpCABundleKeepsTheUsersChoice(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := copyProject(t, "selfcall")
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("GREETING=hello\nREQUESTS_CA_BUNDLE=/etc/mine.pem\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startUp(t, upConfig{dir: dir, unset: orchestrator.CABundleVars, env: []string{"CURL_CA_BUNDLE=/etc/shell.pem"}})
	_, body := r.get("/ca")
	for _, want := range []string{"REQUESTS_CA_BUNDLE=/etc/mine.pem\n", "CURL_CA_BUNDLE=/etc/shell.pem\n", "ca-bundle.pem"} {
		if !strings.Contains(body, want) {
			t.Errorf("/ca lacks %q:\n%s", want, body)
		}
	}
	if err := r.stop(20 * time.Second); err != nil {
		t.Fatal(err)
	}

	if err := os.WriteFile(filepath.Join(dir, "devstack.toml"), []byte("ca_bundle = false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = startUp(t, upConfig{dir: dir, unset: orchestrator.CABundleVars})
	if _, body := r.get("/ca"); !strings.Contains(body, "SSL_CERT_FILE=\n") {
		t.Errorf("ca_bundle = false still sets SSL_CERT_FILE:\n%s", body)
	}
	if code, _ := r.get("/self/urllib"); code != 500 {
		t.Errorf("GET /self/urllib without the bundle: %d, want 500 (devstack's CA is not trusted)", code)
	}
}

// An app that dies with ModuleNotFoundError is told, in the log and on the
// error page, which interpreter ran it and which other one has the module,
// with the --python flag that uses it.
func TestUpNamesTheInterpreterThatHasAMissingModule(t *testing.T) {
	py := testenv.PythonWith(t, "flask", "gunicorn")
	dir := t.TempDir()
	files := map[string]string{
		"app.py": "import invoice_tools\nfrom flask import Flask\n\napp = Flask(__name__)\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []string{".venv", "venv"} {
		if out, err := exec.Command(py, "-m", "venv", "--system-site-packages", "--without-pip", filepath.Join(dir, v)).CombinedOutput(); err != nil {
			testenv.Missing(t, "python3 -m venv: %s (install: apt-get install python3-venv)", out)
		}
	}
	site, _ := filepath.Glob(filepath.Join(dir, "venv", "lib", "python3*", "site-packages"))
	if len(site) != 1 {
		t.Fatalf("site-packages of venv: %q", site)
	}
	if err := os.MkdirAll(filepath.Join(site[0], "invoice_tools"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site[0], "invoice_tools", "__init__.py"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := launchUp(t, upConfig{dir: dir})
	want := filepath.Join(dir, "venv", "bin", "python") + " (venv) has it: devstack up --python " + filepath.Join(dir, "venv", "bin", "python")
	r.waitLine(`the app cannot import invoice_tools with `+regexp.QuoteMeta(filepath.Join(dir, ".venv", "bin", "python"))+` \(\.venv\); `+regexp.QuoteMeta(want), 60*time.Second)
	eventually(t, 20*time.Second, "the error page names the interpreter that has the module", func() bool {
		_, body := r.get("/")
		return strings.Contains(body, "devstack up --python "+filepath.Join(dir, "venv", "bin", "python"))
	})
}
