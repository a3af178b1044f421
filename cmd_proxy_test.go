package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/procattr"
	"github.com/devstack-dev/devstack/internal/record"
)

// proxyCmd is a running `devstack proxy`, its stdout read line by line.
type proxyCmd struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  *record.Log[string] // stdout
	next   int                 // the lines before it were matched already
	closed chan struct{}       // stdout ended
	stderr *lockedBuffer
	caroot string
	exited chan error
}

// startProxyCmd runs the real binary (testscript puts it on PATH) with a
// CA and HOME of its own.
func startProxyCmd(t *testing.T, args ...string) *proxyCmd {
	t.Helper()
	bin, err := exec.LookPath("devstack")
	if err != nil {
		t.Fatalf("devstack test binary not on PATH: %v", err)
	}
	dir := t.TempDir()
	pc := &proxyCmd{t: t, lines: record.New[string](), closed: make(chan struct{}), stderr: &lockedBuffer{},
		caroot: filepath.Join(dir, "caroot"), exited: make(chan error, 1)}
	pc.cmd = exec.Command(bin, append([]string{"proxy"}, args...)...)
	pc.cmd.Env = append(os.Environ(), "CAROOT="+pc.caroot, "HOME="+filepath.Join(dir, "home"),
		"DEVSTACK_CACHE_DIR="+filepath.Join(dir, "cache"), "NO_COLOR=1")
	pc.cmd.Stderr = pc.stderr
	pc.cmd.SysProcAttr = procattr.Group()
	stdout, err := pc.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			pc.lines.Add(sc.Text())
		}
		close(pc.closed)
		pc.exited <- pc.cmd.Wait()
	}()
	t.Cleanup(func() {
		syscall.Kill(-pc.cmd.Process.Pid, syscall.SIGKILL)
	})
	return pc
}

// waitLine returns the submatches of the first stdout line matching re
// after the lines matched before, or fails.
func (pc *proxyCmd) waitLine(re string) []string {
	pc.t.Helper()
	rx := regexp.MustCompile(re)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	line, i, err := pc.lines.Wait(ctx, pc.next, pc.closed, rx.MatchString)
	switch {
	case errors.Is(err, record.ErrStopped):
		pc.t.Fatalf("devstack proxy exited before printing %q; stderr:\n%s", re, pc.stderr)
	case err != nil:
		pc.t.Fatalf("no line matching %q within 30s; stderr:\n%s", re, pc.stderr)
	}
	pc.next = i + 1
	return rx.FindStringSubmatch(line)
}

func (pc *proxyCmd) client() *http.Client {
	pem, err := os.ReadFile(filepath.Join(pc.caroot, "rootCA.pem"))
	if err != nil {
		pc.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}, Timeout: 20 * time.Second}
	pc.t.Cleanup(c.CloseIdleConnections)
	return c
}

func TestProxyCommandServesAndStops(t *testing.T) {
	seen := make(chan http.Header, 10)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case seen <- r.Header.Clone():
		default:
		}
		io.WriteString(w, "hello from upstream")
	}))
	defer up.Close()

	pc := startProxyCmd(t, "--to", up.URL, "--port", "0")
	m := pc.waitLine(`ready (https://localhost:(\d+))`)
	url := m[1]

	req, _ := http.NewRequest("GET", url+"/hello", nil)
	req.Header.Set("X-Forwarded-Proto", "http")
	resp, err := pc.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello from upstream" || resp.ProtoMajor != 2 {
		t.Errorf("through the proxy: %s %q", resp.Proto, body)
	}
	for h := range seen {
		if h.Get("User-Agent") == "devstack-ready-check" {
			continue
		}
		if got := h.Values("X-Forwarded-Proto"); len(got) != 1 || got[0] != "https" {
			t.Errorf("upstream X-Forwarded-Proto: %q", got)
		}
		break
	}
	pc.waitLine(`^proxy \| GET /hello 200 [0-9.]+(µs|ms|s) [0-9.]+k?B$`)

	if err := pc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-pc.exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v; stderr:\n%s", err, pc.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("devstack proxy did not exit within 15s of SIGTERM")
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "https://"), time.Second); err == nil {
		t.Errorf("still listening after exit")
	}
}

func TestProxyCommandWaitsForUpstream(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	pc := startProxyCmd(t, "--to", "http://"+addr, "--port", "0", "--host", "127.0.0.1")
	pc.waitLine(`^proxy \| listening on 127\.0\.0\.1:\d+, forwarding to http://` + regexp.QuoteMeta(addr) + `$`)
	// The upstream comes up after the proxy: the ready line waits for it.
	time.Sleep(500 * time.Millisecond)
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s was taken meanwhile: %v", addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}
	go srv.Serve(ln)
	defer srv.Close()
	pc.waitLine(`ready https://localhost:\d+`)
}

func TestProxyCommandPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, port, _ := net.SplitHostPort(busy.Addr().String())
	pc := startProxyCmd(t, "--to", "http://127.0.0.1:1", "--port", port)
	select {
	case err := <-pc.exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("exit: %v, want status 1", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("devstack proxy on a busy port did not exit")
	}
	for _, want := range []string{
		"devstack: error: listening on 127.0.0.1:" + port + ": bind: address already in use\n",
		"devstack: hint: another program is using port " + port + ": stop it, or pick another port with --port\n",
	} {
		if !strings.Contains(pc.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, pc.stderr)
		}
	}
}

// lockedBuffer is a bytes.Buffer the child's stderr copier and the test
// may use at the same time.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
