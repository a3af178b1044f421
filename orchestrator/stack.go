package orchestrator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/orchestrator/watch"
	"github.com/devstack-dev/devstack/project"
	"github.com/devstack-dev/devstack/proxy"
	"github.com/devstack-dev/devstack/templates"
)

// Options are what a Stack needs besides the project itself.
type Options struct {
	// Project is what to run, as project.Detect found it. Required.
	Project *project.Project
	// TLS is the proxy's server configuration (the devstack leaf). Required
	// unless LoadTLS is set.
	TLS *tls.Config
	// RootCAs verifies the proxy's certificate for the readiness request.
	// Nil means the system pool.
	RootCAs *x509.CertPool
	// LoadTLS, used when TLS is nil, returns TLS and RootCAs. It is called
	// once the gateway has been started, so that loading or minting the
	// certificates overlaps the app's own start-up.
	LoadTLS func() (*tls.Config, *x509.CertPool, error)
	// ProxyHosts are the addresses the proxy listens on. Default: both
	// loopback addresses.
	ProxyHosts []string
	// RunDir is a private directory for devstack's helper files (the
	// gunicorn config wrapper, the probe). Required; the caller removes it.
	RunDir string
	// Bus carries every event. Default: a new Bus, closed by Stop.
	Bus *Bus
	// NoWatch turns file watching off.
	NoWatch bool
	// StopTimeout is how long each process gets after SIGTERM (default 5s).
	StopTimeout time.Duration
	// QuietPeriod overrides the watcher's debounce (default watch.DefaultQuiet).
	QuietPeriod time.Duration
	// Redetect detects the project again, as the caller detected Project:
	// a change to its config files (devstack.toml, pyproject.toml,
	// Procfile, Procfile.dev) then takes effect at the gateway's restart.
	// Nil keeps what Project says until the stack stops.
	Redetect func() (*project.Project, error)
	// CABundle is a PEM file of the roots the children's TLS clients
	// trust (the public ones and devstack's CA), named to them through
	// CABundleVars unless they set those themselves. "" names none.
	CABundle string
}

// Stack is one running `devstack up`: the proxy, the gateway, the extra
// processes and the file watcher.
type Stack struct {
	opts      Options
	p         *project.Project
	bus       *Bus
	ownsBus   bool
	probePath string
	files     *staticFiles // nil for a custom command, which has no probe
	// current is the project with the environment read at the latest
	// restart (nil until one changed it); see project().
	current atomic.Pointer[project.Project]
	// envWarned are the warnings about env-file lines already told, so
	// that a restart repeats none (refreshEnv; the reload loop only).
	envWarned map[string]bool
	// configPort is the proxy port the configuration asked for (Port
	// holds the one listened on); configErr is the latest config error
	// told, so that a save repeating it says nothing (the reload loop only).
	configPort int
	configErr  string
	// missing explains the gateway's ModuleNotFoundError (missing.go).
	missing missingModules

	proxy   *proxy.Proxy
	server  *proxy.Server
	gateway *Process
	extras  []*Process // under mu once started: a config change replaces them
	marks   *markers
	watcher *watch.Watcher

	cancel   context.CancelFunc
	bg       sync.WaitGroup
	ready    chan struct{}
	stopOnce sync.Once

	// down is the reason the gateway stays down until the next change
	// ("" while it is expected up); the proxy's error page shows it.
	down atomic.Pointer[string]
	// lastServed is when the gateway last answered through the proxy, as
	// time since epoch (monotonic): a gateway that exits without having
	// answered since its latest start failed to start.
	lastServed atomic.Int64
	epoch      time.Time

	mu         sync.Mutex
	lastReload events.ReloadRecord
}

// Start checks the ports, starts the proxy, the gateway and the extra
// processes, and watches the project. It returns once everything has been
// started (not necessarily answering: see Ready). On an error nothing is left
// running.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	p := opts.Project
	if p == nil || (opts.TLS == nil && opts.LoadTLS == nil) || opts.RunDir == "" {
		return nil, errors.New("orchestrator: Options need Project, TLS or LoadTLS, and RunDir")
	}
	s := &Stack{opts: opts, p: p, bus: opts.Bus, marks: newMarkers(), ready: make(chan struct{}), epoch: time.Now()}
	if s.bus == nil {
		s.bus, s.ownsBus = NewBus(BusOptions{}), true
	}
	empty := ""
	s.down.Store(&empty)

	if err := s.checkPorts(); err != nil {
		return nil, err
	}
	if err := templates.WriteTo(opts.RunDir); err != nil {
		return nil, err
	}
	if s.probePath, err = templates.NewProbePath(); err != nil {
		return nil, err
	}
	if p.Server != project.ServerCommand {
		s.files = newStaticFiles(appAddr(p), s.probePath)
	}

	ctx, s.cancel = context.WithCancel(ctx)
	defer func() {
		if err != nil {
			s.Stop(true)
		}
	}()

	s.sayKeptCAVars()
	if p.Server != project.ServerCommand {
		// Subscribed before the gateway starts: an import can fail at once.
		missingSub := s.bus.Subscribe()
		s.bg.Go(func() { s.watchMissingModules(ctx, missingSub) })
	}
	// The gateway goes first: the app's start-up is the long pole, and the
	// certificates and the proxy are ready well before it answers (the
	// proxy holds requests until then).
	if err := s.startGateway(ctx); err != nil {
		return nil, err
	}
	if s.opts.TLS == nil {
		if s.opts.TLS, s.opts.RootCAs, err = s.opts.LoadTLS(); err != nil {
			return nil, err
		}
	}
	s.configPort = p.Port
	if err := s.startProxy(); err != nil {
		return nil, err
	}
	for _, ep := range p.Processes {
		proc, err := NewProcess(s.processSpec(p, ep), s.bus.Publish)
		if err != nil {
			return nil, err
		}
		if err := proc.Start(ctx); err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.extras = append(s.extras, proc)
		s.mu.Unlock()
	}
	if !opts.NoWatch {
		if err := s.startWatcher(ctx); err != nil {
			return nil, err
		}
	}
	s.bg.Go(func() { s.announceReady(ctx) })
	if s.files != nil {
		s.bg.Go(func() { s.followStatic(ctx) })
	}
	return s, nil
}

// checkPorts reports a taken port before anything starts.
func (s *Stack) checkPorts() error {
	p := s.p
	for _, host := range s.proxyHosts() {
		if host == "::1" && !hasIPv6Loopback() {
			continue
		}
		if err := CheckPortFree(host, p.Port); err != nil {
			var pe *PortInUseError
			if errors.As(err, &pe) {
				pe.Flag = "--port"
			}
			return err
		}
	}
	host := p.Host
	if host == "" {
		host = "127.0.0.1"
	}
	return CheckPortFree(host, p.AppPort)
}

func (s *Stack) proxyHosts() []string {
	if len(s.opts.ProxyHosts) > 0 {
		return s.opts.ProxyHosts
	}
	return proxy.DefaultHosts
}

func hasIPv6Loopback() bool {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// headerPolicy is the proxy's forwarding-header policy for the project's
// proxy settings.
func headerPolicy(ps project.ProxySettings) proxy.HeaderPolicy {
	return proxy.HeaderPolicy{
		OmitProto: !ps.ForwardedProto, OmitFor: !ps.ForwardedFor, OmitHost: !ps.ForwardedHost,
		SSL: ps.ForwardedSSL, RealIP: ps.RealIP,
	}
}

func (s *Stack) startProxy() error {
	ps := s.p.Proxy
	upstream := &url.URL{Scheme: "http", Host: appAddr(s.p)}
	name := gatewayName(s.p)
	var files func() []proxy.FileRoot
	if s.files != nil {
		files = s.files.current
	}
	prox, err := proxy.New(proxy.Config{
		Upstream:     upstream,
		TLS:          s.opts.TLS,
		Headers:      headerPolicy(ps),
		HoldTimeout:  ps.HoldTimeout,
		MaxBodyBytes: ps.MaxBody,
		Files:        files,
		// Held requests dial again as soon as the gateway says it
		// listens, rather than at their next retry.
		UpstreamStarted: s.marks.listening,
		OnAccess: func(r proxy.AccessRecord) {
			if r.UpstreamError == nil && r.ClientError == nil && r.File == "" {
				s.lastServed.Store(int64(time.Since(s.epoch)))
			}
			// Every request is shown, devstack's own probe requests too,
			// marked and without the probe path's secret.
			a := AccessRecordOf(&r)
			var down *proxy.DownError
			if errors.As(r.UpstreamError, &down) {
				a.UpstreamError = "upstream is down: " + downLogReason(down.Reason, name)
			}
			a.Path, a.Probe = probeAccessPath(r.Path, s.probePath)
			s.bus.Publish(events.Event{Kind: events.KindAccess, Source: events.SourceProxy, Access: &a})
		},
		LastLogLines: func() []string { return s.bus.LastLines(name, 40) },
		UpstreamDown: func() string {
			reason := *s.down.Load()
			if h := s.missing.pageHint(); reason != "" && h != "" {
				reason += "\n\n" + strings.ToUpper(h[:1]) + h[1:] + "."
			}
			return reason
		},
		ErrorLog: func(msg string) {
			s.bus.Publish(events.Event{Kind: events.KindLog, Source: "proxy", Stream: events.StreamStderr, Text: msg})
		},
	})
	if err != nil {
		return err
	}
	srv, err := prox.Listen(s.proxyHosts(), s.p.Port)
	if err != nil {
		return err
	}
	// Port 0 (up --port 0) picked a free port: it is the project's now.
	s.p.Port = srv.Port()
	s.proxy, s.server = prox, srv
	s.bg.Go(func() { srv.Serve() })
	return nil
}

// probeAccessPath tells whether path is under this run's probe path, and
// returns it for the access log with the probe's secret left out. A path
// under another secret is someone else's request and shown as it came.
func probeAccessPath(path, probePath string) (shown string, probe bool) {
	rest, ok := strings.CutPrefix(path, probePath)
	if !ok || probePath == "" || rest != "" && rest[0] != '/' && rest[0] != '?' {
		return path, false
	}
	return templates.ProbePathPrefix + "…" + rest, true
}

func (s *Stack) startGateway(ctx context.Context) error {
	spec := gatewaySpec(s.p, s.opts.RunDir, s.probePath, s.opts.CABundle)
	spec.StopTimeout = s.opts.StopTimeout
	spec.StayDown = s.stayDown
	spec.PublishLines = s.bus.PublishOwned
	if s.p.Server == project.ServerGunicorn || s.p.Server == project.ServerUvicorn {
		// Markers come on a pipe of their own, never from the gateway's
		// output: an app that logs what a client sent could otherwise fake
		// a "worker booted". They are shown in the log all the same.
		name := spec.Name
		spec.ControlLines = func(line string) {
			s.marks.observe(line)
			s.bus.Publish(events.Event{Kind: events.KindLog, Source: name, Stream: events.StreamStderr, Text: line})
		}
	}
	proc, err := NewProcess(spec, s.bus.Publish)
	if err != nil {
		return err
	}
	s.gateway = proc
	if err := proc.Start(ctx); err != nil {
		return fmt.Errorf("starting the gateway: %w", err)
	}
	return nil
}

// stayDown decides, after the gateway ended by itself, whether restarting it
// can help: not when the app failed to load (gunicorn says so with its exit
// code) or the gateway died before it ever answered — then the proxy shows
// the error with the gateway's last lines until a file change restarts it.
func (s *Stack) stayDown(code int, ran time.Duration) bool {
	server := s.project().Server
	loadFailure := server == project.ServerGunicorn &&
		(code == gunicornWorkerBootError || code == gunicornAppLoadError) ||
		server == project.ServerUvicorn && code == uvicornStartupFailure
	// It came up if it answered through the proxy, or (gunicorn) a worker
	// booted, since its latest start: a gateway restarted for a change
	// serves nothing until the next request, and being killed then is a
	// crash like any other. So is being killed by a signal at any time: no
	// error of the app's is there to show.
	started := s.gateway.Status().StartedAt
	cameUp := s.lastServed.Load() > int64(started.Sub(s.epoch)) || s.marks.bootedSince(started)
	if !loadFailure && (cameUp || code < 0) {
		return false // it crashed: restart with backoff
	}
	reason := downReason(fmt.Sprintf("%s exited (exit code %d) before it could serve the app", gatewayName(s.p), code))
	s.down.Store(&reason)
	s.bus.Publish(events.Event{Kind: events.KindMessage, Source: events.SourceDevstack,
		Text: "the gateway failed to start; waiting for a file change to try again"})
	return true
}

// announceReady says "ready https://localhost:PORT" on the bus once a
// request through the proxy was answered by the app.
func (s *Stack) announceReady(ctx context.Context) {
	ready := s.server.AwaitReady(ctx, proxy.ReadyCheck{
		RootCAs:  s.opts.RootCAs,
		Interval: 100 * time.Millisecond,
		// While the gateway stays down after a failed load, a check would
		// only add an error page to the log.
		Paused: func() bool { return *s.down.Load() != "" },
	})
	if ready {
		if s.files != nil {
			// Before "ready": the first page's stylesheets are served.
			s.announceStatic(s.files.refresh(ctx, 0))
		}
		close(s.ready)
		s.bus.Publish(events.Event{Kind: events.KindMessage, Source: events.SourceDevstack, Text: "ready " + s.server.URL()})
	}
}

// Ready is closed once the first request through the proxy was answered by
// the app.
func (s *Stack) Ready() <-chan struct{} { return s.ready }

// URL is the proxy's address for a browser on this machine.
func (s *Stack) URL() string { return s.server.URL() }

// Bus is the stack's event bus: subscribe to follow logs and events.
func (s *Stack) Bus() *Bus { return s.bus }

// ProbePath is the per-run secret path the probe shim answers.
func (s *Stack) ProbePath() string { return s.probePath }

// ForwardedHeaders are the forwarding headers the proxy sets on every
// request (canonical names, e.g. "X-Forwarded-Proto").
func (s *Stack) ForwardedHeaders() []string { return headerPolicy(s.p.Proxy).Names() }

// GatewayAddr is where the gateway listens, as a client on this machine
// reaches it (for a health check sent past the proxy).
func (s *Stack) GatewayAddr() string { return appAddr(s.p) }

// Status returns a snapshot of the stack.
func (s *Stack) Status() events.StackStatus {
	st := events.StackStatus{ProxyURL: s.server.URL()}
	select {
	case <-s.ready:
		st.Ready = true
	default:
	}
	st.Gateway = s.gateway.Status()
	for _, e := range s.extraProcesses() {
		st.Extras = append(st.Extras, e.Status())
	}
	s.mu.Lock()
	st.LastReload = s.lastReload
	s.mu.Unlock()
	return st
}

// Stop ends the stack: the watcher, then every process (SIGTERM, then
// SIGKILL after StopTimeout; force kills at once), then the proxy. It
// returns once all of them are gone. Calling it again with force set speeds
// up a stop in progress.
func (s *Stack) Stop(force bool) {
	if force {
		// A second Ctrl-C: hurry whatever is stopping, even a process
		// waiting for a stalled output to take its lines.
		s.bus.Hurry()
		for _, proc := range s.processes() {
			go proc.Stop(true)
		}
	}
	s.stopOnce.Do(func() {
		if s.watcher != nil {
			s.watcher.Close()
		}
		var wg sync.WaitGroup
		for _, proc := range s.processes() {
			wg.Go(func() { proc.Stop(force) })
		}
		wg.Wait()
		if s.server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			s.server.Shutdown(ctx)
			cancel()
			s.server.Close()
		}
		if s.cancel != nil {
			s.cancel()
		}
		s.bg.Wait()
		if s.ownsBus {
			s.bus.Close()
		}
	})
}

func (s *Stack) processes() []*Process {
	var out []*Process
	if s.gateway != nil {
		out = append(out, s.gateway)
	}
	return append(out, s.extraProcesses()...)
}
