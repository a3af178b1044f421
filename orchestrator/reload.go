package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/orchestrator/watch"
	"github.com/devstack-dev/devstack/project"
	"github.com/devstack-dev/devstack/templates"
)

// reloadTimeout bounds how long a reload waits for the new code to answer.
const reloadTimeout = 60 * time.Second

// Reload strategies, as ReloadRecord.Strategy names them.
const (
	StrategyStandby = "standby" // the standby worker (gunicorn) or process (uvicorn) loads the new code
	StrategyHUP     = "hup"     // SIGHUP to the gunicorn master: new workers, same socket
	StrategyRestart = "restart" // stop the gateway, start it again
)

func (s *Stack) startWatcher(ctx context.Context) error {
	p := s.p
	restartFiles := append([]string(nil), p.EnvFilesWatched()...)
	if p.GunicornConfig != "" {
		restartFiles = append(restartFiles, p.GunicornConfig)
	}
	if p.ConfigFile != "" {
		restartFiles = append(restartFiles, p.ConfigFile)
	}
	var venvs []string
	if p.Interpreter.Venv != "" {
		venvs = append(venvs, p.Interpreter.Venv)
	}
	include := p.Watch.Include
	if len(include) == 1 && include[0] == "**" {
		include = nil // everything: the watcher's default
	}
	w, err := watch.New(watch.Options{
		Root:         p.Dir,
		Include:      include,
		Exclude:      p.Watch.Exclude,
		IgnorePaths:  []string{s.opts.RunDir},
		RestartFiles: restartFiles,
		VenvDirs:     venvs,
		Quiet:        s.opts.QuietPeriod,
	})
	if err != nil {
		return fmt.Errorf("watching %s: %w", p.Dir, err)
	}
	s.watcher = w
	s.bg.Go(func() { w.Run(ctx) })
	s.bg.Go(func() {
		for err := range w.Errors() {
			s.say("watch: %v", err)
		}
	})
	s.bg.Go(func() { watch.Loop(ctx, w.Batches(), s.reload) })
	return nil
}

// reload brings one batch of changes live: the extra processes that asked
// for it are restarted, and the gateway is reloaded or restarted.
func (s *Stack) reload(ctx context.Context, b watch.Batch) {
	if files := s.changedConfig(b); len(files) > 0 && s.opts.Redetect != nil {
		if !s.reconfigure(ctx, files) && onlyConfig(b.Paths, files) {
			return // nothing else changed: the stack goes on as it was
		}
	}
	for _, ep := range s.project().Processes {
		if proc := s.extraNamed(ep.Name); proc != nil && len(ep.RestartOn) > 0 && watch.Matches(ep.RestartOn, b.Paths) {
			s.say("restarting %s: %s", ep.Name, b.Reason())
			if err := proc.Restart(); err != nil {
				s.say("restarting %s: %v", ep.Name, err)
			}
		}
	}
	if s.files != nil && !s.files.needsReload(s.p.Dir, b) {
		return // only files the proxy serves from disk changed
	}
	s.ReloadGateway(ctx, b.Reason(), b.NeedsRestart, b.First)
}

// ReloadGateway brings the gateway's code up to date and returns once a
// server running the new code answers (or the attempt failed, which the
// proxy's error page then shows). trigger says why, for the log; since is
// when the change happened, so the duration reported is save-to-live.
func (s *Stack) ReloadGateway(ctx context.Context, trigger string, fullRestart bool, since time.Time) events.ReloadRecord {
	if since.IsZero() {
		since = time.Now()
	}
	st := s.gateway.Status()
	strategy := StrategyRestart
	if !fullRestart && st.State == events.StateRunning && *s.down.Load() == "" {
		switch mode := s.marks.reloadMode(); {
		case mode == templates.ReloadStandby:
			strategy = StrategyStandby // gunicorn, or uvicorn under its supervisor
		case mode == templates.ReloadHUP && s.project().Server == project.ServerGunicorn:
			strategy = StrategyHUP
		}
	}
	rec := events.ReloadRecord{Trigger: trigger, Strategy: strategy}
	start := rec // the event keeps its own: rec goes on
	s.bus.Publish(events.Event{Kind: events.KindReloadStart, Source: events.SourceDevstack, Reload: &start,
		Text: fmt.Sprintf("reloading (%s): %s", strategy, trigger)})

	timeout := reloadTimeout
	if strategy == StrategyRestart {
		timeout += s.gracefulTimeout() // the old gateway finishes its requests first
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	switch strategy {
	case StrategyStandby:
		err = s.newGeneration(ctx, s.requestReload, s.nudge)
	case StrategyHUP:
		err = s.newGeneration(ctx, func() error { return s.gateway.Signal(syscall.SIGHUP) }, nil)
	default:
		err = s.restartGateway(ctx)
	}
	rec.Duration = time.Since(since)
	text := fmt.Sprintf("reloaded in %s: %s", rec.Duration.Round(time.Millisecond), trigger)
	if err != nil {
		rec.Err = err.Error()
		text = fmt.Sprintf("reload failed after %s: %v", rec.Duration.Round(time.Millisecond), err)
	}
	s.mu.Lock()
	s.lastReload = rec
	s.mu.Unlock()
	finish := rec
	s.bus.Publish(events.Event{Kind: events.KindReloadFinish, Source: events.SourceDevstack, Reload: &finish, Text: text})
	return rec
}

// newGeneration asks the gunicorn master, with ask, for a new generation of
// workers and waits for one of them to boot. The listening socket stays
// open throughout and the old workers serve until then, so no connection is
// refused. nudge, if not nil, is called every nudgeInterval while waiting
// and once when the wait ends.
func (s *Stack) newGeneration(ctx context.Context, ask, nudge func() error) error {
	booted, gen, _ := s.marks.snapshot()
	if err := ask(); err != nil {
		return err
	}
	exited := s.gatewayLeft(ctx)
	if nudge != nil {
		waiting := make(chan struct{})
		go func() {
			tick := time.NewTicker(nudgeInterval)
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
					_ = nudge()
				case <-waiting:
					return
				}
			}
		}()
		defer func() { close(waiting); _ = nudge() }()
	}
	if s.marks.waitBoot(ctx, booted, gen, exited) {
		if nudge != nil {
			// The old generation could still take a request until the
			// master tells it to stop: the reload is done once it has.
			_, newGen, _ := s.marks.snapshot()
			_ = nudge()
			s.marks.waitRetired(ctx, newGen, retireWait)
		}
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("no worker of the new code booted within %s", reloadTimeout)
	}
	return errors.New("the gateway exited while loading the new code; its error is on the error page")
}

// retireWait bounds the wait, after a worker of the new code booted, for the
// master to tell the older ones to stop (it says so with a marker).
const retireWait = 2 * time.Second

// nudgeInterval is how long a reload request waits for its generation before
// waking the gunicorn master again.
const nudgeInterval = time.Second

// nudge wakes the gunicorn master to look at its control FIFO and at its
// workers' boot notices. gunicorn 20 drops signals beyond five queued ones,
// so a request or a boot notice could otherwise wait for the next reload;
// a SIGWINCH with nothing pending changes nothing.
func (s *Stack) nudge() error { return s.gateway.Signal(syscall.SIGWINCH) }

// requestReload hands the gunicorn master a reload request: a line on its
// control FIFO, then SIGWINCH to wake it. If the FIFO has no reader (the
// master is gone or never opened it), the master gets a SIGHUP instead.
func (s *Stack) requestReload() error {
	f, err := os.OpenFile(controlPath(s.opts.RunDir), os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err == nil {
		_, err = f.WriteString("reload\n")
		f.Close()
	}
	if err != nil {
		s.say("reload request: %v; sending SIGHUP instead", err)
		return s.gateway.Signal(syscall.SIGHUP)
	}
	return s.nudge()
}

// restartGateway stops the gateway, starts it again and waits until it
// answers, without failing a request: the proxy holds new requests from the
// start, the old gateway finishes the ones it has (within its own graceful
// timeout) before it is told to stop, and the held requests go to the new
// one once it is up. None is sent twice. A server that stops while
// requests are still on their way to it resets them (they wait in its
// listening socket's queue, never accepted), so stopping it earlier could
// lose a POST; and SO_REUSEPORT, which would let the new one start first on
// the same port, is off in gunicorn unless the project turns it on.
func (s *Stack) restartGateway(ctx context.Context) error {
	s.refreshEnv()
	empty := ""
	s.down.Store(&empty)
	grace := s.gracefulTimeout()
	stopTimeout := grace
	if s.proxy != nil {
		drainCtx, cancel := context.WithTimeout(ctx, grace)
		resume, drained := s.proxy.Pause(drainCtx)
		cancel()
		defer resume()
		if !drained {
			// Requests ran past the graceful timeout: as gunicorn would,
			// stop waiting for them: the gateway gets the stop timeout
			// of any stop.
			stopTimeout = 0
			s.say("restarting the gateway: requests still running after its graceful timeout (%s) are cut short", grace)
		}
	}
	booted, _, _ := s.marks.snapshot()
	if err := s.gateway.RestartWithin(stopTimeout); err != nil {
		return err
	}
	exited := s.gatewayLeft(ctx)
	var ok bool
	if s.project().Server == project.ServerGunicorn || s.marks.reloadMode() == templates.ReloadStandby {
		// The socket listens before the app is loaded: the boot marker
		// says when the new code serves.
		ok = s.marks.waitBoot(ctx, booted, 0, exited)
	} else {
		ok = waitListening(ctx, appAddr(s.p), exited)
	}
	if ok {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("the gateway did not answer within %s", reloadTimeout)
	}
	return errors.New("the gateway exited while starting; its error is on the error page")
}

// gatewayLeft returns a channel closed when the gateway is no longer running
// (it crashed, or stays down after a failed load). It stops watching when
// ctx is done.
func (s *Stack) gatewayLeft(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{})
	sub := s.bus.Subscribe()
	name := s.gateway.Name()
	pid := s.gateway.Status().PID
	go func() {
		defer sub.Close()
		// Checked after subscribing, so an exit cannot slip between.
		if st := s.gateway.Status(); st.State != events.StateRunning || st.PID != pid {
			close(ch)
			return
		}
		for {
			select {
			case e, ok := <-sub.Events():
				if !ok || (e.Source == name && e.Kind == events.KindState && e.Change != nil && e.Change.State != events.StateRunning) {
					close(ch)
					return
				}
			case <-s.gateway.Done():
				close(ch)
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// say publishes a message of devstack's own.
func (s *Stack) say(format string, args ...any) {
	s.bus.Publish(events.Event{Kind: events.KindMessage, Source: events.SourceDevstack, Text: fmt.Sprintf(format, args...)})
}
