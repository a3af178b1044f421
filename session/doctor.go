package session

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/devstack-dev/devstack/certs"
	"github.com/devstack-dev/devstack/doctor"
	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/internal/hint"
	"github.com/devstack-dev/devstack/orchestrator"
	"github.com/devstack-dev/devstack/project"
)

// doctorStartTimeout bounds how long the doctor waits for the app to answer.
const doctorStartTimeout = 90 * time.Second

// Report is what the doctor found.
type Report struct {
	About  About                `json:"about"`
	Checks []events.CheckResult `json:"checks"`
}

// About names what was checked, for the report's first line.
type About struct {
	Dir       string `json:"dir"`
	Framework string `json:"framework"`
	Server    string `json:"server"`
	Origin    string `json:"origin"`
	Via       string `json:"via"` // the running devstack up, or a short-lived stack
	// Placeholders are the variables doctor --settings stood in for: the
	// settings read them, and only production sets them.
	Placeholders []string `json:"placeholders,omitempty"`
	// Settings is the Django settings module the app ran with.
	Settings string `json:"settings,omitempty"`
}

// Doctor runs every trust check for the project in dir: through the stack
// of a devstack up running for it when there is one that answers, else
// through a short-lived stack of its own on free loopback ports (the
// proxy and the gateway only: no watcher, no extra processes), stopped
// again before Doctor returns. An error means the checks could not run.
//
// With opts.Settings, the short-lived stack runs that Django settings
// module (production's, say) and the requests name the project's first
// host name as production's browsers would; a module that keeps the app
// from starting (it reads variables only production has) makes a report
// whose live checks could not run, with the reason, beside what the
// settings files say.
func Doctor(ctx context.Context, dir string, opts Options) (Report, error) {
	// A devstack up running for the directory is asked first, before any
	// detection: it may have been started with flags (--app, --python) that
	// doctor was not given, and it already knows what it runs. It runs the
	// project's own settings, not those asked for.
	if abs, err := filepath.Abs(dir); err == nil && opts.Settings == "" {
		if rec, err := FindRunning(abs); err == nil {
			if report, err := doctorThroughRunningUp(ctx, rec); err == nil {
				return report, nil
			}
		}
	}
	flags := opts.Flags
	var err error
	if opts.Settings != "" {
		environ := flags.Environ
		if environ == nil {
			environ = os.Environ()
		}
		flags.Environ = append(slices.Clone(environ), "DJANGO_SETTINGS_MODULE="+opts.Settings)
	}
	// Free ports, so that the checks run beside a running devstack up.
	if flags.AppPort, err = freeLoopbackPort(); err != nil {
		return Report{}, err
	}
	p, err := Detect(dir, flags)
	if err != nil {
		return Report{}, err
	}
	for _, w := range slices.Concat(p.EnvLinesSkipped, p.PythonVersionWarnings) {
		opts.notify(Notice{Warning: true, Text: w})
	}
	if opts.Settings != "" && p.SettingsModule != opts.Settings {
		return Report{}, hint.Wrap(fmt.Errorf("--settings %s: the project in %s is not a Django project", opts.Settings, p.Dir), "--settings names a Django settings module; run devstack doctor without it")
	}
	// The requests still name the site as the browser does, with the
	// project's port: ALLOWED_HOSTS and CSRF verdicts depend on it. With
	// production's settings, that is production's first host name.
	host, hosts := "localhost", p.Hosts
	if opts.Settings != "" && len(p.Hosts) > 0 {
		host, hosts = p.Hosts[0], p.Hosts[1:]
	}
	origin := fmt.Sprintf("https://%s", net.JoinHostPort(host, strconv.Itoa(p.Port)))
	if p.Port, err = freeLoopbackPort(); err != nil {
		return Report{}, err
	}
	p.Processes = nil // the checks need only the proxy and the gateway
	run, placeholders, err := startForDoctor(ctx, p, opts, append([]string{host}, hosts...))
	if err != nil {
		var down appDown
		if opts.Settings != "" && errors.As(err, &down) {
			return withoutApp(ctx, p, opts.Settings, origin, down.err, down.lines)
		}
		return Report{}, err
	}
	defer run.stop(false)
	stack := run.stack
	report, err := examine(ctx, target{
		roots:     run.roots,
		proxyAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port)),
		origin:    origin,
		probePath: stack.ProbePath(),
		headers:   stack.ForwardedHeaders(),
		hosts:     hosts,
		gateway:   stack.GatewayAddr(),
		dir:       p.Dir,
		via:       "a short-lived stack",
		settings:  opts.Settings,
	})
	report.About.Placeholders = placeholders
	return report, err
}

// appDown is an app that did not answer: the error and the gateway's
// last lines.
type appDown struct {
	err   error
	lines []string
}

func (e appDown) Error() string { return e.err.Error() }

// startForDoctor starts the short-lived stack and waits for the app.
// With opts.Settings, a settings module that stops at a variable only
// production sets (os.environ["DATABASE_URL"], django-environ's "Set the
// X environment variable") is started again with a placeholder for it,
// so the checks that need no production service still run; the
// placeholders' names are returned.
//
// names are the host names the requests use, for a missing ALLOWED_HOSTS
// variable.
func startForDoctor(ctx context.Context, p *project.Project, opts Options, names []string) (*stackRun, []string, error) {
	var placeholders []string
	for {
		run, err := startStack(ctx, p, orchestrator.Options{NoWatch: true}, opts.Notify)
		if err != nil {
			return nil, nil, err
		}
		err = awaitApp(ctx, run.stack)
		if err == nil {
			return run, placeholders, nil
		}
		lines := run.stack.Bus().LastLines(run.stack.Status().Gateway.Name, 15)
		run.stop(false)
		name := missingVariable(lines)
		if opts.Settings != "" && name != "" && len(placeholders) < maxPlaceholders && !slices.Contains(placeholders, name) {
			placeholders = append(placeholders, name)
			p.Env = append(p.Env, name+"="+placeholderFor(name, names, p.Interpreter.DjangoVersion))
			continue
		}
		if opts.Settings != "" {
			return nil, nil, appDown{err: err, lines: lines}
		}
		if len(lines) > 0 {
			err = fmt.Errorf("%w; its last lines:\n  %s", err, strings.Join(lines, "\n  "))
		}
		return nil, nil, hint.Wrap(err, "fix the error, then run devstack doctor again (devstack up shows it live)")
	}
}

// doctorThroughRunningUp runs the checks through the stack of the
// devstack up that wrote rec.
func doctorThroughRunningUp(ctx context.Context, rec RunRecord) (Report, error) {
	caDir, err := certs.Dir()
	if err != nil {
		return Report{}, err
	}
	ca, err := certs.Load(caDir)
	if err != nil {
		return Report{}, err
	}
	addr, err := dialAddrOf(rec.Origin)
	if err != nil {
		return Report{}, err
	}
	return examine(ctx, target{
		roots:     ca.Pool(),
		proxyAddr: addr,
		origin:    rec.Origin,
		probePath: rec.ProbePath,
		headers:   rec.Headers,
		hosts:     rec.Hosts,
		gateway:   rec.Gateway,
		dir:       rec.Dir,
		via:       fmt.Sprintf("the running devstack up (pid %d)", rec.PID),
	})
}

// dialAddrOf is where a client on this machine reaches the proxy whose
// origin is origin: the address it names (an up --host 127.0.0.2 gives
// https://127.0.0.2:PORT), and the IPv4 loopback for localhost.
func dialAddrOf(origin string) (string, error) {
	u, err := url.Parse(origin)
	if err != nil {
		return "", err
	}
	host := u.Hostname()
	if host == "" || host == "localhost" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, u.Port()), nil
}

// target is a stack the checks go through.
type target struct {
	roots     *x509.CertPool // verifies the proxy's certificate
	proxyAddr string         // where every request is sent, whatever the origin names
	origin    string         // the site as the browser sees it
	probePath string
	headers   []string // the forwarding headers the proxy sets
	hosts     []string // the project's host names, each asked about
	gateway   string   // the gateway's address for the direct request; "" skips it
	dir, via  string   // for the report
	settings  string   // the settings module asked for (doctor --settings), "" for the project's
}

// examine collects the evidence through t and runs the checks on it.
func examine(ctx context.Context, t target) (Report, error) {
	client := doctor.Client(t.roots, t.proxyAddr, 30*time.Second)
	defer client.CloseIdleConnections()
	ev, err := doctor.Collect(ctx, client, t.origin, t.probePath, t.headers)
	ev.SettingsOverride, ev.Dir = t.settings, t.dir
	if err != nil {
		return Report{}, hint.Wrap(err, "run the app on its detected gunicorn or uvicorn command (devstack up shows which), then run devstack doctor again")
	}
	u, err := url.Parse(t.origin)
	if err != nil {
		return Report{}, err
	}
	if err := doctor.CollectHosts(ctx, client, &ev, u.Port(), t.probePath, t.hosts); err != nil {
		return Report{}, err
	}
	if t.gateway != "" {
		// Without these answers their checks say they could not run.
		_ = doctor.CollectDirect(ctx, &ev, t.gateway)
		_ = doctor.CollectDirectProbes(ctx, &ev, t.gateway, t.probePath)
	}
	about := About{Dir: t.dir, Origin: ev.Origin, Via: t.via,
		Framework: strings.TrimSpace(ev.Probe.Framework.Name + " " + ev.Probe.Framework.Version)}
	if s := ev.Probe.Server; s != nil {
		about.Server = s.Name + " " + s.Version
	}
	about.Settings, _ = ev.Probe.Settings["SETTINGS_MODULE"].(string)
	return Report{About: about, Checks: doctor.Check(ev)}, nil
}

// awaitApp waits until the app answered through the proxy, or its gateway
// ended without answering.
func awaitApp(ctx context.Context, stack *orchestrator.Stack) error {
	ctx, cancel := context.WithTimeout(ctx, doctorStartTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stack.Ready():
			return nil
		case <-ctx.Done():
			return fmt.Errorf("the app did not answer within %s", doctorStartTimeout)
		case <-tick.C:
			if gw := stack.Status().Gateway; gw.State.Ended() {
				return fmt.Errorf("the app's gateway (%s) ended before it answered (%s)", gw.Name, gw.LastExit)
			}
		}
	}
}

func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
