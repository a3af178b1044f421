package session

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/devstack-dev/devstack/certs"
	"github.com/devstack-dev/devstack/doctor"
	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/orchestrator"
)

// doctorStartTimeout bounds how long the doctor waits for the app to answer.
const doctorStartTimeout = 90 * time.Second

// Report is what the doctor found.
type Report struct {
	About  About                `json:"about"`
	Checks []events.CheckResult `json:"checks"`
}

// Counts returns how many checks failed, warned and passed.
func (r Report) Counts() (fails, warns, passes int) { return doctor.Counts(r.Checks) }

// About names what was checked, for the report's first line.
type About struct {
	Dir       string `json:"dir"`
	Framework string `json:"framework"`
	Server    string `json:"server"`
	Origin    string `json:"origin"`
	Via       string `json:"via"` // the running devstack up, or a short-lived stack
}

// Doctor runs every trust check for the project in dir: through the stack
// of a devstack up running for it when there is one that answers, else
// through a short-lived stack of its own on free loopback ports (the
// proxy and the gateway only: no watcher, no extra processes), stopped
// again before Doctor returns. An error means the checks could not run.
func Doctor(ctx context.Context, dir string, opts Options) (Report, error) {
	// A devstack up running for the directory is asked first, before any
	// detection: it may have been started with flags (--app, --python) that
	// doctor was not given, and it already knows what it runs.
	if abs, err := filepath.Abs(dir); err == nil {
		if rec, err := FindRunning(abs); err == nil {
			if report, err := doctorThroughRunningUp(ctx, rec); err == nil {
				return report, nil
			}
		}
	}
	flags := opts.Flags
	var err error
	// Free ports, so that the checks run beside a running devstack up.
	if flags.AppPort, err = freeLoopbackPort(); err != nil {
		return Report{}, err
	}
	p, err := Detect(dir, flags)
	if err != nil {
		return Report{}, err
	}
	// The requests still name the site as the browser does, with the
	// project's port: ALLOWED_HOSTS and CSRF verdicts depend on it.
	origin := fmt.Sprintf("https://localhost:%d", p.Port)
	if p.Port, err = freeLoopbackPort(); err != nil {
		return Report{}, err
	}
	p.Processes = nil // the checks need only the proxy and the gateway
	run, err := startStack(ctx, p, orchestrator.Options{NoWatch: true}, opts.Notify)
	if err != nil {
		return Report{}, err
	}
	defer run.stop(false)
	if err := awaitApp(ctx, run.stack); err != nil {
		lines := run.stack.Bus().LastLines(run.stack.Status().Gateway.Name, 15)
		if len(lines) > 0 {
			err = fmt.Errorf("%w; its last lines:\n  %s", err, strings.Join(lines, "\n  "))
		}
		return Report{}, hintError{err: err, hint: "fix the error, then run devstack doctor again (devstack up shows it live)"}
	}
	stack := run.stack
	return examine(ctx, target{
		roots:     run.roots,
		proxyAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port)),
		origin:    origin,
		probePath: stack.ProbePath(),
		headers:   stack.ForwardedHeaders(),
		hosts:     p.Hosts,
		gateway:   stack.GatewayAddr(),
		dir:       p.Dir,
		via:       "a short-lived stack",
	})
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
	u, err := url.Parse(rec.Origin)
	if err != nil {
		return Report{}, err
	}
	return examine(ctx, target{
		roots:     ca.Pool(),
		proxyAddr: net.JoinHostPort("127.0.0.1", u.Port()),
		origin:    rec.Origin,
		probePath: rec.ProbePath,
		headers:   rec.Headers,
		hosts:     rec.Hosts,
		gateway:   rec.Gateway,
		dir:       rec.Dir,
		via:       fmt.Sprintf("the running devstack up (pid %d)", rec.PID),
	})
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
}

// examine collects the evidence through t and runs the checks on it.
func examine(ctx context.Context, t target) (Report, error) {
	client := doctor.Client(t.roots, t.proxyAddr, 30*time.Second)
	defer client.CloseIdleConnections()
	ev, err := doctor.Collect(ctx, client, t.origin, t.probePath, t.headers)
	if err != nil {
		return Report{}, hintError{err: err,
			hint: "run the app on its detected gunicorn or uvicorn command (devstack up shows which), then run devstack doctor again"}
	}
	u, err := url.Parse(t.origin)
	if err != nil {
		return Report{}, err
	}
	if err := doctor.CollectHosts(ctx, client, &ev, u.Port(), t.probePath, t.hosts); err != nil {
		return Report{}, err
	}
	if t.gateway != "" {
		_ = doctor.CollectDirect(ctx, &ev, t.gateway) // without it, that one check is left out
	}
	about := About{Dir: t.dir, Origin: ev.Origin, Via: t.via,
		Framework: strings.TrimSpace(ev.Probe.Framework.Name + " " + ev.Probe.Framework.Version)}
	if s := ev.Probe.Server; s != nil {
		about.Server = s.Name + " " + s.Version
	}
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
