package tui

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/orchestrator"
)

// Issue 9: the terminal UI drops only what the screen cannot show, and
// counts it exactly. 200,000 lines are published on a lossless subscription
// (as devstack up reads the bus) while the UI takes them slowly: every line
// is either in the UI's history or counted as skipped, the newest ones are
// all there, and the publisher never waited long for the UI.
func TestUIDropsOnlyWhatItCannotShowAndCountsIt(t *testing.T) {
	const lines, history = 200_000, 1000
	bus := orchestrator.NewBus(orchestrator.BusOptions{})
	sub := bus.SubscribeLossless()
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The notices the UI is given, counted on the way.
	buffered := bufferEvents(ctx, sub.Batches(), history)
	toUI := make(chan []events.Event)
	var notices int
	go func() {
		defer close(toUI)
		for batch := range buffered {
			if len(batch) > maxBatch {
				t.Errorf("a batch of %d events, more than %d", len(batch), maxBatch)
			}
			for _, e := range batch {
				if e.Kind == events.KindSkipped {
					notices++
				}
			}
			toUI <- batch
		}
	}()
	m := newTestModel(t, 120, 40, func(c *config) {
		c.history = history
		c.events = toUI
		c.ctx = ctx
	})

	published := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		bus.Publish(events.Event{Kind: events.KindState, Source: "web", Text: "running",
			Change: &events.StateChange{State: events.StateRunning, PID: 42}})
		for i := 1; i <= lines; i++ {
			bus.Publish(events.Event{Kind: events.KindLog, Source: "web", Text: strconv.Itoa(i)})
		}
		published <- time.Since(start)
		bus.Close()
	}()

	// The UI's loop, slowed down: a pause after every batch it takes.
	cmd := readEvents(ctx, m.cfg.events)
	deadline := time.Now().Add(2 * time.Minute)
	for cmd != nil && time.Now().Before(deadline) {
		msg := cmd()
		if _, done := msg.(busClosedMsg); done {
			break
		}
		_, next := m.Update(msg)
		_ = next
		cmd = readEvents(ctx, m.cfg.events)
		time.Sleep(2 * time.Millisecond)
	}
	took := <-published

	shown, last := 0, 0
	for seq := m.logs.lines.first; seq < m.logs.lines.nextSeq(); seq++ {
		l := m.logs.lines.get(seq)
		if l.source == events.SourceDevstack {
			continue
		}
		text := m.logs.textOf(l)
		n, err := strconv.Atoi(text)
		if err != nil || n <= last {
			t.Fatalf("line %q after %d: out of order or mangled", text, last)
		}
		last = n
		shown++
	}
	added := int(m.logs.lines.nextSeq())
	if last != lines {
		t.Errorf("the newest line shown is %d, want %d", last, lines)
	}
	// Every line went into the history (and may have left it since, as
	// the history scrolls) or was counted as skipped.
	if got := added - notices - 1 + m.stack.skipped; got != lines {
		t.Errorf("lines added %d (%d notices, 1 state line) + skipped %d = %d, want %d",
			added, notices, m.stack.skipped, got, lines)
	}
	if m.stack.skipped == 0 {
		t.Error("nothing was skipped although the UI was slower than the output")
	}
	if m.stack.skipped > lines-history {
		t.Errorf("skipped %d lines: more than the %d the history could not hold", m.stack.skipped, lines-history)
	}
	if shown < history/2 {
		t.Errorf("only %d lines in a history of %d", shown, history)
	}
	if p := m.stack.proc("web"); p == nil || p.state != events.StateRunning || p.pid != 42 {
		t.Errorf("the state change was dropped: web is %+v", p)
	}
	t.Logf("published in %s; %d skipped, %d skip notices", took, m.stack.skipped, notices)
}

// TestBufferSplitsBatchesAndKeepsStateChanges: a batch larger than
// maxBatch reaches the UI in pieces of at most maxBatch; when lines are
// dropped, a state change among them is kept, ahead of the notice, and the
// count is exact.
func TestBufferSplitsBatchesAndKeepsStateChanges(t *testing.T) {
	const history = 100
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := make(chan []events.Event, 1)
	var big []events.Event
	for i := 1; i <= 3*maxBatch; i++ {
		big = append(big, events.Event{Kind: events.KindLog, Source: "web", Text: strconv.Itoa(i)})
		if i == 10 {
			big = append(big, events.Event{Kind: events.KindState, Source: "web", Text: "crashed"})
		}
	}
	// Read only once everything is in: the buffer must drop all but the
	// last history lines.
	b := &eventBuffer{limit: history, wake: make(chan struct{}, 1)}
	b.push(big)
	close(in)
	go b.fill(ctx, in)
	out := make(chan []events.Event)
	go b.feed(ctx, out)

	var got []events.Event
	for batch := range out {
		if len(batch) > maxBatch {
			t.Errorf("a batch of %d events, more than %d", len(batch), maxBatch)
		}
		got = append(got, batch...)
	}
	if len(got) != 2+history {
		t.Fatalf("got %d events, want the state change, a notice and %d lines", len(got), history)
	}
	if got[0].Kind != events.KindState || got[1].Kind != events.KindSkipped || got[1].Skipped != 3*maxBatch-history {
		t.Errorf("first: %v %q, then %v skipped %d; want the state change, then %d skipped",
			got[0].Kind, got[0].Text, got[1].Kind, got[1].Skipped, 3*maxBatch-history)
	}
	for i, e := range got[2:] {
		if want := strconv.Itoa(3*maxBatch - history + 1 + i); e.Text != want {
			t.Fatalf("line %d: got %q, want %q", i, e.Text, want)
		}
	}
	if big[0].Text != "1" || len(big) != 3*maxBatch+1 {
		t.Error("the buffer changed the batch it was given")
	}
}
