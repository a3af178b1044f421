package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/devstack-dev/devstack/bench/internal/loopback"
	"github.com/devstack-dev/devstack/templates"
)

// A contender is one way of serving the sample app while its code changes.
type contender struct {
	key   string // for -only
	label string // in the table
	start func(ctx context.Context, b *bench, site, work string) (*server, error)
}

// contenders are the ways of serving each sample app, by -app.
var contenders = map[string][]contender{
	"django": {
		{"devstack", "devstack (HTTPS proxy)", startDevstack},
		{"runserver", "manage.py runserver", startRunserver},
		{"reload", "gunicorn --reload", func(ctx context.Context, b *bench, site, work string) (*server, error) {
			return startGunicorn(ctx, b, "reload", site, "", false, "--reload")
		}},
		{"hup", "gunicorn + SIGHUP", func(ctx context.Context, b *bench, site, work string) (*server, error) {
			return startGunicorn(ctx, b, "hup", site, "", true)
		}},
		{"hup-preimport", "gunicorn + SIGHUP + preimport", func(ctx context.Context, b *bench, site, work string) (*server, error) {
			conf, err := writePreimportConf(work)
			if err != nil {
				return nil, err
			}
			return startGunicorn(ctx, b, "hup-preimport", site, conf, true)
		}},
	},
	"fastapi": {
		{"devstack", "devstack (HTTPS proxy)", startDevstack},
		{"uvicorn-reload", "uvicorn --reload", func(ctx context.Context, b *bench, site, work string) (*server, error) {
			return startUvicorn(ctx, b, "uvicorn-reload", site, false, "--reload")
		}},
		{"uvicorn-restart", "uvicorn + restart", func(ctx context.Context, b *bench, site, work string) (*server, error) {
			return startUvicorn(ctx, b, "uvicorn-restart", site, true)
		}},
	},
}

// anchors are the contender devstack's median is compared with, by -app.
var anchors = map[string]string{"django": "hup", "fastapi": "uvicorn-reload"}

// server is a running contender.
type server struct {
	proc   *proc
	base   string // scheme://host:port
	client *http.Client
	// hup: the bench itself sends SIGHUP to the server right after a save.
	hup bool
	// restart, if set, is what the bench does right after a save: stop the
	// server and start it again.
	restart func() (*proc, error)
	// reported matches the server's own "reloaded in" lines (devstack).
	reported *regexp.Regexp
}

func newClient(tc *tls.Config) *http.Client {
	return &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			TLSClientConfig:     tc,
			MaxIdleConnsPerHost: 16,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func startDevstack(ctx context.Context, b *bench, site, work string) (*server, error) {
	port, err := loopback.FreePort()
	if err != nil {
		return nil, err
	}
	appPort, err := loopback.FreePort()
	if err != nil {
		return nil, err
	}
	caroot := filepath.Join(work, "ca")
	env := []string{"CAROOT=" + caroot, "NO_COLOR=1", "DEVSTACK_CACHE_DIR=" + filepath.Join(work, "cache")}
	reported := regexp.MustCompile(`reloaded in (\S+): `)
	p, err := startProc(site, env, reported, b.logFor("devstack"), b.devstack, "up", "--dir", site, "--python", b.python,
		"--port", strconv.Itoa(port), "--app-port", strconv.Itoa(appPort), "--no-tui")
	if err != nil {
		return nil, err
	}
	s := &server{proc: p, base: fmt.Sprintf("https://localhost:%d", port), reported: reported}
	if err := p.waitLine(ctx, regexp.MustCompile(`ready https://localhost:`+strconv.Itoa(port))); err != nil {
		p.stop(5 * time.Second)
		return nil, fmt.Errorf("devstack up: %w", err)
	}
	pem, err := os.ReadFile(filepath.Join(caroot, "rootCA.pem"))
	if err != nil {
		p.stop(5 * time.Second)
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		p.stop(5 * time.Second)
		return nil, errors.New("devstack's rootCA.pem holds no certificate")
	}
	s.client = newClient(&tls.Config{RootCAs: pool})
	return s, s.waitServing(ctx)
}

func startRunserver(ctx context.Context, b *bench, site, work string) (*server, error) {
	port, err := loopback.FreePort()
	if err != nil {
		return nil, err
	}
	p, err := startProc(site, []string{"PYTHONUNBUFFERED=1"}, nil, b.logFor("runserver"), b.python, "manage.py", "runserver", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	s := &server{proc: p, base: fmt.Sprintf("http://127.0.0.1:%d", port), client: newClient(nil)}
	return s, s.waitServing(ctx)
}

// startGunicorn runs the project's production command, as devstack detects
// it, with conf as the configuration file if set.
func startGunicorn(ctx context.Context, b *bench, key, site, conf string, hup bool, extra ...string) (*server, error) {
	port, err := loopback.FreePort()
	if err != nil {
		return nil, err
	}
	argv := []string{b.python, "-m", "gunicorn", "mysite.wsgi:application", "--bind", "127.0.0.1:" + strconv.Itoa(port)}
	if conf != "" {
		argv = append(argv, "-c", conf)
	}
	p, err := startProc(site, []string{"PYTHONUNBUFFERED=1"}, nil, b.logFor(key), append(argv, extra...)...)
	if err != nil {
		return nil, err
	}
	s := &server{proc: p, base: fmt.Sprintf("http://127.0.0.1:%d", port), client: newClient(nil), hup: hup}
	return s, s.waitServing(ctx)
}

// startUvicorn runs the project's production command, as devstack detects
// it; with restart the bench stops and starts it after every save.
func startUvicorn(ctx context.Context, b *bench, key, site string, restart bool, extra ...string) (*server, error) {
	port, err := loopback.FreePort()
	if err != nil {
		return nil, err
	}
	argv := append([]string{b.python, "-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", strconv.Itoa(port)}, extra...)
	start := func() (*proc, error) {
		return startProc(site, []string{"PYTHONUNBUFFERED=1"}, nil, b.logFor(key), argv...)
	}
	p, err := start()
	if err != nil {
		return nil, err
	}
	s := &server{proc: p, base: fmt.Sprintf("http://127.0.0.1:%d", port), client: newClient(nil)}
	if restart {
		s.restart = func() (*proc, error) {
			s.proc.stop(5 * time.Second)
			return start()
		}
	}
	return s, s.waitServing(ctx)
}

// writePreimportConf writes a gunicorn configuration that imports the same
// framework modules in the master as devstack's static list.
func writePreimportConf(work string) (string, error) {
	var b strings.Builder
	b.WriteString("import importlib\n\nfor _name in [\n")
	for _, m := range templates.DjangoPreimport {
		fmt.Fprintf(&b, "    %q,\n", m)
	}
	b.WriteString("]:\n    try:\n        importlib.import_module(_name)\n    except Exception:\n        pass\n")
	path := filepath.Join(work, "preimport_gunicorn_conf.py")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

// waitServing waits until /whoami/ answers 200; on failure it stops the
// server.
func (s *server) waitServing(ctx context.Context) error {
	for {
		code, _, err := s.get(ctx, "/whoami/")
		if err == nil && code == http.StatusOK {
			return nil
		}
		select {
		case <-s.proc.exited:
			s.proc.stop(5 * time.Second)
			return fmt.Errorf("the server exited before answering:\n%s", s.proc.tail(20))
		case <-ctx.Done():
			s.proc.stop(5 * time.Second)
			return fmt.Errorf("the server did not answer %s/whoami/ (last error: %v):\n%s", s.base, err, s.proc.tail(20))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// get sends one GET path and returns its status and body.
func (s *server) get(ctx context.Context, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func (s *server) afterSave() error {
	switch {
	case s.hup:
		return s.proc.signal(syscall.SIGHUP)
	case s.restart != nil:
		p, err := s.restart()
		if err != nil {
			return err
		}
		s.proc = p
	}
	return nil
}

func (s *server) stop() {
	s.client.CloseIdleConnections()
	s.proc.stop(5 * time.Second)
}
