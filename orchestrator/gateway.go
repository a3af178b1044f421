package orchestrator

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/devstack-dev/devstack/internal/cachedir"
	"github.com/devstack-dev/devstack/project"
	"github.com/devstack-dev/devstack/templates"
)

// gunicorn's own exit codes for an app that cannot be loaded: a worker failed
// to boot (WORKER_BOOT_ERROR) or the app could not be imported
// (APP_LOAD_ERROR). Restarting cannot help; a file change can.
const (
	gunicornWorkerBootError = 3
	gunicornAppLoadError    = 4
)

// uvicornStartupFailure is uvicorn's exit code when the server could not
// start (the app failed to import, or its lifespan startup failed); the
// supervisor uses it too when a new generation fails to start.
const uvicornStartupFailure = 3

// gatewayName is the log source of the gateway: the server's name, or "app"
// for a custom command.
func gatewayName(p *project.Project) string {
	switch p.Server {
	case project.ServerGunicorn, project.ServerUvicorn:
		return p.Server
	}
	return "app"
}

// gatewaySpec turns the project's production command into the process
// devstack runs. The command stays the project's own — its flags, its
// gunicorn.conf.py, its trust settings — with two additions that change
// nothing the app sees: gunicorn gets devstack's config wrapper (which loads
// the project's config first, then pre-imports the framework and installs
// the probe), and uvicorn serves the app through the probe's entry module.
func gatewaySpec(p *project.Project, runDir, probePath, caBundle string) ProcessSpec {
	argv := append([]string(nil), p.GatewayArgv...)
	env := withCABundle(append(append([]string(nil), p.Env...), p.GatewayEnv...), caBundle)
	env = append(env, templates.EnvProbePath+"="+probePath)
	if p.GatewayFrom != "" {
		env = append(env, templates.EnvGatewayArgsFrom+"="+p.GatewayFrom)
	}

	switch p.Server {
	case project.ServerGunicorn:
		// gunicorn reads one config file: the wrapper takes the project's
		// place and loads it itself.
		argv = append(withoutConfigFlag(argv), "-c", filepath.Join(runDir, templates.GunicornConf))
		if p.GunicornConfig != "" {
			env = append(env, templates.EnvProjectGunicornConf+"="+p.GunicornConfig)
		}
		if pre := preimports(p.Framework); len(pre) > 0 {
			env = append(env, templates.EnvPreimport+"="+strings.Join(pre, ","))
		}
		env = append(env, templates.EnvPreimportLearned+"="+learnedPreimportPath(p, runDir),
			templates.EnvGatewayControl+"="+controlPath(runDir),
			templates.EnvGatewayMarkers+"="+strconv.Itoa(ControlFD))
	case project.ServerUvicorn:
		if i := indexOf(argv, p.Target); i >= 0 && !hasFlag(argv, "--factory") {
			argv[i] = templates.ASGIApp
			env = append(env, templates.EnvASGIApp+"="+p.Target)
		}
		// uvicorn's own command line, run by the supervisor that keeps a
		// standby for reloads (templates.UvicornSupervisor).
		supervised := false
		if i := indexOf(argv, "-m"); i >= 0 && i+1 < len(argv) && argv[i+1] == "uvicorn" {
			argv[i+1] = templates.UvicornModule
			supervised = true
			env = append(env, templates.EnvGatewayControl+"="+controlPath(runDir),
				templates.EnvGatewayMarkers+"="+strconv.Itoa(ControlFD))
			if pre := preimports(p.Framework); len(pre) > 0 {
				env = append(env, templates.EnvPreimport+"="+strings.Join(pre, ","))
			}
			// Django's modules may read the settings when imported: only
			// its static list is loaded ahead (see templates.DjangoPreimport).
			if p.Framework != project.Django {
				env = append(env, templates.EnvPreimportLearned+"="+learnedPreimportPath(p, runDir))
			}
		}
		if supervised || lookupEnv(env, templates.EnvASGIApp) != "" {
			env = append(env, "PYTHONPATH="+joinPathList(runDir, lookupEnv(env, "PYTHONPATH")))
		}
	}
	return ProcessSpec{
		Name: gatewayName(p),
		// The gateway never ends on its own while it is wanted: any exit
		// is a crash (StayDown keeps an app that cannot load down).
		Restart:        RestartAlways,
		TermLeaderOnly: p.Server == project.ServerGunicorn || p.Server == project.ServerUvicorn,
		Argv:           argv,
		Dir:            cmp.Or(p.AppDir, p.Dir),
		Env:            env,
		Shell:          p.GatewayShell,
	}
}

// controlPath is the FIFO the gunicorn master reads reload requests from.
func controlPath(runDir string) string { return filepath.Join(runDir, "gateway-control") }

// preimports lists the framework modules the gunicorn master or the uvicorn
// supervisor loads once.
func preimports(f project.Framework) []string {
	switch f {
	case project.Django:
		return templates.DjangoPreimport
	case project.Flask:
		return templates.FlaskPreimport
	case project.FastAPI:
		return templates.FastAPIPreimport
	case project.Starlette:
		return templates.StarlettePreimport
	}
	return nil
}

// learnedPreimportPath is where the gunicorn workers of this project list the
// library modules they import, for the master to pre-import. It is kept in
// the user's cache directory, one file per project directory and
// interpreter, so that the first reload of the next run is as quick as the
// later ones; without a cache directory it lives for this run only.
func learnedPreimportPath(p *project.Project, runDir string) string {
	cache, err := cachedir.Dir()
	if err != nil {
		return filepath.Join(runDir, "preimport-learned.txt")
	}
	sum := sha256.Sum256([]byte(p.Dir + "\x00" + p.Interpreter.Path))
	return filepath.Join(cache, "preimport", hex.EncodeToString(sum[:8])+".txt")
}

// withoutConfigFlag removes -c/--config FILE from gunicorn's arguments; the
// project's config file reaches gunicorn through devstack's wrapper.
func withoutConfigFlag(argv []string) []string {
	out := argv[:0:0]
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "-c" || a == "--config":
			i++ // and its value
		case strings.HasPrefix(a, "--config="), strings.HasPrefix(a, "-c") && len(a) > 2:
		default:
			out = append(out, a)
		}
	}
	return out
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func hasFlag(argv []string, flag string) bool { return indexOf(argv, flag) >= 0 }

// lookupEnv finds KEY in env (later entries win), then in devstack's own
// environment.
func lookupEnv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return os.Getenv(key)
}

func joinPathList(first, rest string) string {
	if rest == "" {
		return first
	}
	return first + string(os.PathListSeparator) + rest
}

// markers follows the gateway's marker lines (see templates.Marker), as read
// from the gateway's marker pipe, so a reload can wait for a worker of the
// new generation.
type markers struct {
	mu       sync.Mutex
	booted   int           // worker-booted lines seen
	gen      int           // newest generation booted in the current master
	reload   string        // how the current master takes new code (templates.Reload*)
	graceful time.Duration // the current master's graceful_timeout; 0 before its ready line
	bootedAt time.Time     // when the last worker-booted line arrived
	retired  int           // workers older than this generation were told to stop
	changed  chan struct{} // closed and replaced at every worker boot
	started  chan struct{} // closed and replaced at every ready marker
}

func newMarkers() *markers {
	return &markers{changed: make(chan struct{}), started: make(chan struct{})}
}

// listening returns a channel closed at the next ready marker: the gateway
// (gunicorn's master, the uvicorn supervisor) has bound its socket, so
// requests the proxy holds can dial again at once.
func (m *markers) listening() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.started
}

// observe reads one log line of the gateway.
func (m *markers) observe(line string) {
	mk, ok := templates.ParseMarker(line)
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch mk.Kind {
	case templates.MarkerReady: // a new master: generations start again
		m.gen, m.reload, m.graceful, m.retired = 0, mk.Reload, mk.GracefulTimeout, 0
		close(m.started)
		m.started = make(chan struct{})
		return
	case templates.MarkerRetired:
		m.retired = max(m.retired, mk.Generation)
		close(m.changed)
		m.changed = make(chan struct{})
		return
	case templates.MarkerWorkerBooted:
	default:
		return
	}
	m.booted++
	m.bootedAt = time.Now()
	m.gen = max(m.gen, mk.Generation)
	close(m.changed)
	m.changed = make(chan struct{})
}

// waitRetired waits until the workers older than gen were told to stop,
// for at most limit (a master that had none to stop says nothing), or ctx.
func (m *markers) waitRetired(ctx context.Context, gen int, limit time.Duration) {
	timeout := time.NewTimer(limit)
	defer timeout.Stop()
	for {
		m.mu.Lock()
		retired, next := m.retired, m.changed
		m.mu.Unlock()
		if retired >= gen {
			return
		}
		select {
		case <-next:
		case <-timeout.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// reloadMode says how the current gunicorn master takes new code, as its
// ready marker said ("" before it).
func (m *markers) reloadMode() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reload
}

// bootedSince reports whether a worker booted after t.
func (m *markers) bootedSince(t time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bootedAt.After(t)
}

// gracefulTimeout is the current master's graceful_timeout, 0 when unknown.
func (m *markers) gracefulTimeout() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.graceful
}

// snapshot returns how many workers booted so far, the newest one's
// generation and a channel closed at the next boot.
func (m *markers) snapshot() (booted, gen int, next <-chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.booted, m.gen, m.changed
}

// waitBoot waits for a worker to boot after the snapshot (booted) with a
// generation above minGen (0 accepts any), or for ctx or stop.
func (m *markers) waitBoot(ctx context.Context, booted, minGen int, stop <-chan struct{}) bool {
	for {
		n, gen, next := m.snapshot()
		if n > booted && gen > minGen {
			return true
		}
		select {
		case <-next:
		case <-stop:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// defaultGracefulTimeout is how long a gateway that does not say otherwise
// may take to finish its requests when it is stopped for a restart: the
// default of gunicorn's graceful_timeout. (uvicorn waits for its requests
// without a limit unless told one.)
const defaultGracefulTimeout = 30 * time.Second

// gracefulTimeout is how long the gateway may take to finish the requests
// it serves once it is told to stop: gunicorn's graceful_timeout as its
// master reported it, uvicorn's --timeout-graceful-shutdown, else
// defaultGracefulTimeout.
func (s *Stack) gracefulTimeout() time.Duration {
	switch s.p.Server {
	case project.ServerGunicorn:
		if d := s.marks.gracefulTimeout(); d > 0 {
			return d
		}
	case project.ServerUvicorn:
		if d := uvicornGracefulTimeout(s.p.GatewayArgv, append(append([]string(nil), s.p.Env...), s.p.GatewayEnv...)); d > 0 {
			return d
		}
	}
	return defaultGracefulTimeout
}

// uvicornGracefulTimeout reads uvicorn's --timeout-graceful-shutdown from
// its arguments, or from UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN (uvicorn takes
// any option from a UVICORN_ variable); 0 when neither sets it.
func uvicornGracefulTimeout(argv, env []string) time.Duration {
	const flag = "--timeout-graceful-shutdown"
	value := ""
	for i, a := range argv {
		if a == flag && i+1 < len(argv) {
			value = argv[i+1]
		} else if v, ok := strings.CutPrefix(a, flag+"="); ok {
			value = v
		}
	}
	if value == "" {
		value = lookupEnv(env, "UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN")
	}
	secs, err := strconv.Atoi(strings.TrimSpace(value))
	if err != nil || secs <= 0 {
		return 0
	}
	return time.Duration(secs) * time.Second
}

// waitListening dials addr until it accepts a connection, for gateways
// without marker lines (uvicorn, custom commands).
func waitListening(ctx context.Context, addr string, stop <-chan struct{}) bool {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		if c, err := d.DialContext(ctx, "tcp", addr); err == nil {
			c.Close()
			return true
		}
		select {
		case <-tick.C:
		case <-stop:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// appAddr is where the proxy reaches the gateway: loopback unless the
// project binds the gateway to one specific other address.
func appAddr(p *project.Project) string {
	host := p.Host
	if host == "" || host == "0.0.0.0" || host == "::" || host == "localhost" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(p.AppPort))
}
