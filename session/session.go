// Package session turns a project into a running, checked stack: it loads
// the local CA and the proxy's certificate, starts the orchestrator's stack
// in a private run directory, keeps the trust checks running against it,
// records where it runs so that devstack doctor can find it, and runs the
// doctor itself, through that stack or a short-lived one of its own.
//
// Its calls return values or errors; they never print or exit. What the
// user should hear comes back as a Notice or an error with a Hint method.
package session

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/devstack-dev/devstack/certs"
	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/orchestrator"
	"github.com/devstack-dev/devstack/project"
)

// Options configure Start and Doctor.
type Options struct {
	// Flags override the environment (DEVSTACK_*), the config file and
	// what detection finds. Zero fields leave those alone.
	Flags project.Overrides
	// NoWatch turns file watching, and so reloads on a save, off (Start
	// only; Doctor never watches).
	NoWatch bool
	// Notify receives what the user should know that is not an error: the
	// project's warnings, a CA created on first use. Nil drops them.
	Notify func(Notice)
	// AnyPort makes the proxy listen on a free port (up --port 0, as
	// devstack proxy --port 0 does) whatever the configuration says; the
	// port chosen is told through Notify (Start only). Default false.
	AnyPort bool
	// Settings is the Django settings module to check instead of the one
	// the project runs (Doctor only, for this run: doctor --settings).
	// Default "": the project's own.
	Settings string
}

func (o Options) notify(n Notice) {
	if o.Notify != nil {
		o.Notify(n)
	}
}

// Detect finds the project in dir: flags over the DEVSTACK_* environment
// over the project's config files over what detection finds.
func Detect(dir string, flags project.Overrides) (*project.Project, error) {
	env, err := project.EnvOverrides(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	return project.Detect(dir, flags.Or(env))
}

// Session is one running devstack up: the stack, its trust watcher and the
// run record devstack doctor finds.
type Session struct {
	// Project is what runs, as detection found it.
	Project *project.Project

	run        *stackRun
	sub        *orchestrator.Subscription
	stopChecks context.CancelFunc
	checks     sync.WaitGroup
	stopping   sync.Once
	// stopRecording ends the list of process groups kept for the next up
	// (recordProcessGroups), once everything has stopped.
	stopRecording func()
}

// Start detects the project in dir and starts its stack: the proxy, the
// gateway, the extra processes and the watcher, with the CA and the
// proxy's certificate loaded (or minted, on first use) while the gateway
// starts. For a WSGI or ASGI gateway it also runs the trust checks once the
// app answers and after every reload, and records the running stack for
// devstack doctor. Stop ends it all.
//
// When the stack fails to start, the error is a *StartError holding what
// the processes printed before it failed.
func Start(ctx context.Context, dir string, opts Options) (*Session, error) {
	p, err := Detect(dir, opts.Flags)
	if err != nil {
		return nil, err
	}
	for _, w := range p.Warnings {
		opts.notify(Notice{Warning: true, Text: w})
	}
	if opts.AnyPort {
		p.Port = 0 // the proxy's listener picks it
	}
	if others, _ := runningRecords(p.Dir); len(others) > 0 {
		o := others[len(others)-1]
		opts.notify(Notice{Warning: true,
			Text: fmt.Sprintf("another devstack up runs for this project (pid %d, %s); this one starts beside it", o.PID, o.Origin),
			Hint: fmt.Sprintf("stop that one first (kill %d) unless you mean to run both", o.PID)})
	}
	stopRecording := recordProcessGroups(p.Dir, opts.notify)
	// The subscription is made before anything starts, so it sees every
	// line. It is lossless: plain output loses no line (the processes wait
	// for it instead), and the terminal UI takes every event as it comes.
	bus := orchestrator.NewBus(orchestrator.BusOptions{})
	sub := bus.SubscribeLossless()
	redetect := func() (*project.Project, error) {
		p, err := Detect(dir, opts.Flags)
		if err == nil && opts.AnyPort {
			p.Port = 0
		}
		return p, err
	}
	run, err := startStack(ctx, p, orchestrator.Options{Bus: bus, NoWatch: opts.NoWatch, Redetect: redetect}, opts.Notify)
	if err != nil {
		stopRecording()
		bus.Close()
		se := &StartError{Err: err}
		for batch := range sub.Batches() {
			se.Output = append(se.Output, batch...)
		}
		return nil, se
	}
	s := &Session{Project: p, run: run, sub: sub, stopRecording: stopRecording}
	if opts.AnyPort {
		opts.notify(Notice{Text: fmt.Sprintf("the proxy listens on port %d, a free one (--port 0)", p.Port)})
	}
	s.say(fmt.Sprintf("%s app %s in %s, served by %s (%s)", p.Framework, describeTarget(p), p.AppDir, p.Server, p.Interpreter.Path))
	if p.GatewayFrom != "" {
		s.say(describeGatewayFrom(p))
	}
	checkCtx, stopChecks := context.WithCancel(ctx)
	s.stopChecks = stopChecks
	if p.Server != project.ServerCommand {
		s.checks.Go(func() { watchTrust(checkCtx, run.stack, run.roots) })
		s.checks.Go(func() { s.record(checkCtx) })
	}
	return s, nil
}

// StartError is a stack that failed to start, with what its processes
// printed until then.
type StartError struct {
	Err    error
	Output []events.Event
}

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// record tells devstack doctor where this stack is, from the moment it
// answers until ctx is done.
func (s *Session) record(ctx context.Context) {
	stack := s.run.stack
	select {
	case <-stack.Ready():
	case <-ctx.Done():
		return
	}
	remove := writeRunRecord(RunRecord{PID: os.Getpid(), Dir: s.Project.Dir, Origin: strings.TrimSuffix(stack.URL(), "/"),
		ProbePath: stack.ProbePath(), Headers: stack.ForwardedHeaders(), Gateway: stack.GatewayAddr(), Hosts: s.Project.Hosts})
	<-ctx.Done()
	remove()
}

// Batches is everything the stack reports, from before it started, until
// Stop has returned, in batches as published (see
// orchestrator.Subscription.Batches: shared, never to be changed).
func (s *Session) Batches() <-chan []events.Event { return s.sub.Batches() }

// Status is a snapshot of the stack.
func (s *Session) Status() events.StackStatus { return s.run.stack.Status() }

// Reload reloads the gateway now, for the reason given (shown in the log).
func (s *Session) Reload(ctx context.Context, reason string) {
	s.run.stack.ReloadGateway(ctx, reason, false, time.Time{})
}

// Stop ends the session: the checks and the run record first, then the
// stack (SIGTERM, then SIGKILL after the stop timeout; force kills at
// once). Called again with force while a stop is under way, it hurries
// that stop. It returns once everything is gone; Events is closed then.
func (s *Session) Stop(force bool) {
	s.stopping.Do(func() {
		s.stopChecks()
		s.checks.Wait()
		s.say("stopping (press Ctrl-C again to stop at once)")
	})
	s.run.stop(force)
	s.stopRecording()
}

func (s *Session) say(text string) {
	s.run.stack.Bus().Publish(events.Event{Kind: events.KindMessage, Source: events.SourceDevstack, Text: text})
}

// describeTarget names the app p serves, for messages.
func describeTarget(p *project.Project) string {
	switch {
	case p.Target == "":
		return "(custom command)"
	case p.Layout != "" && p.Layout != "manage.py":
		return p.Target + " (from " + p.Layout + ")"
	}
	return p.Target
}

// describeGatewayFrom says which of the Procfile's options the gateway
// runs with and which devstack decides itself.
func describeGatewayFrom(p *project.Project) string {
	text := fmt.Sprintf("gateway command from the web line in %s: %s", p.GatewayFrom, p.Server)
	if len(p.GatewayOptions) > 0 {
		text += " " + strings.Join(p.GatewayOptions, " ")
	}
	if len(p.GatewayDropped) > 0 {
		text += fmt.Sprintf(" (devstack sets %s itself)", strings.Join(p.GatewayDropped, ", "))
	}
	return text
}

// stackRun is a started stack with what it was started with.
type stackRun struct {
	stack   *orchestrator.Stack
	roots   *x509.CertPool // verifies the proxy's certificate
	runDir  string
	cleanup sync.Once
}

// startStack starts p's stack in a new run directory, with the CA and the
// proxy's certificate loaded (or minted, on first use) while the gateway
// starts.
func startStack(ctx context.Context, p *project.Project, opts orchestrator.Options, notify func(Notice)) (*stackRun, error) {
	existing, err := checkCA()
	if err != nil {
		return nil, err
	}
	runDir, err := os.MkdirTemp("", "devstack-run-")
	if err != nil {
		return nil, fmt.Errorf("creating a run directory: %w", err)
	}
	run := &stackRun{runDir: runDir}
	opts.Project, opts.RunDir = p, runDir
	var certifi []string
	if f := p.Interpreter.CertifiBundle; f != "" {
		certifi = append(certifi, f)
	}
	if p.CABundle {
		// Written before the gateway starts, so that a client the app
		// makes at import time reads it whole; with a CA minted only now,
		// it is written again, with the CA, before the proxy answers.
		opts.CABundle = filepath.Join(runDir, "ca-bundle.pem")
		var caCert *x509.Certificate
		if existing != nil {
			caCert = existing.Cert
		}
		if err := certs.WriteBundle(opts.CABundle, caCert, certifi...); err != nil {
			os.RemoveAll(runDir)
			return nil, err
		}
	}
	opts.LoadTLS = func() (*tls.Config, *x509.CertPool, error) {
		// The CA checkCA loaded is used as it is; only a missing one is
		// minted here.
		tlsConfig, ca, err := serverTLS(existing, p.Dir, p.Hosts, notify)
		if err != nil {
			return nil, nil, err
		}
		if opts.CABundle != "" && existing == nil {
			if err := certs.WriteBundle(opts.CABundle, ca.Cert, certifi...); err != nil {
				return nil, nil, err
			}
		}
		run.roots = ca.Pool()
		return tlsConfig, run.roots, nil
	}
	if run.stack, err = orchestrator.Start(ctx, opts); err != nil {
		os.RemoveAll(runDir)
		return nil, err
	}
	return run, nil
}

// stop stops the stack, closes its bus and removes the run directory.
func (r *stackRun) stop(force bool) {
	r.stack.Stop(force)
	r.cleanup.Do(func() {
		r.stack.Bus().Close()
		os.RemoveAll(r.runDir)
	})
}
