package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/devstack-dev/devstack/events"
)

// RestartPolicy says when a process that ended by itself is started again.
type RestartPolicy int

const (
	RestartOnFailure RestartPolicy = iota // after a non-zero exit or a signal (default)
	RestartAlways                         // after any exit
	RestartNever                          // never; the process stays exited or crashed
)

// ProcessSpec describes a process to supervise.
type ProcessSpec struct {
	Name string   // shown as the log source; required
	Argv []string // the command and its arguments; required
	Dir  string   // working directory; default: devstack's
	// Env holds KEY=VALUE entries added to devstack's own environment
	// (later entries win). A PATH set here is also used to find Argv[0].
	Env []string
	// Shell runs Argv joined by spaces as a /bin/sh command line. A simple
	// command is run as `exec COMMAND` so the shell is replaced by it and
	// signals reach the real program.
	Shell bool

	// TermLeaderOnly makes Stop send SIGTERM to the process itself rather
	// than its whole group, for a leader that stops its own children in
	// order (gunicorn's master); what is left of the group still gets
	// SIGKILL after StopTimeout. A group-wide SIGTERM races with a gunicorn
	// worker still booting: until it installs its own handlers it runs the
	// master's, which swallows the signal, and the master then waits out its
	// graceful_timeout (30 s) for that worker. Default false (the group).
	TermLeaderOnly bool

	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL
	// (default 5s).
	StopTimeout time.Duration
	// Restart is the restart policy (default RestartOnFailure).
	Restart RestartPolicy
	// BackoffInitial is the wait before the first restart after a crash;
	// it doubles with each crash in a row (default 250ms).
	BackoffInitial time.Duration
	// BackoffMax caps the wait between restarts (default 10s).
	BackoffMax time.Duration
	// StableAfter is how long a run must last for the wait to go back to
	// BackoffInitial (default 10s).
	StableAfter time.Duration
	// ControlLines, when set, gives the child a pipe of its own as file
	// descriptor ControlFD and receives each line written there, on a
	// goroutine of the supervisor's. It carries what the child tells
	// devstack (the gunicorn wrapper's markers) on a channel the app's own
	// output cannot reach. Nil means no such pipe.
	ControlLines func(line string)

	// StayDown, when set, is asked after the child ended by itself whether
	// it must stay down until Restart is called, whatever the Restart
	// policy: the gateway uses it for an app that failed to import, which
	// only a file change can fix. code is the exit code, -1 when a signal
	// killed the child; ran is how long it ran. Nil means the policy decides.
	StayDown func(code int, ran time.Duration) bool

	// PublishLines, when set, publishes the child's output lines instead
	// of the publish func given to NewProcess: the lines of one read at
	// once, in order, handed over to keep (typically Bus.PublishOwned), so
	// a process printing fast costs one publication per read rather than
	// one per line.
	PublishLines func([]events.Event)
}

// ControlFD is the file descriptor number of the ControlLines pipe in the
// child: the first one after stdin, stdout and stderr.
const ControlFD = 3

// Defaults for ProcessSpec.
const (
	DefaultStopTimeout    = 5 * time.Second
	DefaultBackoffInitial = 250 * time.Millisecond
	DefaultBackoffMax     = 10 * time.Second
	DefaultStableAfter    = 10 * time.Second
)

// Process supervises one child process: it starts it in its own process
// group, streams its output to the log bus, restarts it after a crash with
// exponential backoff, and stops the whole group on request.
//
// One goroutine owns the child and its state; the methods talk to it over
// a channel, and Status reads the snapshot it publishes.
type Process struct {
	spec     ProcessSpec
	publish  func(events.Event)
	requests chan request
	status   atomic.Pointer[events.ProcessStatus]
	started  atomic.Bool
	done     chan struct{}
}

// NewProcess returns a supervisor for spec that publishes the child's
// output and state changes through publish (typically Bus.Publish; nil
// discards them). Nothing runs until Start.
func NewProcess(spec ProcessSpec, publish func(events.Event)) (*Process, error) {
	if spec.Name == "" {
		return nil, errors.New("process has no name")
	}
	if len(spec.Argv) == 0 || spec.Argv[0] == "" {
		return nil, fmt.Errorf("process %s has no command", spec.Name)
	}
	if spec.StopTimeout <= 0 {
		spec.StopTimeout = DefaultStopTimeout
	}
	if spec.BackoffInitial <= 0 {
		spec.BackoffInitial = DefaultBackoffInitial
	}
	if spec.BackoffMax <= 0 {
		spec.BackoffMax = DefaultBackoffMax
	}
	if spec.BackoffMax < spec.BackoffInitial {
		spec.BackoffMax = spec.BackoffInitial
	}
	if spec.StableAfter <= 0 {
		spec.StableAfter = DefaultStableAfter
	}
	if publish == nil {
		publish = func(events.Event) {}
	}
	p := &Process{
		spec:     spec,
		publish:  publish,
		requests: make(chan request),
		done:     make(chan struct{}),
	}
	p.status.Store(&events.ProcessStatus{Name: spec.Name})
	return p, nil
}

// Name returns the process's name.
func (p *Process) Name() string { return p.spec.Name }

// Start runs the child and returns once it has been executed; an error
// means it could not be (the command does not exist, the directory is
// missing). Cancelling ctx stops the process as Stop(false) does. A
// Process is started once; after it has stopped, make a new one.
func (p *Process) Start(ctx context.Context) error {
	if !p.started.CompareAndSwap(false, true) {
		return fmt.Errorf("process %s was already started", p.spec.Name)
	}
	startErr := make(chan error, 1)
	go p.supervise(ctx, startErr)
	return <-startErr
}

// Stop sends SIGTERM to the process group, waits up to StopTimeout, then
// sends SIGKILL to the group; force skips the wait (a second Ctrl-C). It
// returns once the child has exited, and ends the supervisor. Stopping a
// process that is not running just ends the supervisor.
func (p *Process) Stop(force bool) error {
	return p.ask(request{kind: requestStop, force: force})
}

// Restart stops the child as Stop(false) does, waits for it to exit, and
// starts it again; a process waiting to be restarted after a crash is
// started at once. It returns once the new child has been executed.
func (p *Process) Restart() error {
	return p.ask(request{kind: requestRestart})
}

// RestartWithin is Restart giving the child stopTimeout, rather than the
// spec's StopTimeout, between SIGTERM and SIGKILL: a gateway restarted for
// a configuration change gets its own graceful timeout to finish what it
// serves. A stopTimeout of 0 is the spec's.
func (p *Process) RestartWithin(stopTimeout time.Duration) error {
	return p.ask(request{kind: requestRestart, timeout: stopTimeout})
}

// Signal sends sig to the child itself, not its group: SIGHUP to a
// gunicorn master makes it reload its workers gracefully, while the same
// signal to the whole group would also hit the workers.
func (p *Process) Signal(sig syscall.Signal) error {
	return p.ask(request{kind: requestSignal, sig: sig})
}

// SetEnv replaces the entries added to the child's environment from the
// next start on (a restart, or a restart after a crash); the running child
// keeps the environment it was started with.
func (p *Process) SetEnv(env []string) error {
	return p.ask(request{kind: requestSetEnv, env: append([]string(nil), env...)})
}

// SetCommand makes the next start run spec's command: its Argv, Dir, Env,
// Shell and TermLeaderOnly (the rest of the process's spec stays). The
// running child is left alone; Restart starts the new command.
func (p *Process) SetCommand(spec ProcessSpec) error {
	c := ProcessSpec{Argv: append([]string(nil), spec.Argv...), Dir: spec.Dir,
		Env: append([]string(nil), spec.Env...), Shell: spec.Shell, TermLeaderOnly: spec.TermLeaderOnly}
	return p.ask(request{kind: requestSetCommand, command: &c})
}

// Status returns a snapshot of the process's state.
func (p *Process) Status() events.ProcessStatus { return *p.status.Load() }

// Done is closed when the supervisor has ended: after Stop, after the Start
// context was cancelled and the child has exited, or when Start failed.
func (p *Process) Done() <-chan struct{} { return p.done }

func (p *Process) ask(r request) error {
	if !p.started.Load() {
		if r.kind == requestStop {
			return nil
		}
		return fmt.Errorf("process %s has not been started", p.spec.Name)
	}
	r.reply = make(chan error, 1)
	select {
	case p.requests <- r:
	case <-p.done:
		if r.kind == requestStop {
			return nil
		}
		return fmt.Errorf("process %s is %s", p.spec.Name, p.Status().State)
	}
	err := <-r.reply
	if r.kind == requestStop {
		<-p.done // the supervisor returns right after answering
	}
	return err
}

type requestKind int

const (
	requestStop requestKind = iota + 1
	requestRestart
	requestSignal
	requestSetEnv
	requestSetCommand
)

type request struct {
	kind    requestKind
	force   bool
	sig     syscall.Signal
	env     []string      // requestSetEnv
	command *ProcessSpec  // requestSetCommand: its Argv, Dir, Env, Shell and TermLeaderOnly
	timeout time.Duration // requestRestart: SIGTERM to SIGKILL; 0 means StopTimeout
	reply   chan error
}

// commandLine returns what to execute for spec.
func commandLine(spec ProcessSpec) []string {
	if !spec.Shell {
		return spec.Argv
	}
	line := strings.Join(spec.Argv, " ")
	if isSimpleCommand(line) {
		line = "exec " + line
	}
	return []string{"/bin/sh", "-c", line}
}

// isSimpleCommand reports whether line is one command the shell can exec
// in place of itself (no lists, pipes, subshells or background jobs).
func isSimpleCommand(line string) bool {
	trimmed := strings.TrimSpace(line)
	if trimmed == "" || strings.HasPrefix(trimmed, "exec ") {
		return false
	}
	return !strings.ContainsAny(trimmed, ";&|()\n`{}")
}

// environ returns devstack's environment with extra entries added.
func environ(extra []string) []string {
	return append(os.Environ(), extra...)
}
