package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// checkForwarding asserts what every sample app must see behind devstack: a
// secure request, the browser's host and port, the real client address, and
// no effect from a scheme header the client forged.
func checkForwarding(t *testing.T, r *upRun) whoami {
	t.Helper()
	return checkForwardingLoopbackClient(t, r, false)
}

// checkForwardingLoopbackClient is checkForwarding for gateways that lose a
// client whose address is itself a trusted proxy address (uvicorn before
// its fix of encode/uvicorn#1068 reports the client as None: the browser
// and the proxy are both on 127.0.0.1 here).
func checkForwardingLoopbackClient(t *testing.T, r *upRun, clientMayBeLost bool) whoami {
	t.Helper()
	w := r.whoami()
	host := "localhost:" + strconv.Itoa(r.port)
	if !w.IsSecure || w.Scheme != "https" {
		t.Errorf("the app saw scheme %q, is_secure=%v; want https, true", w.Scheme, w.IsSecure)
	}
	if w.Host != host {
		t.Errorf("the app saw host %q (%s), want %q", w.Host, w.HostError, host)
	}
	if w.RemoteAddr != "127.0.0.1" && !(clientMayBeLost && w.RemoteAddr == "") {
		t.Errorf("the app saw client address %q, want 127.0.0.1", w.RemoteAddr)
	}
	forged := r.whoami("X-Forwarded-Proto", "http", "X-Forwarded-Host", "evil.example", "X-Forwarded-For", "6.6.6.6")
	if !forged.IsSecure || forged.Host != host {
		t.Errorf("forged forwarding headers reached the app: scheme %q, host %q", forged.Scheme, forged.Host)
	}
	if got := forged.Forwarded["X-Forwarded-For"]; strings.Contains(got, "6.6.6.6") {
		t.Errorf("a forged X-Forwarded-For reached the app: %q", got)
	}
	return w
}

func TestUpDjango(t *testing.T) {
	testenv.SystemPython(t)
	r := startUp(t, upConfig{project: "django-site"})
	w := checkForwarding(t, r)
	if w.Framework != "django" {
		t.Errorf("framework %q, want django", w.Framework)
	}
	if code, body := r.get("/"); code != http.StatusOK || !strings.Contains(body, "<form") {
		t.Errorf("GET /: %d, want the page with a form", code)
	}
	// The output names each process, and devstack's own lines.
	out := r.output()
	for _, want := range []string{"gunicorn | ", "proxy    | GET /whoami/ 200", "devstack | ready https://localhost:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// Django and gunicorn from Debian's newer suites, put on PYTHONPATH.
func TestUpDjangoNewerSuites(t *testing.T) {
	for _, tc := range []struct{ suite, django string }{{"trixie", "4.2"}, {"sid", "5.2"}} {
		t.Run(tc.suite, func(t *testing.T) {
			pythonpath := testenv.PythonSuite(t, tc.suite)
			r := startUp(t, upConfig{project: "django-site", env: []string{"PYTHONPATH=" + pythonpath}})
			w := checkForwarding(t, r)
			if !strings.HasPrefix(w.DjangoVersion, tc.django) {
				t.Errorf("Django %s served the request, want %s from %s", w.DjangoVersion, tc.django, tc.suite)
			}
		})
	}
}

func TestUpFlask(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	r := startUp(t, upConfig{project: "flask-app"})
	if w := checkForwarding(t, r); w.Framework != "flask" {
		t.Errorf("framework %q, want flask", w.Framework)
	}
}

func TestUpASGI(t *testing.T) {
	testenv.PythonWith(t, "starlette", "uvicorn")
	r := startUp(t, upConfig{project: "asgi-app"})
	if w := checkForwardingLoopbackClient(t, r, uvicornLosesLoopbackClient(t)); w.Framework != "starlette" {
		t.Errorf("framework %q, want starlette", w.Framework)
	}
	if !regexp.MustCompile(`(?m)^uvicorn +\| `).MatchString(r.output()) {
		t.Error("no uvicorn lines in the output")
	}
}

// After a clean stop no process devstack started is alive and both ports are
// free.
func TestUpStopLeavesNothing(t *testing.T) {
	testenv.SystemPython(t)
	r := startUp(t, upConfig{project: "django-site"})
	appPort := strconv.Itoa(r.appPort)
	if len(pidsOf("gunicorn", appPort)) == 0 {
		t.Fatal("no gunicorn process found while running")
	}
	if err := r.stop(20 * time.Second); err != nil {
		t.Fatalf("devstack up after SIGINT: %v (want exit 0)", err)
	}
	if pids := pidsOf("gunicorn", appPort); len(pids) > 0 {
		t.Errorf("gunicorn still running after devstack stopped: %v", pids)
	}
	if listening(r.port) || listening(r.appPort) {
		t.Errorf("a port is still open after stop (proxy %v, app %v)", listening(r.port), listening(r.appPort))
	}
}

// kill -9 of devstack, or closing its terminal (SIGHUP), leaves no process
// it started and frees its ports within a few seconds: with Linux's
// Pdeathsig, and through the guard alone, as on macOS, with Pdeathsig
// switched off. The Procfile process is a pipeline, whose members
// Pdeathsig alone would leave behind.
func TestUpKilledOrHungUpLeavesNothing(t *testing.T) {
	if _, err := os.Stat("/proc/self"); err != nil {
		t.Skip("needs /proc (Linux) to find the processes")
	}
	testenv.SystemPython(t)
	for _, tc := range []struct {
		name      string
		sig       syscall.Signal
		pdeathsig bool
	}{
		{"kill -9", syscall.SIGKILL, true},
		{"kill -9 without Pdeathsig", syscall.SIGKILL, false},
		{"SIGHUP without Pdeathsig", syscall.SIGHUP, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyProject(t, "django-site")
			marker := strconv.Itoa(3000 + rand.IntN(5000))
			procfile := "ticker: sleep " + marker + " | cat\n"
			if err := os.WriteFile(filepath.Join(dir, "Procfile.dev"), []byte(procfile), 0o644); err != nil {
				t.Fatal(err)
			}
			var env []string
			if !tc.pdeathsig {
				env = append(env, "DEVSTACK_TESTONLY_NO_PDEATHSIG=1")
			}
			r := startUp(t, upConfig{dir: dir, env: env})
			appPort := strconv.Itoa(r.appPort)
			eventually(t, 10*time.Second, "the Procfile pipeline running", func() bool { return len(pidsOf("sleep", marker)) > 0 })
			if len(pidsOf("gunicorn", appPort)) == 0 {
				t.Fatal("no gunicorn process found while running")
			}
			sent := time.Now()
			r.cmd.Process.Signal(tc.sig)
			select {
			case <-r.exited:
			case <-time.After(20 * time.Second):
				t.Fatalf("devstack still running 20s after %s", tc.sig)
			}
			if tc.sig == syscall.SIGHUP && r.exitErr != nil {
				t.Errorf("devstack up after SIGHUP: %v, want a clean stop (exit 0)", r.exitErr)
			}
			const within = 5 * time.Second
			eventually(t, within, "gunicorn gone", func() bool { return len(pidsOf("gunicorn", appPort)) == 0 })
			eventually(t, within, "the Procfile pipeline gone", func() bool { return len(pidsOf("sleep", marker)) == 0 })
			eventually(t, within, "both ports free", func() bool { return !listening(r.port) && !listening(r.appPort) })
			t.Logf("%s: everything gone and both ports free %s after the signal", tc.name, time.Since(sent).Round(10*time.Millisecond))
		})
	}
}

// When even the guard could not act (here: switched off, with Pdeathsig),
// a killed devstack's gateway keeps its port; the next up for the same
// project stops it, says so, and starts on the same ports.
func TestUpStopsWhatAKilledUpLeftBehind(t *testing.T) {
	if _, err := os.Stat("/proc/self"); err != nil {
		t.Skip("needs /proc (Linux) to find the processes")
	}
	testenv.SystemPython(t)
	dir := copyProject(t, "django-site")
	cache := t.TempDir()
	env := []string{"DEVSTACK_CACHE_DIR=" + cache, "DEVSTACK_TESTONLY_NO_GUARD=1", "DEVSTACK_TESTONLY_NO_PDEATHSIG=1"}
	first := startUp(t, upConfig{dir: dir, env: env})
	appPort := strconv.Itoa(first.appPort)
	t.Cleanup(func() {
		for _, pid := range pidsOf("gunicorn", appPort) {
			syscall.Kill(-pid, syscall.SIGKILL)
		}
	})
	first.cmd.Process.Signal(syscall.SIGKILL)
	<-first.exited
	time.Sleep(time.Second)
	if !listening(first.appPort) {
		t.Fatal("with neither the guard nor Pdeathsig, gunicorn should have outlived devstack")
	}

	second := startUp(t, upConfig{dir: dir, env: env, port: first.port, appPort: first.appPort, caroot: first.caroot})
	if !strings.Contains(second.output(), "left running by an earlier devstack up that was killed") {
		t.Errorf("the second up did not say it stopped the first one's gunicorn:\n%s", second.output())
	}
	checkForwarding(t, second)
}

// A gateway that crashes while serving is restarted, and the cause is shown.
func TestUpRestartsACrashedGateway(t *testing.T) {
	testenv.SystemPython(t)
	r := startUp(t, upConfig{project: "django-site"})
	masters := pidsOf("gunicorn", "--bind", strconv.Itoa(r.appPort))
	if len(masters) == 0 {
		t.Fatal("no gunicorn found")
	}
	mark := r.lineCount()
	syscall.Kill(masters[0], syscall.SIGKILL)
	syscall.Kill(-masters[0], syscall.SIGKILL)
	r.waitLineAfter(mark, `gunicorn .*(crashed|killed by SIGKILL)`, 20*time.Second)
	r.waitLineAfter(mark, `worker booted`, 30*time.Second)
	checkForwarding(t, r)
}

// A SyntaxError at import keeps the proxy up, serving the traceback, and the
// next save that fixes it brings the app back without a manual restart.
func TestUpImportErrorShowsTracebackAndRecovers(t *testing.T) {
	testenv.SystemPython(t)
	dir := copyProject(t, "django-site")
	settings := filepath.Join(dir, "mysite", "settings.py")
	good, err := os.ReadFile(settings)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(settings, append(good, []byte("\ndef broken(:\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	r := launchUp(t, upConfig{dir: dir})
	r.waitLine(`gateway failed to start`, 60*time.Second)

	code, body := r.get("/whoami/", "Accept", "text/plain")
	if code != http.StatusBadGateway || !strings.Contains(body, "SyntaxError") {
		t.Fatalf("while the app cannot load: %d, want 502 with the SyntaxError\n%s", code, body)
	}
	if strings.Contains(r.output(), "ready https://") {
		t.Error("ready was announced although the app never loaded")
	}
	if !strings.Contains(body, "Fix the error below") {
		t.Errorf("the 502 page does not point at the error under it:\n%s", body)
	}
	// The access log line has nothing under it: it points back at the
	// gateway's lines.
	access := r.waitLine(`GET /whoami/ 502 `, 10*time.Second)
	if strings.Contains(access, "error below") || !strings.Contains(access, "its error is in the gunicorn log lines just before") {
		t.Errorf("access log line %q, want it to say the error is in gunicorn's lines just before", access)
	}

	if err := os.WriteFile(settings, good, 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitLine(`ready https://localhost:`+strconv.Itoa(r.port), 60*time.Second)
	checkForwarding(t, r)
}

// uvicornLosesLoopbackClient reports whether the uvicorn the system Python
// has predates the fix of encode/uvicorn#1068 (0.30): when every address in
// X-Forwarded-For is trusted, it sets the client to None.
func uvicornLosesLoopbackClient(t *testing.T) bool {
	python := testenv.PythonWith(t, "uvicorn")
	out, err := exec.Command(python, "-c", "import uvicorn; print(uvicorn.__version__)").Output()
	if err != nil {
		t.Fatal(err)
	}
	var major, minor int
	fmt.Sscanf(strings.TrimSpace(string(out)), "%d.%d", &major, &minor)
	return major == 0 && minor < 30
}

// The project's own gunicorn.conf.py is used unchanged: its two workers and
// its hook run under devstack.
func TestUpHonoursTheProjectsGunicornConf(t *testing.T) {
	testenv.SystemPython(t)
	r := startUp(t, upConfig{project: "django-site-gunicornconf"})
	r.waitLine(`sample gunicorn.conf.py: post_worker_init pid=`, 30*time.Second)
	eventually(t, 30*time.Second, "both workers of the project's config booted", func() bool {
		return countLines(r.output(), `sample gunicorn.conf.py: post_worker_init`) >= 2
	})
	checkForwarding(t, r)
}

// `-- COMMAND` replaces the detected gateway; {port} is the app port.
func TestUpCustomCommand(t *testing.T) {
	python := testenv.SystemPython(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("served by a custom command\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startUp(t, upConfig{dir: dir, args: []string{"--", python, "-m", "http.server", "--bind", "127.0.0.1", "{port}"}})
	if code, body := r.get("/index.html"); code != http.StatusOK || !strings.Contains(body, "custom command") {
		t.Errorf("GET /index.html: %d %q", code, body)
	}
}

// Procfile.dev processes run and log beside the gateway, with the project's
// .env in their environment (and not in devstack's own).
func TestUpRunsProcfileProcessesWithDotenv(t *testing.T) {
	testenv.SystemPython(t)
	dir := copyProject(t, "flask-app")
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".env", "GREETING=hello from the env file\n")
	write("Procfile.dev", "ticker: sh -c 'echo \"ticker says: $GREETING\"; exec sleep 600'\n")
	r := startUp(t, upConfig{dir: dir})
	r.waitLine(`^ticker +\| ticker says: hello from the env file$`, 30*time.Second)
	if os.Getenv("GREETING") != "" {
		t.Skip("GREETING is set in the test's own environment")
	}
}
