package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/devstack-dev/devstack/doctor"
	"github.com/devstack-dev/devstack/orchestrator"
)

// watchTrust runs the doctor's checks through the running stack once the
// app answers, and again after every reload (settings.py is code: a save
// can fix or break the trust settings). It publishes a check event for
// every check the first time, then for each whose status changed, with a
// one-line summary (the log writers show passing checks only when they
// failed or warned before). It returns when the stack's bus closes.
//
// GET / is left out here (it would show in the access log after every
// reload), so a redirect loop is reported through its cause, the scheme.
func watchTrust(ctx context.Context, stack *orchestrator.Stack, pool func() *x509.CertPool, headers []string) {
	bus := stack.Bus()
	sub := bus.Subscribe()
	defer sub.Close()
	select {
	case <-stack.Ready():
	case <-ctx.Done():
		return
	}
	client := doctor.Client(pool(), "", 10*time.Second)
	defer client.CloseIdleConnections()
	say := func(text string) {
		bus.Publish(orchestrator.Event{Kind: orchestrator.EventMessage, Source: orchestrator.SourceDevstack, Text: text})
	}
	var last map[string]doctor.Status
	couldNot := ""
	lastPID := 0
	origin := strings.TrimSuffix(stack.URL(), "/")
	run := func() {
		ev, err := doctor.CollectProbe(ctx, client, origin, stack.ProbePath(), headers)
		// Just after a reload the old worker may still take a request:
		// ask again until another process answers (within a second).
		for i := 0; err == nil && ev.Probe.PID == lastPID && i < 20; i++ {
			time.Sleep(50 * time.Millisecond)
			ev, err = doctor.CollectProbe(ctx, client, origin, stack.ProbePath(), headers)
		}
		if err != nil {
			if msg := "trust check could not run: " + err.Error(); msg != couldNot && ctx.Err() == nil {
				say(msg)
				couldNot = msg
			}
			return
		}
		couldNot, lastPID = "", ev.Probe.PID
		results := doctor.Check(ev)
		now := make(map[string]doctor.Status, len(results))
		changed := false
		for _, r := range results {
			now[r.ID] = r.Status
			before, seen := last[r.ID]
			if last == nil || !seen || before != r.Status {
				changed = true
				bus.Publish(orchestrator.Event{Kind: orchestrator.EventCheck, Source: orchestrator.SourceDevstack,
					Check: orchestrator.CheckRecord{ID: r.ID, Status: string(r.Status), Detail: r.Summary, Fix: r.Fix}})
			}
		}
		if last == nil || changed {
			fails, warns, passes := doctor.Counts(results)
			if fails+warns == 0 {
				say(fmt.Sprintf("trust check: all %d passed", passes))
			} else {
				say(fmt.Sprintf("trust check: %d failed, %d warnings, %d passed; devstack doctor explains each", fails, warns, passes))
			}
		}
		last = now
	}
	run()
	for e := range sub.Events() {
		// A run can take a second; the bus drops what a slow subscriber
		// misses and says so, and a dropped reload must not go unchecked.
		if (e.Kind == orchestrator.EventReloadFinish && e.Reload.Err == "") || e.Kind == orchestrator.EventSkipped {
			run()
		}
	}
}
