package templates

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/procattr"
	"github.com/devstack-dev/devstack/internal/testenv"
)

// gateway is a real gunicorn or uvicorn serving a sample project on a
// loopback socket the test opened itself (passed as fd 3, so no port race).
type gateway struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string

	mu      sync.Mutex
	lines   []string
	changed chan struct{}
	exited  chan struct{}
}

// gatewaySpec says what to start.
type gatewaySpec struct {
	python     string
	pythonpath string   // PYTHONPATH; empty for the interpreter's own packages
	dir        string   // the project, the working directory
	env        []string // added to the test's environment
	args       []string // after `python -m`; "{fd}" is replaced by the socket's fd
}

func testdataDir(t *testing.T, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func startGateway(t *testing.T, spec gatewaySpec) *gateway {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sock, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()

	args := make([]string, len(spec.args))
	for i, a := range spec.args {
		args[i] = strings.ReplaceAll(a, "{fd}", "3")
	}
	// Markers come on a pipe of their own (fd 4), as devstack passes it.
	markR, markW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer markW.Close()
	cmd := exec.Command(spec.python, args...)
	cmd.Dir = spec.dir
	cmd.Env = append(testenv.PythonEnv(os.Environ(), spec.pythonpath), EnvGatewayMarkers+"=4")
	cmd.Env = append(cmd.Env, spec.env...)
	cmd.ExtraFiles = []*os.File{sock, markW}
	cmd.SysProcAttr = procattr.Group()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr // both streams into the pipe
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", cmd.Args, err)
	}
	g := &gateway{t: t, cmd: cmd, addr: ln.Addr().String(),
		changed: make(chan struct{}, 1), exited: make(chan struct{})}
	go g.read(stderr)
	go g.readMarkers(markR)
	t.Cleanup(g.stop)
	return g
}

func (g *gateway) read(r io.Reader) {
	g.scan(r)
	_ = g.cmd.Wait()
	close(g.exited)
}

// readMarkers adds the marker lines to the output, as devstack shows them.
func (g *gateway) readMarkers(r *os.File) {
	defer r.Close()
	g.scan(r)
}

func (g *gateway) scan(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		g.mu.Lock()
		g.lines = append(g.lines, sc.Text())
		g.mu.Unlock()
		select {
		case g.changed <- struct{}{}:
		default:
		}
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after 10 s.
func (g *gateway) stop() {
	_ = syscall.Kill(-g.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-g.cmd.Process.Pid, syscall.SIGKILL)
		<-g.exited
	}
	if g.t.Failed() {
		g.t.Logf("gateway output:\n%s", g.output())
	}
}

func (g *gateway) output() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return strings.Join(g.lines, "\n")
}

// waitLine waits up to 30 s for an output line satisfying match, counting
// from line number from; it returns the line's number.
func (g *gateway) waitLine(from int, what string, match func(string) bool) int {
	g.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if i, ok := g.find(from, match); ok {
			return i
		}
		select {
		case <-g.changed:
		case <-g.exited:
			if i, ok := g.find(from, match); ok {
				return i
			}
			g.t.Fatalf("gateway exited before %s", what)
		case <-deadline:
			g.t.Fatalf("no %s after 30 s", what)
		}
	}
}

func (g *gateway) find(from int, match func(string) bool) (int, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := from; i < len(g.lines); i++ {
		if match(g.lines[i]) {
			return i, true
		}
	}
	return 0, false
}

func (g *gateway) lineCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.lines)
}

// waitMarker waits for a marker of kind with at least generation gen.
func (g *gateway) waitMarker(from int, kind MarkerKind, gen int) (Marker, int) {
	g.t.Helper()
	var got Marker
	i := g.waitLine(from, kind.String()+" marker", func(line string) bool {
		m, ok := ParseMarker(line)
		if ok && m.Kind == kind && m.Generation >= gen {
			got = m
			return true
		}
		return false
	})
	return got, i
}

// waitHTTP waits up to 30 s for the socket to answer HTTP (uvicorn prints
// no marker).
func (g *gateway) waitHTTP() {
	g.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + g.addr + "/")
		if err == nil {
			resp.Body.Close()
			return
		}
		select {
		case <-g.exited:
			g.t.Fatal("gateway exited before answering HTTP")
		case <-time.After(100 * time.Millisecond):
		}
	}
	g.t.Fatal("gateway did not answer HTTP within 30 s")
}

// get sends GET path with the given headers ("Host" sets the Host header)
// and returns the status and body.
func (g *gateway) get(path string, headers map[string]string) (int, []byte) {
	g.t.Helper()
	req, err := http.NewRequest("GET", "http://"+g.addr+path, nil)
	if err != nil {
		g.t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	client := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		g.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	return resp.StatusCode, body
}

// probe asks the probe path and decodes its report.
func (g *gateway) probe(path string, headers map[string]string) ProbeReport {
	g.t.Helper()
	status, body := g.get(path, headers)
	if status != http.StatusOK {
		g.t.Fatalf("probe answered %d: %s", status, body)
	}
	var r ProbeReport
	if err := json.Unmarshal(body, &r); err != nil {
		g.t.Fatalf("probe answer is not a report: %v: %s", err, body)
	}
	return r
}

// browserHeaders are what the TLS proxy passes on for a form submitted from
// https://localhost:8080/.
func browserHeaders(extra map[string]string) map[string]string {
	h := map[string]string{
		"Host":    "localhost:8080",
		"Origin":  "https://localhost:8080",
		"Referer": "https://localhost:8080/",
	}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

// runDir writes the templates into a fresh per-run directory.
func runDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := WriteTo(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// suite is one Django/gunicorn combination the tests run under.
type suite struct {
	name          string
	pythonpath    func(t *testing.T) string
	djangoVersion string // prefix of django.get_version()
}

var suites = []suite{
	{"bookworm", func(*testing.T) string { return "" }, "3.2."},
	{"trixie", func(t *testing.T) string { return testenv.PythonSuite(t, "trixie") }, "4.2."},
	{"sid", func(t *testing.T) string { return testenv.PythonSuite(t, "sid") }, "5.2."},
}

func boolp(b *bool) string {
	if b == nil {
		return "nil"
	}
	if *b {
		return "true"
	}
	return "false"
}
