package session

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/devstack-dev/devstack/doctor"
	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/orchestrator"
)

// trustWatcher runs the doctor's checks through a running stack once the
// app answers, and again after every reload (settings.py is code: a save
// can fix or break the trust settings). It publishes a check event for
// every check the first time, then for each whose status changed, with a
// one-line summary (the log writers show passing checks only when they
// failed or warned before).
//
// GET / through the proxy is left out here (it would show in the access
// log after every reload), so a redirect loop is reported through its
// cause, the scheme. The requests straight to the gateway (a health
// check's GET /, the probe without forwarding headers) do not pass through
// the proxy, so every other check doctor runs runs here too. Hardening
// advice (Info) is left to devstack doctor --all.
type trustWatcher struct {
	stack  *orchestrator.Stack
	origin string

	last     map[string]events.CheckStatus // nil before the first run
	lastPID  int                           // the worker that answered last
	couldNot string                        // the last "could not run" said
}

// newWorkerWait bounds how long a check after a reload keeps asking until
// a new worker answers: the old one may still take a request or two.
const (
	newWorkerWait     = time.Second
	newWorkerInterval = 50 * time.Millisecond
)

// watchTrust runs w until ctx is done or the stack's bus closes.
func watchTrust(ctx context.Context, stack *orchestrator.Stack, roots *x509.CertPool) {
	sub := stack.Bus().Subscribe()
	defer sub.Close()
	select {
	case <-stack.Ready():
	case <-ctx.Done():
		return
	}
	w := &trustWatcher{stack: stack, origin: strings.TrimSuffix(stack.URL(), "/")}
	client := doctor.Client(roots, "", 10*time.Second)
	defer client.CloseIdleConnections()
	w.run(ctx, client)
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.Events():
			if !ok {
				return
			}
			// A run can take a second; the bus drops what a slow subscriber
			// misses and says so, and a dropped reload must not go unchecked.
			if (e.Kind == events.KindReloadFinish && e.Reload != nil && e.Reload.Err == "") || e.Kind == events.KindSkipped {
				w.run(ctx, client)
			}
		}
	}
}

func (w *trustWatcher) say(text string) {
	w.stack.Bus().Publish(events.Event{Kind: events.KindMessage, Source: events.SourceDevstack, Text: text})
}

// collect asks the probe, and asks again on a ticker while the worker that
// answered is the one that answered last time (within newWorkerWait).
func (w *trustWatcher) collect(ctx context.Context, client *http.Client) (doctor.Evidence, error) {
	ev, err := doctor.CollectProbe(ctx, client, w.origin, w.stack.ProbePath(), w.stack.ForwardedHeaders())
	if err != nil || w.lastPID == 0 || ev.Probe.PID != w.lastPID {
		return ev, err
	}
	tick := time.NewTicker(newWorkerInterval)
	defer tick.Stop()
	deadline := time.NewTimer(newWorkerWait)
	defer deadline.Stop()
	for err == nil && ev.Probe.PID == w.lastPID {
		select {
		case <-ctx.Done():
			return ev, ctx.Err()
		case <-deadline.C:
			return ev, nil
		case <-tick.C:
		}
		ev, err = doctor.CollectProbe(ctx, client, w.origin, w.stack.ProbePath(), w.stack.ForwardedHeaders())
	}
	return ev, err
}

// run checks once and publishes what changed.
func (w *trustWatcher) run(ctx context.Context, client *http.Client) {
	ev, err := w.collect(ctx, client)
	if err != nil {
		if msg := "trust check could not run: " + err.Error(); msg != w.couldNot && ctx.Err() == nil {
			w.say(msg)
			w.couldNot = msg
		}
		return
	}
	w.couldNot, w.lastPID = "", ev.Probe.PID
	if gw := w.stack.GatewayAddr(); gw != "" {
		// Without these answers their checks say they could not run.
		_ = doctor.CollectDirect(ctx, &ev, gw)
		_ = doctor.CollectDirectProbes(ctx, &ev, gw, w.stack.ProbePath())
	}
	results := doctor.Shown(doctor.Check(ev), false)
	now := make(map[string]events.CheckStatus, len(results))
	changed := false
	for _, r := range results {
		now[r.ID] = r.Status
		if before, seen := w.last[r.ID]; w.last == nil || !seen || before != r.Status {
			changed = true
			w.stack.Bus().Publish(events.Event{Kind: events.KindCheck, Source: events.SourceDevstack, Check: &r})
		}
	}
	if w.last == nil || changed {
		t := doctor.Tally(results)
		fails, warns, passes, notRun := t[doctor.Fail], t[doctor.Warn], t[doctor.Pass], t[doctor.NotRun]
		switch {
		case fails+warns+notRun == 0:
			w.say(fmt.Sprintf("trust check: all %d passed", passes))
		case notRun > 0:
			w.say(fmt.Sprintf("trust check: %d failed, %d warnings, %d passed, %d could not run; devstack doctor explains each",
				fails, warns, passes, notRun))
		default:
			w.say(fmt.Sprintf("trust check: %d failed, %d warnings, %d passed; devstack doctor explains each", fails, warns, passes))
		}
	}
	w.last = now
}
