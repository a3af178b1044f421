package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
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

// echoApp is a Flask app that logs what a client sends, as many apps do,
// and says which version of itself answers.
const echoApp = `import sys
from flask import Flask, request

app = Flask(__name__)


@app.get('/')
def index():
    return 'VERSION'


@app.get('/log')
def log():
    sys.stderr.write(request.args.get('msg', '') + '\n')  # one write
    return 'logged'
`

func writeEchoApp(t *testing.T, dir, version string) {
	t.Helper()
	app := strings.Replace(echoApp, "VERSION", version, 1)
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Issue 9: an app that logs a client's input must not be able to fake the
// gunicorn wrapper's markers. Before, a forged "ready … reload=restart" and
// "worker booted … generation=99" turned the next save into a restart that
// then waited out its 60 s timeout for a generation that never comes.
func TestForgedMarkerInAppOutputChangesNothing(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := t.TempDir()
	writeEchoApp(t, dir, "version-1")
	r := startUp(t, upConfig{dir: dir})

	for _, forged := range []string{
		"devstack-gateway: ready pid=1 generation=1 gunicorn=20.1.0 reload=restart",
		"devstack-gateway: worker booted pid=1 generation=99",
	} {
		mark := r.lineCount()
		if code, body := r.get("/log?msg=" + url.QueryEscape(forged)); code != http.StatusOK {
			t.Fatalf("GET /log: %d %s", code, body)
		}
		r.waitLineAfter(mark, `gunicorn +\| `+forged, 10*time.Second)
	}

	mark := r.lineCount()
	writeEchoApp(t, dir, "version-2")
	r.waitLineAfter(mark, `reloading \(standby\): app.py`, 30*time.Second)
	r.waitLineAfter(mark, `reloaded in \S+: app.py`, 30*time.Second)
	// A worker of the old generation may answer a moment longer, until
	// the master has told it to stop.
	eventually(t, 10*time.Second, "version-2 to answer", func() bool {
		code, body := r.get("/")
		return code == http.StatusOK && body == "version-2"
	})
}

// postApp answers POSTs, and has a slow POST and a slow GET that say on
// stderr when they start, so a test can tell how often each ran.
const postApp = `import sys, time
from flask import Flask, request

app = Flask(__name__)


@app.post('/echo')
def echo():
    return str(len(request.get_data()))


@app.post('/slow')
def slow_post():
    # One write: print() writes its arguments apart, and another worker's
    # line could land between them.
    sys.stderr.write('slow view ran: POST ' + request.args.get('id', '') + '\n')
    time.sleep(float(request.args.get('s', '6')))
    return 'slow post done ' + str(len(request.get_data()))


@app.get('/slow')
def slow_get():
    sys.stderr.write('slow view ran: GET ' + request.args.get('id', '') + '\n')
    time.sleep(float(request.args.get('s', '3')))
    return 'slow get done'
`

// Issue 9: a restart (here an .env change) never fails a request. Before,
// the old gateway was SIGKILLed 5 s after SIGTERM whatever its own
// graceful_timeout, so a 6 s POST in flight got a 502 and a GET in flight
// was sent again to the new gateway (its view ran twice), and POSTs that
// reached the stopping gateway's listen queue were reset.
func TestRestartFailsNoRequest(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("app.py", postApp)
	// Enough workers that the slow views leave room for the load.
	write("gunicorn.conf.py", "workers = 4\n")
	write(".env", "RESTART=0\n")
	r := startUp(t, upConfig{dir: dir})
	client := r.httpsClient()

	post := func(path string, body string) (int, string, error) {
		resp, err := client.Post(r.url(path), "text/plain", strings.NewReader(body))
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}

	var sent, failed atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var load sync.WaitGroup
	body := strings.Repeat("x", 1000)
	for range 8 {
		load.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				sent.Add(1)
				code, got, err := post("/echo", body)
				if err == nil && (code != http.StatusOK || got != "1000") {
					err = fmt.Errorf("status %d: %.300s", code, got)
				}
				if err != nil {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}

	var slow sync.WaitGroup
	slowResults := make([]string, 2)
	for i := range 2 {
		mark := r.lineCount()
		slow.Go(func() {
			code, got, err := post(fmt.Sprintf("/slow?id=post-%d&s=6", i), "abc")
			slowResults[i] = fmt.Sprintf("%d %s %v", code, got, err)
		})
		slow.Go(func() {
			resp, err := client.Get(r.url(fmt.Sprintf("/slow?id=get-%d&s=3", i)))
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || string(b) != "slow get done" {
					err = fmt.Errorf("status %d: %.300s", resp.StatusCode, b)
				}
			}
			if err != nil {
				failed.Add(1)
				firstFailure.CompareAndSwap(nil, "slow GET: "+err.Error())
			}
		})
		// Both slow views are running when the restart begins.
		r.waitLineAfter(mark, fmt.Sprintf(`slow view ran: POST post-%d`, i), 30*time.Second)
		r.waitLineAfter(mark, fmt.Sprintf(`slow view ran: GET get-%d`, i), 30*time.Second)
		write(".env", fmt.Sprintf("RESTART=%d\n", i+1))
		r.waitLineAfter(mark, `reloading \(restart\)`, 30*time.Second)
		r.waitLineAfter(mark, `reloaded in \S+: .*\.env`, 90*time.Second)
	}
	slow.Wait()
	close(stop)
	load.Wait()

	for i, got := range slowResults {
		if want := "200 slow post done 3 <nil>"; got != want {
			t.Errorf("slow POST %d in flight during a restart: got %q, want %q", i, got, want)
		}
	}
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed across 2 restarts; first: %v", n, sent.Load(), firstFailure.Load())
	}
	// Most of the time the load is held at the proxy (while the slow
	// views finish and the gateway restarts): a few dozen is all it sends,
	// fewer on a busy machine; each of the 8 senders sent twice at least.
	if sent.Load() < 16 {
		t.Errorf("only %d POSTs were sent: the load did not overlap the restarts", sent.Load())
	}
	out := r.output()
	for i := range 2 {
		for _, view := range []string{"POST post", "GET get"} {
			line := fmt.Sprintf("slow view ran: %s-%d", view, i)
			if n := strings.Count(out, line); n != 1 {
				t.Errorf("%q appears %d times: the request reached the app %d times, want once", line, n, n)
			}
		}
	}
	t.Logf("%d POSTs across 2 restarts, %d failed", sent.Load(), failed.Load())
}

// Issue 9: 200,000 lines from a Procfile.dev process through up --no-tui,
// with the output going to a file, arrived short by tens of thousands, and
// the "skipped" count was wrong. In plain mode no line is lost.
func TestPlainOutputLosesNoLine(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	const lines = 200_000
	dir := t.TempDir()
	writeEchoApp(t, dir, "v")
	if err := os.WriteFile(filepath.Join(dir, "Procfile.dev"), []byte(fmt.Sprintf("lines: seq 1 %d\n", lines)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(t.TempDir(), "up.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	port, appPort := freePort(t), freePort(t)
	cmd := exec.Command(devstackBinary(t), "up", "--dir", dir, "--no-tui", "--no-watch",
		"--port", strconv.Itoa(port), "--app-port", strconv.Itoa(appPort))
	cmd.Env = append(os.Environ(), "CAROOT="+t.TempDir(), "NO_COLOR=1", "DEVSTACK_CACHE_DIR="+t.TempDir())
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
		}
	})

	lineRE := regexp.MustCompile(`(?m)^lines +\| (\d*)$`)
	var data []byte
	// Its exit is told once its output has been read to the end.
	eventually(t, 2*time.Minute, "the process to exit", func() bool {
		data, _ = os.ReadFile(out.Name())
		return regexp.MustCompile(`(?m)^lines +\| exited \(exit code 0\)$`).Match(data)
	})
	_ = syscall.Kill(cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("devstack up did not stop within 30 s of SIGINT")
	}
	data, _ = os.ReadFile(out.Name())
	// Every number, in order. A line the process's block buffer cut in
	// two may (on a very busy machine) come as two pieces: that loses
	// nothing, and is counted apart.
	next, piece, split := 1, "", 0
	for _, m := range lineRE.FindAllSubmatch(data, -1) {
		text := piece + string(m[1])
		want := strconv.Itoa(next)
		switch {
		case text == want:
			next, piece = next+1, ""
		case strings.HasPrefix(want, text):
			piece = text
			split++
		default:
			t.Fatalf("after line %d the process's output has %q: lines were lost or reordered", next-1, text)
		}
	}
	if next-1 != lines || piece != "" {
		t.Errorf("%d of %d lines reached the output", next-1, lines)
	}
	if split > 0 {
		t.Logf("%d lines came in two pieces", split)
	}
	if regexp.MustCompile(`skipped \d+ lines`).Match(data) {
		t.Errorf("plain output says it skipped lines")
	}
}

// Issue 9: a gateway killed after it booted but before it served a request
// (here: right after a restart, with no request since) stayed down with
// "fix the error below" and no error to fix. It is a crash: devstack starts
// it again.
func TestGatewayKilledBeforeItsFirstRequestIsRestarted(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := t.TempDir()
	writeEchoApp(t, dir, "v1")
	dotenv := filepath.Join(dir, ".env")
	if err := os.WriteFile(dotenv, []byte("A=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startUp(t, upConfig{dir: dir})
	mark := r.lineCount()
	if err := os.WriteFile(dotenv, []byte("A=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitLineAfter(mark, `reloaded in \S+: .*\.env`, 60*time.Second)

	// The master devstack started last (its workers have the same command
	// line).
	running := regexp.MustCompile(`(?m)^gunicorn +\| running \(pid (\d+)\)$`).FindAllStringSubmatch(r.output(), -1)
	master, _ := strconv.Atoi(running[len(running)-1][1])
	mark = r.lineCount()
	_ = syscall.Kill(master, syscall.SIGKILL)
	r.waitLineAfter(mark, `gunicorn +\| crashed \(killed by SIGKILL\)`, 20*time.Second)
	r.waitLineAfter(mark, `gunicorn +\| restarting in`, 20*time.Second)
	r.waitLineAfter(mark, `worker booted`, 30*time.Second)
	if code, body := r.get("/"); code != http.StatusOK || body != "v1" {
		t.Errorf("after the crash: %d %q, want 200 v1", code, body)
	}
	if strings.Contains(r.output(), "failed to start") {
		t.Errorf("a gateway killed after it booted was taken for one that failed to start")
	}
}

// Issue 9: a cache directory that cannot be written stopped devstack up.
// The HTTPS certificate is served from memory, with a warning.
func TestUpWithAnUnwritableCacheDirectory(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := t.TempDir()
	writeEchoApp(t, dir, "v1")
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("not a directory"), 0o444); err != nil {
		t.Fatal(err)
	}
	r := startUp(t, upConfig{dir: dir, env: []string{"DEVSTACK_CACHE_DIR=" + filepath.Join(notADir, "cache")}})
	r.waitLine(`devstack: warning: the HTTPS certificate could not be kept in .*; it is served from memory`, 10*time.Second)
	if code, body := r.get("/"); code != http.StatusOK || body != "v1" {
		t.Errorf("GET /: %d %q, want 200 v1", code, body)
	}
}

// Issue 9: up --port 0 silently used 8080. It picks a free port, as
// devstack proxy --port 0 does, and says which.
func TestUpPortZeroPicksAFreePort(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := t.TempDir()
	writeEchoApp(t, dir, "v1")
	r := launchUp(t, upConfig{dir: dir, args: []string{"--port", "0"}})
	line := r.waitLine(`^devstack: the proxy listens on port \d+, a free one \(--port 0\)$`, 60*time.Second)
	port, err := strconv.Atoi(regexp.MustCompile(`\d+`).FindString(line))
	if err != nil || port == 0 || port == 8080 {
		t.Fatalf("port %d (%v) from %q", port, err, line)
	}
	r.port = port
	r.waitLine(`ready https://localhost:`+strconv.Itoa(port)+`\b`, 60*time.Second)
	if code, body := r.get("/"); code != http.StatusOK || body != "v1" {
		t.Errorf("GET / on port %d: %d %q, want 200 v1", port, code, body)
	}
}

// Issue 9: a second up in the same project started silently, and when it
// stopped it removed the first one's run record, so doctor no longer found
// the stack still running. It warns, naming the first, and each run keeps
// its own record.
func TestSecondUpWarnsAndKeepsTheFirstOnesRecord(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := t.TempDir()
	writeEchoApp(t, dir, "v1")
	cache := t.TempDir()
	env := []string{"DEVSTACK_CACHE_DIR=" + cache}
	first := startUp(t, upConfig{dir: dir, env: env})
	records := func() []string {
		found, _ := filepath.Glob(filepath.Join(cache, "running", "*", "*.json"))
		return found
	}
	eventually(t, 10*time.Second, "the first up's run record", func() bool { return len(records()) == 1 })

	second := startUp(t, upConfig{dir: dir, env: env})
	second.waitLine(fmt.Sprintf(`^devstack: warning: another devstack up runs for this project \(pid %d, https://localhost:%d\)`,
		first.cmd.Process.Pid, first.port), 10*time.Second)
	eventually(t, 10*time.Second, "a record for each up", func() bool { return len(records()) == 2 })
	if err := second.stop(20 * time.Second); err != nil {
		t.Fatalf("stopping the second up: %v", err)
	}
	left := records()
	if len(left) != 1 || filepath.Base(left[0]) != strconv.Itoa(first.cmd.Process.Pid)+".json" {
		t.Errorf("records after the second up stopped: %v, want the first one's", left)
	}
	if code, body := first.get("/"); code != http.StatusOK || body != "v1" {
		t.Errorf("the first up after the second stopped: %d %q", code, body)
	}
}

// Once devstack says "reloaded", only the new code answers: a request sent
// right after it never reaches a worker of the older generation (before,
// one could, until the master had told those to stop).
func TestReloadedMeansOnlyTheNewCodeAnswers(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := t.TempDir()
	writeEchoApp(t, dir, "version-0")
	if err := os.WriteFile(filepath.Join(dir, "gunicorn.conf.py"), []byte("workers = 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startUp(t, upConfig{dir: dir})
	for i := 1; i <= 4; i++ {
		want := fmt.Sprintf("version-%d", i)
		mark := r.lineCount()
		writeEchoApp(t, dir, want)
		r.waitLineAfter(mark, `reloaded in \S+: app.py`, 60*time.Second)
		for range 6 {
			if code, body := r.get("/"); code != http.StatusOK || body != want {
				t.Fatalf("right after reload %d: %d %q, want 200 %s", i, code, body, want)
			}
		}
	}
}
