package templates

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// copyTestdata copies the sample project name into a new temporary
// directory, so a test can edit its code.
func copyTestdata(t *testing.T, name string) string {
	t.Helper()
	src := testdataDir(t, name)
	dst := filepath.Join(t.TempDir(), name)
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == "__pycache__" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// uvicornSupervisor starts the project's uvicorn command as devstack runs
// it: `-m devstack_uvicorn` with uvicorn's arguments, the probe's entry
// module wrapping target, and the control FIFO for reload requests.
func uvicornSupervisor(t *testing.T, python, dir, target string, preimport []string) (*gateway, string) {
	t.Helper()
	control := filepath.Join(t.TempDir(), "control")
	g := startGateway(t, gatewaySpec{
		python: python, dir: dir, pythonpath: runDir(t),
		env: []string{EnvProbePath + "=" + testProbePath, EnvASGIApp + "=" + target,
			EnvGatewayControl + "=" + control, EnvPreimport + "=" + strings.Join(preimport, ",")},
		args: []string{"-m", UvicornModule, ASGIApp, "--fd", "{fd}"},
	})
	return g, control
}

var standbyForkedRE = regexp.MustCompile(`^devstack-gateway: standby forked pid=(\d+)`)

// waitStandby waits for the supervisor's next standby from line from.
func (g *gateway) waitStandby(from int) (int, int) {
	g.t.Helper()
	var pid int
	i := g.waitLine(from, "a standby", func(l string) bool {
		m := standbyForkedRE.FindStringSubmatch(l)
		if m != nil {
			pid, _ = strconv.Atoi(m[1])
		}
		return m != nil
	})
	return pid, i
}

// waitServing asks /whoami/ until the answer holds want: the older
// generation may answer a last request while it stops. It fails after 5 s.
func (g *gateway) waitServing(want string) {
	g.t.Helper()
	var body []byte
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, body = g.get("/whoami/", nil); strings.Contains(string(body), want) {
			return
		}
	}
	g.t.Errorf("/whoami/ still answers %s, want %s", body, want)
}

// setFastAPIMarker rewrites the sample's 'marker' entry.
func setFastAPIMarker(t *testing.T, dir, marker string) {
	t.Helper()
	path := filepath.Join(dir, "main.py")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := regexp.MustCompile(`'marker': '[^']*'`).ReplaceAllString(string(data), "'marker': '"+marker+"'")
	if edited == string(data) {
		t.Fatalf("%s has no 'marker' entry", path)
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A reload request is served by the standby process: forked once the first
// generation serves, it imports the edited app, takes over the shared
// socket, and the older process stops gracefully. Clients sending requests
// throughout see no failure. Two requests in a row: the newest generation
// wins. A new
// generation that cannot import the app ends the supervisor with uvicorn's
// startup-failure code, and nothing it started stays behind.
func TestUvicornStandbyReload(t *testing.T) {
	python := testenv.PythonWith(t, "uvicorn", "fastapi", "jinja2")
	dir := copyTestdata(t, "fastapi-app")
	g, control := uvicornSupervisor(t, python, dir, "main:app", FastAPIPreimport)
	ready, _ := g.waitMarker(0, MarkerReady, 1)
	if ready.Reload != ReloadStandby {
		t.Fatalf("ready marker: reload=%q, want %q", ready.Reload, ReloadStandby)
	}
	first, _ := g.waitMarker(0, MarkerWorkerBooted, 1)
	standby, _ := g.waitStandby(0)

	var requests, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// A new connection per request: a server that closes an idle
	// keep-alive connection races a client sending on it (any HTTP/1.1
	// server, whatever reloads it); devstack's proxy sends a safe request
	// again when that happens. What this test pins is that no request
	// the gateway accepted fails while the standby takes over.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get("http://" + g.addr + "/whoami/")
				if err == nil {
					if resp.StatusCode != http.StatusOK {
						err = errors.New(resp.Status)
					}
					resp.Body.Close()
				}
				requests.Add(1)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}

	setFastAPIMarker(t, dir, "second")
	mark := g.lineCount()
	g.requestReload(control)
	g.waitReloading(mark, 2, "standby")
	booted, _ := g.waitMarker(mark, MarkerWorkerBooted, 2)
	if booted.PID != standby {
		t.Errorf("generation 2 booted in %d, want the standby %d", booted.PID, standby)
	}
	// The supervisor says when the older process was told to stop:
	// devstack's reload ends there.
	g.waitMarker(mark, MarkerRetired, 2)
	waitGone(t, first.PID)
	if _, body := g.get("/whoami/", nil); !strings.Contains(string(body), `"marker":"second"`) {
		t.Errorf("after the reload: %s, want the edited marker", body)
	}
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 || requests.Load() == 0 {
		t.Errorf("%d of %d requests failed during the reload (first: %v)", n, requests.Load(), firstErr.Load())
	}

	// Two requests in a row, once the next standby is there.
	g.waitStandby(mark + 1)
	setFastAPIMarker(t, dir, "fourth")
	mark = g.lineCount()
	g.requestReload(control)
	g.waitReloading(mark, 3, "standby")
	g.requestReload(control)
	// Via the standby or a fork, depending on whether generation 3 booted
	// (and a new standby forked) before the second request was read.
	g.waitMarker(mark, MarkerReloading, 4)
	g.waitMarker(mark, MarkerWorkerBooted, 4)
	g.waitServing(`"marker":"fourth"`)

	// Broken code: the supervisor stops everything and says the server
	// could not start.
	standby, _ = g.waitStandby(mark)
	if err := os.WriteFile(filepath.Join(dir, "main.py"), []byte("def broken(:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g.requestReload(control)
	select {
	case <-g.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the supervisor still runs 30 s after a generation failed to import")
	}
	if code := g.cmd.ProcessState.ExitCode(); code != 3 {
		t.Errorf("exit code after a failed import: %d, want 3 (uvicorn's startup failure)", code)
	}
	waitGone(t, standby)
}

// SIGTERM to the supervisor alone (devstack signals the leader) stops every
// process it started, gracefully, and it exits 0 as uvicorn would.
func TestUvicornSupervisorStops(t *testing.T) {
	python := testenv.PythonWith(t, "uvicorn", "starlette")
	g, _ := uvicornSupervisor(t, python, testdataDir(t, "asgi-app"), "app:app", StarlettePreimport)
	serving, _ := g.waitMarker(0, MarkerWorkerBooted, 1)
	standby, _ := g.waitStandby(0)
	if status, body := g.get("/whoami/", nil); status != 200 || !strings.Contains(string(body), `"framework":"starlette"`) {
		t.Fatalf("/whoami/: %d %s", status, body)
	}
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("the supervisor still runs 15 s after SIGTERM")
	}
	if code := g.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code after SIGTERM: %d, want 0", code)
	}
	waitGone(t, serving.PID)
	waitGone(t, standby)
	if _, ok := g.find(0, func(l string) bool { return strings.Contains(l, "Application shutdown complete") }); !ok {
		t.Error("the serving process did not run the lifespan shutdown")
	}
}

// A serving process that ends by itself is replaced, as uvicorn's workers
// are; when they keep ending, the supervisor stops (exit code 1) rather
// than fork them again and again, and devstack's backoff takes over.
func TestUvicornSupervisorStopsReplacingCrashingProcesses(t *testing.T) {
	python := testenv.PythonWith(t, "uvicorn")
	dir := t.TempDir()
	app := `import os


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/die":
        os._exit(1)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"alive"})
`
	if err := os.WriteFile(filepath.Join(dir, "crashy.py"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	g, _ := uvicornSupervisor(t, python, dir, "crashy:app", nil)
	first, _ := g.waitMarker(0, MarkerWorkerBooted, 1)
	// The first crash is replaced: the app answers again.
	g.tryGet("/die")
	g.waitLine(0, "a replacement", func(l string) bool {
		m, ok := ParseMarker(l)
		return ok && m.Kind == MarkerWorkerBooted && m.PID != first.PID
	})
	if status, body := g.get("/", nil); status != 200 || string(body) != "alive" {
		t.Fatalf("after one crash: %d %q", status, body)
	}
	// Then they keep crashing.
	deadline := time.After(60 * time.Second)
	for {
		select {
		case <-g.exited:
			if code := g.cmd.ProcessState.ExitCode(); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			return
		case <-deadline:
			t.Fatal("the supervisor still replaces crashing processes after 60 s")
		default:
		}
		g.tryGet("/die")
		time.Sleep(50 * time.Millisecond)
	}
}

// tryGet sends GET path and ignores how it ends (the server may drop it).
func (g *gateway) tryGet(path string) {
	client := &http.Client{Timeout: 5 * time.Second}
	if resp, err := client.Get("http://" + g.addr + path); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// A kept-alive connection to the older process (as devstack's proxy keeps
// them) is closed once the new generation serves, not after the older
// one's drain wait for requests still on their way: a client polling over
// it gets the new code well within that wait.
func TestUvicornReloadClosesKeptAliveConnections(t *testing.T) {
	python := testenv.PythonWith(t, "uvicorn", "starlette")
	dir := copyTestdata(t, "asgi-app")
	g, control := uvicornSupervisor(t, python, dir, "app:app", StarlettePreimport)
	g.waitMarker(0, MarkerWorkerBooted, 1)
	g.waitStandby(0)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	get := func() string {
		resp, err := client.Get("http://" + g.addr + "/whoami/")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	get() // the connection is kept alive to generation 1

	path := filepath.Join(dir, "app.py")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "'framework': 'starlette',", "'framework': 'starlette', 'marker': 'kept-alive',", 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	mark := g.lineCount()
	g.requestReload(control)
	g.waitMarker(mark, MarkerWorkerBooted, 2)
	booted := time.Now()
	for !strings.Contains(get(), `"marker":"kept-alive"`) {
		if time.Since(booted) > 5*time.Second {
			t.Fatal("the kept-alive client never got the new code")
		}
		time.Sleep(2 * time.Millisecond)
	}
	// The drain wait is 200 ms; closing used connections takes one 10 ms
	// turn of it.
	if d := time.Since(booted); d > 150*time.Millisecond {
		t.Errorf("the kept-alive client got the new code %s after generation 2 served; want well within the 200 ms drain wait", d.Round(time.Millisecond))
	}
}
