package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/devstack-dev/devstack/certs"
	"github.com/devstack-dev/devstack/doctor"
	"github.com/devstack-dev/devstack/orchestrator"
	"github.com/devstack-dev/devstack/project"
)

// doctorStartTimeout bounds how long doctor waits for the app to answer.
const doctorStartTimeout = 90 * time.Second

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:      "doctor",
		Usage:     "explain every proxy-trust misconfiguration, with its fix",
		UsageText: "devstack doctor [--dir DIR] [--json] [--strict] [--python PATH]",
		Description: "Starts the project's stack on free ports for a moment (the HTTPS proxy in front\n" +
			"of the app's own gateway server and settings), asks the app what it sees, and\n" +
			"checks its proxy-trust settings. Exit status: 0 no failure (warnings allowed\n" +
			"unless --strict), 1 failures, 2 the checks could not run.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: ".", Usage: "the project directory"},
			&cli.BoolFlag{Name: "json", Usage: "print the results as JSON"},
			&cli.BoolFlag{Name: "strict", Usage: "warnings fail too"},
			&cli.StringFlag{Name: "python", Usage: "the Python interpreter that runs the app"},
			&cli.StringFlag{Name: "app", Usage: `the app to serve, "pkg.module:callable"`},
		},
		Action: func(c *cli.Context) error {
			results, about, err := runDoctor(c.Context, c.String("dir"), project.Overrides{
				Python: c.String("python"), App: c.String("app"), Command: c.Args().Slice(),
			}, c.App.ErrWriter)
			if err != nil {
				return exitError{code: 2, err: err}
			}
			if c.Bool("json") {
				err = printDoctorJSON(c.App.Writer, about, results)
			} else {
				printDoctor(c.App.Writer, about, results)
			}
			if err != nil {
				return exitError{code: 2, err: err}
			}
			fails, warns, _ := doctor.Counts(results)
			if fails > 0 || (c.Bool("strict") && warns > 0) {
				return exitError{code: 1}
			}
			return nil
		},
	}
}

// doctorAbout names what was checked, for the report's first line.
type doctorAbout struct {
	Dir       string `json:"dir"`
	Framework string `json:"framework"`
	Server    string `json:"server"`
	Origin    string `json:"origin"`
	Via       string `json:"via"` // the running devstack up, or a short-lived stack
}

// runDoctor starts the project's stack on free loopback ports, without
// watching files or running the extra processes, collects the evidence
// through the proxy and stops the stack again.
func runDoctor(ctx context.Context, dir string, flags project.Overrides, stderr io.Writer) ([]doctor.Result, doctorAbout, error) {
	var about doctorAbout
	env, err := project.EnvOverrides(os.LookupEnv)
	if err != nil {
		return nil, about, err
	}
	flags = flags.Or(env)
	// A devstack up running for the directory is asked first, before any
	// detection: it may have been started with flags (--app, --python) that
	// doctor was not given, and it already knows what it runs.
	if abs, err := filepath.Abs(dir); err == nil {
		if results, about, ok := doctorThroughRunningUp(ctx, abs); ok {
			return results, about, nil
		}
	}
	// Free ports, so that the checks run beside a running devstack up.
	if flags.AppPort, err = freeLoopbackPort(); err != nil {
		return nil, about, err
	}
	p, err := project.Detect(dir, flags)
	if err != nil {
		return nil, about, err
	}
	// The requests still name the site as the browser does, with the
	// project's port: ALLOWED_HOSTS and CSRF verdicts depend on it.
	browserPort := p.Port
	origin := fmt.Sprintf("https://localhost:%d", browserPort)
	if p.Port, err = freeLoopbackPort(); err != nil {
		return nil, about, err
	}
	p.Processes = nil // the checks need only the proxy and the gateway
	stack, pool, cleanup, err := startStack(ctx, p, stderr, orchestrator.Options{NoWatch: true})
	if err != nil {
		return nil, about, err
	}
	defer cleanup()
	defer stack.Stop(false)
	gateway := stack.Status().Processes[0].Name
	if err := awaitApp(ctx, stack); err != nil {
		lines := stack.Bus().LastLines(gateway, 15)
		if len(lines) > 0 {
			err = fmt.Errorf("%w; its last lines:\n  %s", err, strings.Join(lines, "\n  "))
		}
		return nil, about, hintError{err: err, hint: "fix the error, then run devstack doctor again (devstack up shows it live)"}
	}

	proxyAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port))
	// Every request goes to this run's proxy, whatever port the origin names.
	client := doctor.Client(pool(), proxyAddr, 30*time.Second)
	defer client.CloseIdleConnections()
	ev, err := doctor.Collect(ctx, client, origin, stack.ProbePath(), orchestrator.HeaderPolicy(p.Proxy).Names())
	if err != nil {
		return nil, about, hintError{err: err,
			hint: "run the app on its detected gunicorn or uvicorn command (devstack up shows which), then run devstack doctor again"}
	}
	if err := doctor.CollectHosts(ctx, client, &ev, strconv.Itoa(browserPort), stack.ProbePath(), p.Hosts); err != nil {
		return nil, about, err
	}
	_ = doctor.CollectDirect(ctx, &ev, orchestrator.GatewayAddr(p)) // without it, that one check is left out
	return doctor.Check(ev), aboutOf(p.Dir, ev, "a short-lived stack"), nil
}

// doctorThroughRunningUp runs the checks through the stack of a devstack up
// running for dir, if there is one that answers.
func doctorThroughRunningUp(ctx context.Context, dir string) ([]doctor.Result, doctorAbout, bool) {
	st, err := readRunState(dir)
	if err != nil {
		return nil, doctorAbout{}, false
	}
	caDir, err := certs.Dir()
	if err != nil {
		return nil, doctorAbout{}, false
	}
	ca, err := certs.Load(caDir)
	if err != nil {
		return nil, doctorAbout{}, false
	}
	u, err := url.Parse(st.Origin)
	if err != nil {
		return nil, doctorAbout{}, false
	}
	client := doctor.Client(ca.Pool(), net.JoinHostPort("127.0.0.1", u.Port()), 30*time.Second)
	defer client.CloseIdleConnections()
	ev, err := doctor.Collect(ctx, client, st.Origin, st.ProbePath, st.Headers)
	if err == nil {
		err = doctor.CollectHosts(ctx, client, &ev, u.Port(), st.ProbePath, st.Hosts)
	}
	if err != nil {
		return nil, doctorAbout{}, false
	}
	if st.Gateway != "" {
		_ = doctor.CollectDirect(ctx, &ev, st.Gateway) // without it, that one check is left out
	}
	return doctor.Check(ev), aboutOf(dir, ev, fmt.Sprintf("the running devstack up (pid %d)", st.PID)), true
}

func aboutOf(dir string, ev doctor.Evidence, via string) doctorAbout {
	about := doctorAbout{Dir: dir, Origin: ev.Origin, Via: via,
		Framework: strings.TrimSpace(ev.Probe.Framework.Name + " " + ev.Probe.Framework.Version)}
	if s := ev.Probe.Server; s != nil {
		about.Server = s.Name + " " + s.Version
	}
	return about
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
			switch st := stack.Status().Processes[0]; st.State {
			case orchestrator.StateCrashed, orchestrator.StateExited:
				return fmt.Errorf("the app's gateway (%s) ended before it answered (%s)", st.Name, st.LastExit)
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

var statusWords = map[doctor.Status]string{doctor.Pass: "PASS", doctor.Warn: "WARN", doctor.Fail: "FAIL"}

// printDoctor writes the results for a person: failures first, then
// warnings, then passes, each with its evidence and fix.
func printDoctor(w io.Writer, about doctorAbout, results []doctor.Result) {
	fmt.Fprintf(w, "devstack doctor: %s under %s in %s, through %s (%s)\n\n", about.Framework, about.Server, about.Dir, about.Origin, about.Via)
	for _, want := range []doctor.Status{doctor.Fail, doctor.Warn, doctor.Pass} {
		for _, r := range results {
			if r.Status != want {
				continue
			}
			fmt.Fprintf(w, "%s  %-22s %s\n", statusWords[r.Status], r.ID, r.Summary)
			if r.Status != doctor.Pass && r.Detail != "" {
				fmt.Fprintf(w, "      %s\n", r.Detail)
			}
			if r.Fix != "" {
				fmt.Fprintf(w, "      fix: %s\n", r.Fix)
			}
		}
	}
	fails, warns, passes := doctor.Counts(results)
	fmt.Fprintf(w, "\n%d failed, %d warnings, %d passed\n", fails, warns, passes)
}

func printDoctorJSON(w io.Writer, about doctorAbout, results []doctor.Result) error {
	fails, warns, passes := doctor.Counts(results)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	err := enc.Encode(struct {
		About   doctorAbout     `json:"about"`
		Checks  []doctor.Result `json:"checks"`
		Summary map[string]int  `json:"summary"`
	}{about, results, map[string]int{"fail": fails, "warn": warns, "pass": passes}})
	if err != nil {
		return errors.New("writing the JSON report: " + err.Error())
	}
	return nil
}
