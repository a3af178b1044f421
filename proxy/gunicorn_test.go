package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/procattr"
	"github.com/devstack-dev/devstack/internal/testenv"
)

// systemPython is Debian's interpreter, the one with gunicorn installed.
const systemPython = "/usr/bin/python3"

const wsgiApp = `
def app(environ, start_response):
    body = environ["wsgi.input"].read()
    if environ["PATH_INFO"].startswith("/answer"):
        answer = ("answer " + environ["PATH_INFO"]).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(answer)))])
        return [answer]
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ["PATH_INFO"].endswith("/environ"):
        return [("SCRIPT_NAME=%r PATH_INFO=%r" % (environ["SCRIPT_NAME"], environ["PATH_INFO"])).encode()]
    return [b"ok %d" % len(body)]
`

// startGunicorn runs one sync gunicorn worker on a free loopback port and
// returns its address; args are added to gunicorn's own (the last
// --worker-class wins).
func startGunicorn(t *testing.T, args ...string) string {
	t.Helper()
	if err := exec.Command(systemPython, "-c", "import gunicorn").Run(); err != nil {
		testenv.Missing(t, "%s -m gunicorn: %v (install: apt-get install gunicorn)", systemPython, err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slowapp.py"), []byte(wsgiApp), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	var logs bytes.Buffer
	argv := append([]string{"-m", "gunicorn", "--workers", "1", "--worker-class", "sync",
		"--bind", addr, "--chdir", dir, "--timeout", "120"}, args...)
	cmd := exec.Command(systemPython, append(argv, "slowapp:app")...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = procattr.Group()
	exited := testenv.StartGroup(t, cmd, 5*time.Second)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr
		}
		select {
		case <-exited:
			t.Fatalf("gunicorn exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("gunicorn did not listen on %s within 20s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSlowUploadDoesNotBlockSyncWorker is the reason request bodies are
// buffered: a client trickling an upload must not hold gunicorn's only sync
// worker. The GET must be answered while the upload is still trickling in.
func TestSlowUploadDoesNotBlockSyncWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("trickles an upload for 10 s")
	}
	addr := startGunicorn(t)
	tp := startProxy(t, "http://"+addr, Config{})

	const size, perSecond = 20, 2 // 10 s of upload
	conn := tp.dialTLS("http/1.1")
	fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n", size)
	uploadDone := make(chan time.Time, 1)
	go func() {
		for i := 0; i < size; i += perSecond {
			time.Sleep(time.Second)
			conn.Write(bytes.Repeat([]byte("x"), perSecond))
		}
		uploadDone <- time.Now()
	}()

	time.Sleep(1500 * time.Millisecond) // the upload is under way
	start := time.Now()
	resp, body := tp.do(tp.h1, "GET", "/", nil, nil)
	answered := time.Now()
	if resp.StatusCode != 200 || body != "ok 0" {
		t.Fatalf("GET: %d %q", resp.StatusCode, body)
	}
	t.Logf("GET answered in %v while the upload trickled", answered.Sub(start).Round(time.Millisecond))
	select {
	case <-uploadDone:
		t.Fatalf("the GET waited for the slow upload to finish (%v): the sync worker was held", answered.Sub(start))
	default:
	}

	select {
	case <-uploadDone:
	case <-time.After(30 * time.Second):
		t.Fatal("upload did not finish")
	}
	up, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("upload response: %v", err)
	}
	b, _ := io.ReadAll(up.Body)
	if up.StatusCode != 200 || string(b) != "ok "+strconv.Itoa(size) {
		t.Errorf("upload: %d %q", up.StatusCode, b)
	}
}

// TestScriptNameHeaderStripped pins issue 9: gunicorn takes a SCRIPT_NAME
// header as the app's mount point, so a client could make the app build
// every URL under a prefix of its choosing.
func TestScriptNameHeaderStripped(t *testing.T) {
	addr := startGunicorn(t)
	tp := startProxy(t, "http://"+addr, Config{})
	resp, body := tp.do(tp.h1, "GET", "/evil/environ", http.Header{"SCRIPT_NAME": {"/evil"}}, nil)
	if got, want := body, "SCRIPT_NAME='' PATH_INFO='/evil/environ'"; resp.StatusCode != 200 || got != want {
		t.Errorf("gunicorn saw %d %q, want 200 %q", resp.StatusCode, got, want)
	}
}

// TestGunicornThreadsHeadBody pins issue 9 (high) against the real server:
// gunicorn 20 under --threads writes the app's body after the head of a
// HEAD response and keeps the connection, so the request after an ordinary
// `curl -I` read that body as its answer (a 502, or another client's data).
func TestGunicornThreadsHeadBody(t *testing.T) {
	addr := startGunicorn(t, "--worker-class", "gthread", "--threads", "4", "--keep-alive", "30")
	tp := startProxy(t, "http://"+addr, Config{})
	for round := range 3 {
		if resp, body := tp.do(tp.h1, "HEAD", "/answer/head", nil, nil); resp.StatusCode != 200 || body != "" {
			t.Fatalf("HEAD: %d %q", resp.StatusCode, body)
		}
		for i := range 20 {
			path := fmt.Sprintf("/answer/%d/%d", round, i)
			resp, body := tp.do(tp.h1, "GET", path, nil, nil)
			if got, want := body, "answer "+path; resp.StatusCode != 200 || got != want {
				t.Fatalf("GET %s after HEAD: %d %q, want 200 %q", path, resp.StatusCode, got, want)
			}
		}
	}
}
