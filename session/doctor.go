package session

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/devstack-dev/devstack/certs"
	"github.com/devstack-dev/devstack/doctor"
	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/orchestrator"
	"github.com/devstack-dev/devstack/project"
	"github.com/devstack-dev/devstack/templates"
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
	if opts.Settings != "" && p.SettingsModule != opts.Settings {
		return Report{}, hintError{err: fmt.Errorf("--settings %s: the project in %s is not a Django project", opts.Settings, p.Dir),
			hint: "--settings names a Django settings module; run devstack doctor without it"}
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

// maxPlaceholders bounds how many missing variables doctor --settings
// stands in for before it reports the checks as not run.
const maxPlaceholders = 8

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
		return nil, nil, hintError{err: err, hint: "fix the error, then run devstack doctor again (devstack up shows it live)"}
	}
}

// missingVariableRE finds the variable a settings module stopped at, in
// the exception line of its traceback: os.environ["X"] (KeyError: 'X'),
// django-environ (Set the X environment variable), environs (Environment
// variable "X" not set), python-decouple (X not found. Declare it as
// envvar…).
var missingVariableRE = regexp.MustCompile(`^(?:KeyError: '([A-Z][A-Z0-9_]*)'|\S*ImproperlyConfigured: Set the ([A-Z][A-Z0-9_]*) environment variable|\S*EnvError: Environment variable "([A-Z][A-Z0-9_]*)" not set|\S*UndefinedValueError: ([A-Z][A-Z0-9_]*) not found)`)

func missingVariable(lines []string) string {
	m := missingVariableRE.FindStringSubmatch(lastError(lines))
	for _, g := range m[min(1, len(m)):] {
		if g != "" {
			return g
		}
	}
	return ""
}

// placeholderFor is a value that lets settings load without reaching any
// production service: URLs that name nothing that answers, a marked
// non-secret otherwise.
// hosts are the names the requests use, for host and origin lists (in the
// form djangoVersion reads: host names before 4.0).
func placeholderFor(name string, hosts []string, djangoVersion string) string {
	switch {
	case strings.Contains(name, "DATABASE") && strings.HasSuffix(name, "URL"):
		return "sqlite://:memory:"
	case strings.Contains(name, "CACHE") && strings.HasSuffix(name, "URL"):
		return "locmemcache://"
	case strings.Contains(name, "REDIS") || strings.Contains(name, "BROKER"):
		return "redis://127.0.0.1:1/0"
	case strings.HasSuffix(name, "URL"):
		return "https://placeholder.invalid/"
	case strings.HasSuffix(name, "HOSTS"):
		return strings.Join(hosts, ",")
	case strings.HasSuffix(name, "ORIGINS"):
		origins := make([]string, len(hosts))
		for i, h := range hosts {
			origins[i] = "https://" + h
			if major, _, _ := strings.Cut(djangoVersion, "."); major < "4" && len(major) == 1 {
				origins[i] = h
			}
		}
		return strings.Join(origins, ",")
	case strings.HasSuffix(name, "DSN"):
		return "" // an error reporter's DSN: empty turns it off
	}
	return "devstack-doctor-placeholder"
}

// withoutApp is doctor --settings' report when the app does not start
// with the module asked for: each live check could not run, with the
// app's own error as the reason, and the checks the settings files can
// answer are judged from them.
func withoutApp(ctx context.Context, p *project.Project, module, origin string, err error, lines []string) (Report, error) {
	reason := err.Error()
	if last := lastError(lines); last != "" {
		reason = "the app does not start with " + module + ": " + last
	}
	static, serr := readSettings(ctx, p, module)
	if serr != nil {
		static = nil
	}
	about := About{Dir: p.Dir, Origin: origin, Via: "a short-lived stack that did not start", Settings: module,
		Framework: strings.TrimSpace(string(p.Framework) + " " + p.Interpreter.FrameworkVersion),
		Server:    strings.TrimSpace(p.Server + " " + p.Interpreter.GatewayVersion)}
	return Report{About: about, Checks: doctor.CheckWithoutApp(module, reason, static)}, nil
}

// lastError is the exception line of a Python traceback among the
// gateway's last lines ("KeyError: 'DATABASE_URL'"), or "".
func lastError(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if name, _, ok := strings.Cut(l, ": "); ok && !strings.Contains(name, " ") &&
			(strings.HasSuffix(name, "Error") || strings.HasSuffix(name, "Exception") || strings.HasSuffix(name, "ImproperlyConfigured")) {
			return l
		}
	}
	return ""
}

// readSettings reads what module's files set, without running them, with
// the project's interpreter (templates.SettingsReader).
func readSettings(ctx context.Context, p *project.Project, module string) (*templates.SettingsModule, error) {
	dir, err := os.MkdirTemp("", "devstack-settings-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := templates.WriteTo(dir); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.Interpreter.Path, filepath.Join(dir, templates.SettingsReader), module)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), p.Env...)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("reading the settings module %s: %w", module, err)
	}
	var m templates.SettingsModule
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("reading the settings module %s: %w", module, err)
	}
	return &m, nil
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
	settings  string   // the settings module asked for (doctor --settings), "" for the project's
}

// examine collects the evidence through t and runs the checks on it.
func examine(ctx context.Context, t target) (Report, error) {
	client := doctor.Client(t.roots, t.proxyAddr, 30*time.Second)
	defer client.CloseIdleConnections()
	ev, err := doctor.Collect(ctx, client, t.origin, t.probePath, t.headers)
	ev.SettingsOverride = t.settings
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
