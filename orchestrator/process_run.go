package orchestrator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/devstack-dev/devstack/events"
)

// outputGrace is how long the exit of a child waits for the last of its
// output without any of it arriving: normally the pipes reach EOF at once,
// but a descendant that left the process group may hold them open forever.
// While lines keep coming (a slow reader of the bus is catching up), the
// wait goes on: no line is lost.
const outputGrace = time.Second

// supervisor is the state owned by the goroutine running Process.supervise.
type supervisor struct {
	p      *Process
	st     events.ProcessStatus
	starts int

	cur     *child        // the running child, nil when there is none
	backoff time.Duration // the last wait before a restart; 0 after a stable run

	retry  *time.Timer
	retryC <-chan time.Time
	kill   *time.Timer
	killC  <-chan time.Time

	stopping         bool          // SIGTERM sent, waiting for the child to exit
	stopTimeout      time.Duration // of the stop under way
	restartAfterStop bool          // the stop is part of a Restart
	stopWaiters      []chan error
	restartWaiters   []chan error
	finished         bool
}

// child is one run of the command.
type child struct {
	pid       int
	startedAt time.Time
	exited    chan childExit // receives once, after the output is drained
}

type childExit struct {
	desc  string // "exit code 1", "killed by SIGKILL"
	code  int    // the exit code, -1 when killed by a signal
	clean bool   // exit code 0
	at    time.Time
}

func (p *Process) supervise(ctx context.Context, startErr chan<- error) {
	// The kernel sends the Pdeathsig signal when the *thread* that forked
	// the child ends, not the process: every child is started from this
	// goroutine, locked to its thread for its whole life. The thread is
	// never unlocked, so it ends when this goroutine returns — after the
	// last child has been stopped.
	runtime.LockOSThread()
	defer close(p.done)

	s := &supervisor{p: p, st: events.ProcessStatus{Name: p.spec.Name}}
	err := s.start()
	if err != nil {
		err = fmt.Errorf("starting %s: %w", p.spec.Name, err)
	}
	startErr <- err
	if err != nil {
		return
	}

	ctxDone := ctx.Done()
	for !s.finished {
		var exited <-chan childExit
		if s.cur != nil {
			exited = s.cur.exited
		}
		select {
		case <-ctxDone:
			ctxDone = nil
			s.beginStop(false, nil)
		case r := <-p.requests:
			s.handle(r)
		case ex := <-exited:
			s.childExited(ex)
		case <-s.retryC:
			s.retryC = nil
			s.start()
		case <-s.killC:
			s.killC = nil
			signalGroup(s.cur.pid, syscall.SIGKILL)
		}
	}
}

func (s *supervisor) handle(r request) {
	switch r.kind {
	case requestStop:
		s.beginStop(r.force, r.reply)
	case requestRestart:
		switch {
		case s.stopping && !s.restartAfterStop:
			r.reply <- fmt.Errorf("process %s is stopping", s.p.spec.Name)
		case s.cur == nil:
			s.cancelRetry()
			r.reply <- s.start()
		default:
			s.restartWaiters = append(s.restartWaiters, r.reply)
			s.restartAfterStop = true
			s.terminate(false, r.timeout)
		}
	case requestSetEnv:
		s.p.spec.Env = r.env
		r.reply <- nil
	case requestSetCommand:
		c := r.command
		s.p.spec.Argv, s.p.spec.Dir, s.p.spec.Env = c.Argv, c.Dir, c.Env
		s.p.spec.Shell, s.p.spec.TermLeaderOnly = c.Shell, c.TermLeaderOnly
		r.reply <- nil
	case requestSignal:
		if s.cur == nil || s.stopping {
			r.reply <- fmt.Errorf("process %s is not running (%s)", s.p.spec.Name, s.st.State)
			return
		}
		if err := syscall.Kill(s.cur.pid, r.sig); err != nil {
			r.reply <- fmt.Errorf("sending %s to %s (pid %d): %w", signalName(r.sig), s.p.spec.Name, s.cur.pid, err)
			return
		}
		r.reply <- nil
	}
}

// beginStop handles Stop (reply may be nil when the context ended).
func (s *supervisor) beginStop(force bool, reply chan error) {
	if reply != nil {
		s.stopWaiters = append(s.stopWaiters, reply)
	}
	if s.restartAfterStop {
		s.restartAfterStop = false
		s.answerRestarts(fmt.Errorf("process %s was stopped before it could restart", s.p.spec.Name))
	}
	if s.cur == nil {
		s.cancelRetry()
		s.setState(events.StateStopped)
		s.finish()
		return
	}
	s.terminate(force, 0)
}

// terminate sends SIGTERM to the child's group and arms the SIGKILL timer
// (timeout, or StopTimeout when 0), or sends SIGKILL at once when force is
// set. A stop already under way keeps its timer unless force is set.
func (s *supervisor) terminate(force bool, timeout time.Duration) {
	pid := s.cur.pid
	if s.stopping {
		if force {
			s.stopKillTimer()
			signalGroup(pid, syscall.SIGKILL)
		}
		return
	}
	if timeout <= 0 {
		timeout = s.p.spec.StopTimeout
	}
	s.stopping, s.stopTimeout = true, timeout
	s.setState(events.StateStopping)
	if s.p.spec.TermLeaderOnly && !force {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	} else {
		signalGroup(pid, syscall.SIGTERM)
	}
	if force {
		signalGroup(pid, syscall.SIGKILL)
		return
	}
	s.kill = time.NewTimer(timeout)
	s.killC = s.kill.C
}

func (s *supervisor) childExited(ex childExit) {
	s.cur = nil
	s.stopKillTimer()
	s.st.PID = 0
	s.st.LastExit = ex.desc

	if s.stopping {
		s.stopping = false
		s.setState(events.StateStopped)
		if s.restartAfterStop {
			s.restartAfterStop = false
			s.answerRestarts(s.start())
			return
		}
		s.finish()
		return
	}

	if ex.clean {
		s.setState(events.StateExited)
	} else {
		s.setState(events.StateCrashed)
	}
	ran := ex.at.Sub(s.st.StartedAt)
	if s.p.spec.StayDown != nil && s.p.spec.StayDown(ex.code, ran) {
		return
	}
	policy := s.p.spec.Restart
	if policy == RestartAlways || (policy == RestartOnFailure && !ex.clean) {
		s.scheduleRestart(ran)
	}
}

// scheduleRestart waits before the next start: BackoffInitial after a run
// that lasted StableAfter (or the first crash), double the previous wait
// otherwise, never more than BackoffMax.
func (s *supervisor) scheduleRestart(ran time.Duration) {
	spec := s.p.spec
	if s.backoff == 0 || ran >= spec.StableAfter {
		s.backoff = spec.BackoffInitial
	} else {
		s.backoff = min(2*s.backoff, spec.BackoffMax)
	}
	s.retry = time.NewTimer(s.backoff)
	s.retryC = s.retry.C
	s.setStateBackoff(s.backoff)
}

// start executes the command; a failure to do so counts as a crash.
func (s *supervisor) start() error {
	if s.starts > 0 {
		s.st.Restarts++
	}
	s.starts++
	s.setState(events.StateStarting)
	c, err := s.p.spawn()
	if err != nil {
		s.st.LastExit = "could not start: " + err.Error()
		s.setState(events.StateCrashed)
		if s.starts > 1 && s.p.spec.Restart != RestartNever {
			s.scheduleRestart(0)
		}
		return err
	}
	s.cur = c
	s.st.PID = c.pid
	s.st.StartedAt = c.startedAt
	s.setState(events.StateRunning)
	return nil
}

func (s *supervisor) finish() {
	for _, w := range s.stopWaiters {
		w <- nil
	}
	s.stopWaiters = nil
	s.finished = true
}

func (s *supervisor) answerRestarts(err error) {
	for _, w := range s.restartWaiters {
		w <- err
	}
	s.restartWaiters = nil
}

func (s *supervisor) cancelRetry() {
	if s.retry != nil {
		s.retry.Stop()
		s.retryC = nil
	}
}

func (s *supervisor) stopKillTimer() {
	if s.kill != nil {
		s.kill.Stop()
		s.killC = nil
	}
}

func (s *supervisor) setState(state events.State) { s.publishState(state, 0) }

func (s *supervisor) setStateBackoff(wait time.Duration) { s.publishState(events.StateBackoff, wait) }

func (s *supervisor) publishState(state events.State, wait time.Duration) {
	s.st.State = state
	snap := s.st
	s.p.status.Store(&snap)

	change := events.StateChange{State: state, PID: s.st.PID, Restarts: s.st.Restarts, Backoff: wait}
	var text string
	switch state {
	case events.StateStarting:
		text = "starting: " + strings.Join(commandLine(s.p.spec), " ")
	case events.StateRunning:
		text = fmt.Sprintf("running (pid %d)", s.st.PID)
	case events.StateExited, events.StateCrashed, events.StateStopped:
		change.Exit = s.st.LastExit
		text = state.String()
		if s.st.LastExit != "" {
			text += " (" + s.st.LastExit + ")"
		}
	case events.StateBackoff:
		text = fmt.Sprintf("restarting in %s", wait)
	case events.StateStopping:
		text = fmt.Sprintf("stopping (SIGTERM, then SIGKILL after %s)", s.stopTimeout)
	}
	s.p.publish(events.Event{Kind: events.KindState, Source: s.p.spec.Name, Text: text, Change: &change})
}

// spawn executes the command in a new process group with its output
// going to the log bus.
func (p *Process) spawn() (*child, error) {
	argv := commandLine(p.spec)
	path := argv[0]
	if found, ok := lookPathIn(path, envPath(p.spec.Env)); ok {
		path = found
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Dir = p.spec.Dir
	cmd.Env = environ(p.spec.Env)
	cmd.SysProcAttr = processAttr()

	// Real pipes, not io.Writers: exec would copy those in goroutines that
	// Wait waits for, and a background grandchild holding the pipe open
	// would hang the supervisor.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	outPipe, errPipe := growPipe(outR), growPipe(errR)
	cmd.Stdout, cmd.Stderr = outW, errW
	var ctlR, ctlW *os.File
	if p.spec.ControlLines != nil {
		if ctlR, ctlW, err = os.Pipe(); err != nil {
			outR.Close()
			outW.Close()
			errR.Close()
			errW.Close()
			return nil, err
		}
		cmd.ExtraFiles = []*os.File{ctlW} // ControlFD
	}
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if ctlW != nil {
		ctlW.Close()
	}
	if err != nil {
		outR.Close()
		errR.Close()
		if ctlR != nil {
			ctlR.Close()
		}
		return nil, err
	}

	c := &child{pid: cmd.Process.Pid, startedAt: time.Now(), exited: make(chan childExit, 1)}
	trackGroup(c.pid)
	var readers sync.WaitGroup
	var published atomic.Int64 // lines published so far: the readers' progress
	publish := func(es []events.Event) {
		if p.spec.PublishLines != nil {
			p.spec.PublishLines(es)
		} else {
			for _, e := range es {
				p.publish(e)
			}
		}
		published.Add(int64(len(es)))
	}
	readers.Go(func() { drain(outR, newLineWriter(p.spec.Name, events.StreamStdout, publish), outPipe) })
	readers.Go(func() { drain(errR, newLineWriter(p.spec.Name, events.StreamStderr, publish), errPipe) })
	if ctlR != nil {
		readers.Go(func() { readControl(ctlR, p.spec.ControlLines) })
	}
	go func() {
		waitErr := cmd.Wait()
		at := time.Now()
		// What is left of the group (workers, background jobs) must not
		// outlive its leader and keep the port or the pipes.
		signalGroup(c.pid, syscall.SIGKILL)
		untrackGroup(c.pid)
		drained := make(chan struct{})
		go func() { readers.Wait(); close(drained) }()
		grace := time.NewTicker(outputGrace)
		for seen := published.Load(); ; {
			select {
			case <-drained:
			case <-grace.C:
				if now := published.Load(); now != seen {
					seen = now
					continue
				}
			}
			break
		}
		grace.Stop()
		outR.Close()
		errR.Close()
		if ctlR != nil {
			ctlR.Close()
		}
		desc, clean := describeExit(cmd.ProcessState, waitErr)
		code := -1
		if cmd.ProcessState != nil {
			code = cmd.ProcessState.ExitCode()
		}
		c.exited <- childExit{desc: desc, code: code, clean: clean, at: at}
	}()
	return c, nil
}

// maxControlLine bounds one line on a control pipe; a longer one is
// nothing devstack's helpers write, and is skipped.
const maxControlLine = 4 << 10

// readControl passes each line read from r to handle until EOF.
func readControl(r io.Reader, handle func(string)) {
	br := bufio.NewReaderSize(r, maxControlLine)
	skipping := false
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			skipping = true
			continue
		case err != nil:
			return // EOF, or the pipe was closed after the child's exit
		case skipping:
			skipping = false
			continue
		}
		handle(strings.TrimRight(string(line), "\r\n"))
	}
}

// envPath returns the last PATH set in env, or "" when there is none.
func envPath(env []string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], "PATH="); ok {
			return v
		}
	}
	return ""
}

// lookPathIn finds an executable named file in the directories of path
// (a PATH value), so that a PATH given to the child (a virtualenv's bin)
// also chooses the program. Names containing a slash are not searched.
func lookPathIn(file, path string) (string, bool) {
	if path == "" || strings.Contains(file, "/") {
		return "", false
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		candidate := dir + "/" + file
		if fi, err := os.Stat(candidate); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return candidate, true
		}
	}
	return "", false
}
