package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/doctor"
	"github.com/devstack-dev/devstack/internal/testenv"
)

// doctorReport is `devstack doctor --json`'s output.
type doctorReport struct {
	About struct {
		Framework    string   `json:"framework"`
		Server       string   `json:"server"`
		Origin       string   `json:"origin"`
		Via          string   `json:"via"`
		Settings     string   `json:"settings"`
		Placeholders []string `json:"placeholders"`
	} `json:"about"`
	Checks  []doctor.Result `json:"checks"`
	Summary map[string]int  `json:"summary"`
}

// runDoctorCmd runs devstack doctor in dir and returns its exit code,
// standard output and standard error.
func runDoctorCmd(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(devstackBinary(t), append([]string{"doctor", "--dir", dir}, args...)...)
	cmd.Env = append(os.Environ(), "CAROOT="+t.TempDir(), "NO_COLOR=1", "DEVSTACK_CACHE_DIR="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(120 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("devstack doctor did not finish within 120 s\nstdout:\n%s\nstderr:\n%s", &stdout, &stderr)
	}
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

func doctorJSON(t *testing.T, dir string, env []string, args ...string) (int, doctorReport) {
	t.Helper()
	code, out, errOut := runDoctorCmd(t, dir, env, append([]string{"--json"}, args...)...)
	var r doctorReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("doctor --json (exit %d) printed no report: %v\nstdout:\n%s\nstderr:\n%s", code, err, out, errOut)
	}
	return code, r
}

func (r doctorReport) status(id string) doctor.Status {
	for _, c := range r.Checks {
		if c.ID == id {
			return c.Status
		}
	}
	return ""
}

func (r doctorReport) check(id string) doctor.Result {
	for _, c := range r.Checks {
		if c.ID == id {
			return c
		}
	}
	return doctor.Result{}
}

func (r doctorReport) ids(s doctor.Status) []string {
	var ids []string
	for _, c := range r.Checks {
		if c.Status == s {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// Each misconfigured sample fails exactly the check for its mistake (and
// those it causes), with exit status 1; the good site passes them all.
func TestDoctorFindsEachMisconfiguration(t *testing.T) {
	testenv.SystemPython(t)
	for _, tc := range []struct {
		project string
		fails   []string
		warns   []string // must be among the warnings
		suite   string   // a newer Debian suite, for version-specific rules
		clean   bool     // a correctly configured project: no warning either
	}{
		// startproject's settings with DEBUG on: no STATIC_ROOT is advice
		// for production's settings, not a warning (doctor_catalog_e2e_test).
		{project: "django-site", clean: true},
		{project: "django-site", suite: "sid", clean: true},
		{project: "django-split-settings", clean: true},
		{project: "django-misconfig/no-proxy-ssl-header", warns: []string{doctor.IDProxySSLHeader}},
		{project: "django-misconfig/wrong-proxy-header", fails: []string{doctor.IDProxySSLHeader}},
		{project: "django-misconfig/ssl-redirect-untrusted",
			fails: []string{doctor.IDScheme, doctor.IDSSLRedirectLoop, doctor.IDProxySSLHeader, doctor.IDForwardedAllowIPs},
			warns: []string{doctor.IDDirectRedirect}},
		// Django 5.2 also refuses the https form's Origin: the CSRF 403.
		{project: "django-misconfig/ssl-redirect-untrusted", suite: "sid",
			fails: []string{doctor.IDScheme, doctor.IDSSLRedirectLoop, doctor.IDProxySSLHeader, doctor.IDCSRFOrigin, doctor.IDForwardedAllowIPs},
			warns: []string{doctor.IDDirectRedirect}},
		{project: "django-misconfig/allowed-hosts-with-port", fails: []string{doctor.IDAllowedHosts, doctor.IDCSRFOrigin}},
		// Host names are what Django 3.2 wants; 4.0 and later want origins.
		{project: "django-misconfig/csrf-origins-no-scheme"},
		{project: "django-misconfig/csrf-origins-no-scheme", suite: "trixie", fails: []string{doctor.IDCSRFTrustedOrigins}},
	} {
		name := tc.project
		if tc.suite != "" {
			name += "/" + tc.suite
		}
		t.Run(name, func(t *testing.T) {
			var env []string
			if tc.suite != "" {
				env = append(env, "PYTHONPATH="+testenv.PythonSuite(t, tc.suite))
			}
			code, r := doctorJSON(t, copyProject(t, tc.project), env)
			fails := r.ids(doctor.Fail)
			if !slices.Equal(fails, tc.fails) {
				t.Errorf("failed checks %q, want %q\n%+v", fails, tc.fails, r.Checks)
			}
			if warns := r.ids(doctor.Warn); tc.clean && len(warns) > 0 {
				t.Errorf("a correctly configured project warns: %q\n%+v", warns, r.Checks)
			}
			for _, id := range tc.warns {
				if r.status(id) != doctor.Warn {
					t.Errorf("check %s: %q, want a warning", id, r.status(id))
				}
			}
			wantCode := 0
			if len(tc.fails) > 0 {
				wantCode = 1
			}
			if code != wantCode {
				t.Errorf("exit status %d, want %d", code, wantCode)
			}
			if r.About.Origin != "https://localhost:8080" {
				t.Errorf("origin %q, want the project's https://localhost:8080", r.About.Origin)
			}
			if r.Summary["fail"] != len(fails) {
				t.Errorf("summary %v disagrees with %d failed checks", r.Summary, len(fails))
			}
		})
	}
}

// The text report puts failures first, each with its evidence and fix,
// and --strict turns warnings into exit status 1.
func TestDoctorTextReportAndStrict(t *testing.T) {
	testenv.SystemPython(t)
	code, out, _ := runDoctorCmd(t, copyProject(t, "django-misconfig/wrong-proxy-header"), nil)
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	lines := strings.Split(out, "\n")
	if len(lines) < 5 || !strings.HasPrefix(lines[0], "devstack doctor: django ") || lines[1] != "settings: mysite.settings" || !strings.HasPrefix(lines[3], "FAIL  proxy-ssl-header ") {
		t.Fatalf("report does not open with the failure:\n%s", out)
	}
	if !strings.Contains(out, `fix: SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")`) {
		t.Errorf("no fix line for the wrong header:\n%s", out)
	}
	if !strings.Contains(out, "1 failed, ") {
		t.Errorf("no summary line:\n%s", out)
	}

	// A site with a warning only: 0, or 1 with --strict.
	site := copyProject(t, "django-misconfig/no-proxy-ssl-header")
	code, r := doctorJSON(t, site, nil)
	if code != 0 || len(r.ids(doctor.Warn)) == 0 {
		t.Fatalf("warning site: exit %d, warnings %q; want 0 with some warnings", code, r.ids(doctor.Warn))
	}
	if code, _, _ := runDoctorCmd(t, site, nil, "--strict"); code != 1 {
		t.Errorf("--strict with warnings: exit %d, want 1", code)
	}
}

// Flask behind ProxyFix: the scheme and ProxyFix checks pass.
func TestDoctorFlask(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	code, r := doctorJSON(t, copyProject(t, "flask-app"), nil)
	if code != 0 || r.status(doctor.IDScheme) != doctor.Pass || r.status(doctor.IDProxyFix) != doctor.Pass {
		t.Errorf("flask: exit %d, checks %+v", code, r.Checks)
	}
}

// A .env line python-dotenv would skip does not stop the doctor: it runs
// the checks and names the line on stderr.
func TestDoctorSkipsABadDotenvLine(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := copyProject(t, "flask-app")
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("DEBUG=1\nALLOWED_HOSTS='a','b'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runDoctorCmd(t, dir, nil)
	if code != 0 {
		t.Errorf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	const warning = `devstack: warning: .env:2: unexpected ",'b'" after the closing quote of ALLOWED_HOSTS; line skipped`
	if strings.Count(stderr, warning) != 1 {
		t.Errorf("stderr does not name the line once (%q):\n%s", warning, stderr)
	}
}

// An ASGI app whose host check refuses the browser's host.
func TestDoctorASGIHostCheck(t *testing.T) {
	testenv.PythonWith(t, "starlette", "uvicorn")
	code, r := doctorJSON(t, copyProject(t, "asgi-misconfig/trusted-host-with-port"), nil)
	if code != 1 || !slices.Equal(r.ids(doctor.Fail), []string{doctor.IDAppReached}) {
		t.Errorf("exit %d, failed %q; want 1 and %q", code, r.ids(doctor.Fail), doctor.IDAppReached)
	}
	if code, r := doctorJSON(t, copyProject(t, "asgi-app"), nil); code != 0 || len(r.ids(doctor.Fail)) != 0 {
		t.Errorf("the good ASGI sample: exit %d, %+v", code, r.Checks)
	}
}

// An app that cannot start: exit status 2 and the app's own error.
func TestDoctorCannotRunABrokenApp(t *testing.T) {
	testenv.SystemPython(t)
	dir := copyProject(t, "django-site")
	settings := filepath.Join(dir, "mysite", "settings.py")
	data, err := os.ReadFile(settings)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(settings, append(data, "\nbroken = (\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runDoctorCmd(t, dir, nil)
	if code != 2 || out != "" {
		t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
	}
	if !strings.Contains(errOut, "devstack: error: the app's gateway (gunicorn) ended before it answered") ||
		!strings.Contains(errOut, "SyntaxError") || !strings.Contains(errOut, "devstack: hint: ") {
		t.Errorf("stderr does not explain the failure:\n%s", errOut)
	}
}

// doctor runs beside devstack up: for another project it starts its own
// stack on free ports; for the project up is serving it goes through up's
// stack, and once up has stopped, through its own again.
func TestDoctorBesideUp(t *testing.T) {
	testenv.SystemPython(t)
	cache := t.TempDir()
	dir := copyProject(t, "django-site")
	r := startUp(t, upConfig{dir: dir, env: []string{"DEVSTACK_CACHE_DIR=" + cache}})
	shared := []string{"CAROOT=" + r.caroot, "DEVSTACK_CACHE_DIR=" + cache}

	code, rep := doctorJSON(t, copyProject(t, "django-site"), shared)
	if code != 0 || rep.status(doctor.IDScheme) != doctor.Pass || rep.About.Via != "a short-lived stack" {
		t.Errorf("doctor on another project beside up: exit %d, via %q, %+v", code, rep.About.Via, rep.Checks)
	}
	code, rep = doctorJSON(t, dir, shared)
	if want := "the running devstack up (pid " + strconv.Itoa(r.cmd.Process.Pid) + ")"; code != 0 || rep.About.Via != want {
		t.Errorf("doctor on up's project: exit %d, via %q; want 0 via %q", code, rep.About.Via, want)
	}
	if rep.About.Origin != "https://localhost:"+strconv.Itoa(r.port) {
		t.Errorf("origin %q, want up's https://localhost:%d", rep.About.Origin, r.port)
	}
	if status, _ := r.get("/whoami/"); status != 200 {
		t.Errorf("devstack up answered %d after doctor ran beside it", status)
	}
	if err := r.stop(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, rep = doctorJSON(t, dir, shared); rep.About.Via != "a short-lived stack" {
		t.Errorf("doctor after up stopped: via %q", rep.About.Via)
	}
}

// doctor asks a running devstack up before detecting anything, so it works
// beside an up started with flags it was not given: here the app is in a
// file no detection looks at, named by --app.
func TestDoctorBesideUpStartedWithFlags(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	cache := t.TempDir()
	dir := copyProject(t, "flask-app")
	if err := os.Rename(filepath.Join(dir, "app.py"), filepath.Join(dir, "server.py")); err != nil {
		t.Fatal(err)
	}
	r := startUp(t, upConfig{dir: dir, args: []string{"--app", "server:app"}, env: []string{"DEVSTACK_CACHE_DIR=" + cache}})
	code, rep := doctorJSON(t, dir, []string{"CAROOT=" + r.caroot, "DEVSTACK_CACHE_DIR=" + cache})
	if want := "the running devstack up (pid " + strconv.Itoa(r.cmd.Process.Pid) + ")"; code != 0 || rep.About.Via != want {
		t.Errorf("doctor beside up --app: exit %d, via %q; want 0 via %q", code, rep.About.Via, want)
	}
}

// devstack up runs the same checks once the app answers and again after
// each reload: a fix saved while it runs turns the failure into a pass.
// The checks' own requests are in the access log, marked, without the
// probe path's secret (issue 9: nothing that reaches the proxy is
// invisible).
func TestUpReportsTrustChecksAndTheirFix(t *testing.T) {
	testenv.SystemPython(t)
	dir := copyProject(t, "django-misconfig/wrong-proxy-header")
	r := startUp(t, upConfig{dir: dir})
	r.waitLine(`check proxy-ssl-header: fail: SECURE_PROXY_SSL_HEADER names the header as sent on the wire`, 30*time.Second)
	r.waitLine(`trust check: 1 failed, \d+ warnings, \d+ passed; devstack doctor explains each`, 30*time.Second)

	settings := filepath.Join(dir, "mysite", "settings.py")
	data, err := os.ReadFile(settings)
	if err != nil {
		t.Fatal(err)
	}
	fixed := strings.Replace(string(data), "('X-Forwarded-Proto', 'https')", "('HTTP_X_FORWARDED_PROTO', 'https')", 1)
	if fixed == string(data) {
		t.Fatal("the sample's wrong SECURE_PROXY_SSL_HEADER line was not found")
	}
	if err := os.WriteFile(settings, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitLine(`check proxy-ssl-header: pass`, 30*time.Second)
	r.waitLine(`trust check: (0 failed, |all \d+ passed)`, 30*time.Second)
	r.waitLine(`GET /\.devstack/probe/… 200 .*\(devstack's own check\)`, 10*time.Second)
	if secret := regexp.MustCompile(`/\.devstack/probe/[0-9a-f]`); secret.MatchString(r.output()) {
		t.Errorf("the probe path's secret is in the log:\n%s", r.output())
	}
}

// The project's other host names (hosts in devstack.toml) are checked
// against ALLOWED_HOSTS too, each as a browser using it would send it.
func TestDoctorChecksEveryConfiguredHost(t *testing.T) {
	testenv.SystemPython(t)
	dir := copyProject(t, "django-site")
	if err := os.WriteFile(filepath.Join(dir, "devstack.toml"), []byte(`hosts = ["myapp.test", "shop.test"]`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	settings := filepath.Join(dir, "mysite", "settings.py")
	data, err := os.ReadFile(settings)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), `ALLOWED_HOSTS = ["localhost", "127.0.0.1"]`,
		`ALLOWED_HOSTS = ["localhost", "127.0.0.1", "myapp.test"]`, 1)
	if edited == string(data) {
		t.Fatal("the sample's ALLOWED_HOSTS line was not found")
	}
	if err := os.WriteFile(settings, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	code, r := doctorJSON(t, dir, nil)
	var got doctor.Result
	for _, c := range r.Checks {
		if c.ID == doctor.IDAllowedHosts {
			got = c
		}
	}
	if code != 1 || got.Status != doctor.Fail || !strings.Contains(got.Summary, "shop.test:8080") ||
		strings.Contains(got.Summary, "myapp.test") || got.Fix != `add "shop.test" to ALLOWED_HOSTS` {
		t.Errorf("exit %d, allowed-hosts %+v; want a failure for shop.test only", code, got)
	}
}
