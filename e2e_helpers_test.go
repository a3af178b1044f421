package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/record"
	"github.com/devstack-dev/devstack/internal/testenv"
)

// The end-to-end tests run the real devstack binary on a copy of a sample
// project, with the real gunicorn/uvicorn and the real framework, and talk to
// it over real TLS with only devstack's CA trusted.

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// devstackBinary builds the command once per test run.
func devstackBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "devstack-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "devstack")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// freePort returns a loopback port nothing listens on right now. It is taken
// below Linux's ephemeral range (32768 and up), so the many port-0 listeners
// of tests running in parallel cannot grab it between this check and the
// moment devstack binds it.
func freePort(t *testing.T) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	for range 200 {
		nextPort++
		if nextPort >= 32000 {
			nextPort = 20000
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(nextPort)))
		if err != nil {
			continue
		}
		l.Close()
		return nextPort
	}
	t.Fatal("no free port between 20000 and 32000")
	return 0
}

var (
	portMu sync.Mutex
	// nextPort starts at a place that differs between test processes.
	nextPort = 20000 + (os.Getpid()*37)%12000
)

// copyProject copies the sample project testdata/<name> into a temporary
// directory, so tests can edit its files.
func copyProject(t *testing.T, name string) string {
	t.Helper()
	return testenv.CopyProject(t, name)
}

// upRun is one running `devstack up`.
type upRun struct {
	t          *testing.T
	cmd        *exec.Cmd
	port       int
	appPort    int
	caroot     string
	clientOnce sync.Once
	client     *http.Client
	exited     chan struct{}
	exitErr    error
	lines      *record.Log[string] // stdout and stderr
}

type upConfig struct {
	project string   // testdata/<project>, copied first unless dir is set
	dir     string   // run in this directory instead
	args    []string // extra arguments after "up"
	env     []string // extra environment
	unset   []string // variables left out of devstack's environment
	// port and appPort are the proxy's and the gateway's ports (default:
	// free ones); caroot is the CA directory (default: a new one).
	port, appPort int
	caroot        string
	// portInConfig leaves --port out: the project's devstack.toml says
	// port = port.
	portInConfig bool
}

// startUp starts devstack up and waits for its ready line.
func startUp(t *testing.T, cfg upConfig) *upRun {
	t.Helper()
	r := launchUp(t, cfg)
	r.waitLine(`ready https://localhost:`+strconv.Itoa(r.port), 60*time.Second)
	r.httpsClient() // made here, before tests share it between goroutines
	return r
}

// launchUp starts devstack up without waiting for it to be ready.
func launchUp(t *testing.T, cfg upConfig) *upRun {
	t.Helper()
	bin := devstackBinary(t)
	dir := cfg.dir
	if dir == "" {
		dir = copyProject(t, cfg.project)
	}
	r := &upRun{t: t, port: cfg.port, appPort: cfg.appPort, caroot: cfg.caroot, exited: make(chan struct{}), lines: record.New[string]()}
	if r.port == 0 {
		r.port = freePort(t)
	}
	if r.appPort == 0 {
		r.appPort = freePort(t)
	}
	if r.caroot == "" {
		r.caroot = t.TempDir()
	}
	args := []string{"up", "--dir", dir, "--port", strconv.Itoa(r.port), "--app-port", strconv.Itoa(r.appPort), "--no-tui"}
	if cfg.portInConfig {
		args = slices.Delete(args, 3, 5)
	}
	args = append(args, cfg.args...)
	r.cmd = exec.Command(bin, args...)
	r.cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(cfg.unset, k)
	})
	r.cmd.Env = append(r.cmd.Env, "CAROOT="+r.caroot, "NO_COLOR=1", "DEVSTACK_CACHE_DIR="+t.TempDir())
	r.cmd.Env = append(r.cmd.Env, cfg.env...)
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stderr = r.cmd.Stdout
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			r.lines.Add(sc.Text())
		}
		r.exitErr = r.cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		r.stop(20 * time.Second)
		if t.Failed() {
			t.Logf("devstack output:\n%s", r.output())
		}
	})
	return r
}

// stop sends SIGINT and waits; after timeout the whole group is killed.
func (r *upRun) stop(timeout time.Duration) error {
	select {
	case <-r.exited:
		return r.exitErr
	default:
	}
	r.cmd.Process.Signal(os.Interrupt)
	select {
	case <-r.exited:
		return r.exitErr
	case <-time.After(timeout):
		syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		<-r.exited
		return fmt.Errorf("devstack did not stop within %s after SIGINT", timeout)
	}
}

func (r *upRun) output() string {
	return strings.Join(r.lines.Items(), "\n")
}

// waitLine waits for an output line matching pattern, counting from the
// start, and returns it.
func (r *upRun) waitLine(pattern string, timeout time.Duration) string {
	r.t.Helper()
	return r.waitLineAfter(0, pattern, timeout)
}

// lineCount is a mark for waitLineAfter.
func (r *upRun) lineCount() int {
	return r.lines.Len()
}

// waitLineAfter waits for a line matching pattern among the lines after the
// first `after` ones.
func (r *upRun) waitLineAfter(after int, pattern string, timeout time.Duration) string {
	r.t.Helper()
	re := regexp.MustCompile(pattern)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	line, _, err := r.lines.Wait(ctx, after, r.exited, re.MatchString)
	switch {
	case errors.Is(err, record.ErrStopped):
		r.t.Fatalf("devstack exited (%v) before printing a line matching %q", r.exitErr, pattern)
	case err != nil:
		r.t.Fatalf("no line matching %q within %s", pattern, timeout)
	}
	return line
}

// httpsClient trusts only devstack's CA. It is made once, on first use,
// and is safe to use from many goroutines.
func (r *upRun) httpsClient() *http.Client {
	r.t.Helper()
	r.clientOnce.Do(func() {
		pem, err := os.ReadFile(filepath.Join(r.caroot, "rootCA.pem"))
		if err != nil {
			r.t.Error(err)
			return
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			r.t.Error("rootCA.pem holds no certificate")
			return
		}
		r.client = &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{
				TLSClientConfig:     &tls.Config{RootCAs: pool},
				MaxIdleConnsPerHost: 64,
				Proxy:               nil,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		r.t.Cleanup(r.client.CloseIdleConnections)
	})
	if r.client == nil {
		r.t.FailNow()
	}
	return r.client
}

func (r *upRun) url(path string) string {
	return "https://localhost:" + strconv.Itoa(r.port) + path
}

// get sends GET path through the proxy with extra headers.
func (r *upRun) get(path string, headers ...string) (int, string) {
	r.t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.url(path), nil)
	if err != nil {
		r.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := r.httpsClient().Do(req)
	if err != nil {
		r.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// whoami is what the sample apps report about a request.
type whoami struct {
	Framework     string            `json:"framework"`
	DjangoVersion string            `json:"django_version"`
	Scheme        string            `json:"scheme"`
	IsSecure      bool              `json:"is_secure"`
	Host          string            `json:"host"`
	HostError     string            `json:"host_error"`
	RemoteAddr    string            `json:"remote_addr"`
	AbsoluteURI   string            `json:"absolute_uri"`
	Forwarded     map[string]string `json:"forwarded_headers"`
}

func (r *upRun) whoami(headers ...string) whoami {
	r.t.Helper()
	code, body := r.get("/whoami/", headers...)
	if code != http.StatusOK {
		r.t.Fatalf("GET /whoami/: %d\n%s", code, body)
	}
	var w whoami
	if err := json.Unmarshal([]byte(body), &w); err != nil {
		r.t.Fatalf("GET /whoami/: %v\n%s", err, body)
	}
	return w
}

// pidsOf lists the processes whose command line contains all of words.
func pidsOf(words ...string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		s := strings.ReplaceAll(string(cmdline), "\x00", " ")
		all := true
		for _, w := range words {
			all = all && strings.Contains(s, w)
		}
		if all {
			pids = append(pids, pid)
		}
	}
	return pids
}

// listening reports whether something accepts connections on the port.
func listening(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// eventually polls cond every 50 ms for up to timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// load sends GET path through the proxy from n goroutines until the
// returned stop is called. stop reports how many requests were sent, how
// many failed (an error, a status other than 200, or a body check
// rejected; check may be nil) and the first failure.
func (r *upRun) load(path string, n int, check func(body string) error) (stop func() (sent, failed int64, first string)) {
	client := r.httpsClient()
	var sentN, failedN atomic.Int64
	var firstFailure atomic.Value
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				sentN.Add(1)
				resp, err := client.Get(r.url(path))
				if err == nil {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					switch {
					case resp.StatusCode != http.StatusOK:
						err = fmt.Errorf("status %d", resp.StatusCode)
					case check != nil:
						err = check(string(body))
					}
				}
				if err != nil {
					failedN.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	return func() (int64, int64, string) {
		close(done)
		wg.Wait()
		first, _ := firstFailure.Load().(string)
		return sentN.Load(), failedN.Load(), first
	}
}
