package tui

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/devstack-dev/devstack/events"
)

// The terminal UI reads the bus losslessly (the processes wait for it), so
// it must never be slow to take an event. bufferEvents takes every batch
// as it comes and keeps the events the UI has not shown yet; when the UI
// falls behind by more lines than it keeps in its history, the oldest of
// those lines could never be shown (newer ones would push them out of the
// history at once), so they are dropped, counted exactly, and the UI is
// told how many in one events.KindSkipped where the gap is. Events that are not
// lines (state changes, reloads, checks, messages) are never dropped.

// bufferEvents returns a channel that carries the events of in, in batches
// of at most maxBatch, dropping only what the UI could not show (see
// above). limit is the UI's history. The batches of in are only read, and
// so must the returned ones be. The returned channel is closed after in
// is closed and everything kept has been received, or when ctx is done.
func bufferEvents(ctx context.Context, in <-chan []events.Event, limit int) <-chan []events.Event {
	b := &eventBuffer{limit: max(limit, 1), wake: make(chan struct{}, 1)}
	out := make(chan []events.Event)
	go b.fill(ctx, in)
	go b.feed(ctx, out)
	return out
}

type eventBuffer struct {
	limit int
	wake  chan struct{} // capacity 1: "something changed"

	mu      sync.Mutex
	kept    []events.Event   // older than pending, not lines: never dropped
	pending [][]events.Event // batches as received (never changed), oldest first, from head on
	head    int
	lines   int       // line events in pending
	skipped int       // lines dropped since the last events.KindSkipped handed out
	noticed time.Time // when the last events.KindSkipped was handed out
	closed  bool
}

// noticeInterval spaces the UI's skipped notices while a flood goes on:
// one line a second says how many were dropped, not one per screen update.
const noticeInterval = time.Second

// isLine reports whether e is one line of output the UI may drop when it
// cannot show it.
func isLine(e *events.Event) bool {
	return e.Kind == events.KindLog || e.Kind == events.KindAccess
}

func (b *eventBuffer) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// fill takes every batch from in as soon as it is published.
func (b *eventBuffer) fill(ctx context.Context, in <-chan []events.Event) {
	defer func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		b.signal()
	}()
	for {
		select {
		case batch, ok := <-in:
			if !ok {
				return
			}
			b.push(batch)
		case <-ctx.Done():
			return
		}
	}
}

func (b *eventBuffer) push(batch []events.Event) {
	if len(batch) == 0 {
		return
	}
	b.mu.Lock()
	if b.head > 0 && b.head >= len(b.pending)/2 {
		n := copy(b.pending, b.pending[b.head:])
		clear(b.pending[n:])
		b.pending, b.head = b.pending[:n], 0
	}
	b.pending = append(b.pending, batch)
	for i := range batch {
		if isLine(&batch[i]) {
			b.lines++
		}
	}
	b.dropLocked()
	b.mu.Unlock()
	b.signal()
}

// dropLocked drops the oldest lines beyond the limit, keeping the events
// among them that are not lines.
func (b *eventBuffer) dropLocked() {
	for b.lines > b.limit {
		front := b.pending[b.head]
		i := 0
		for ; i < len(front) && b.lines > b.limit; i++ {
			if isLine(&front[i]) {
				b.lines--
				b.skipped++
			} else {
				b.kept = append(b.kept, front[i])
			}
		}
		b.popLocked(i)
	}
}

// popLocked takes the first n events of the oldest pending batch.
func (b *eventBuffer) popLocked(n int) []events.Event {
	front := b.pending[b.head]
	if n < len(front) {
		b.pending[b.head] = front[n:]
		return front[:n:n]
	}
	b.pending[b.head] = nil
	b.head++
	if b.head == len(b.pending) {
		b.pending, b.head = b.pending[:0], 0
	}
	return front
}

// next takes the next batch to hand to the UI: the kept events, then the
// notice of the lines dropped after them (at most one per noticeInterval
// until the UI has caught up), then the pending ones, up to maxBatch.
func (b *eventBuffer) next() (batch []events.Event, ok, closed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case len(b.kept) > 0:
		batch, b.kept = b.kept, nil
		return batch, true, false
	case b.skipped > 0 && (b.lines == 0 || time.Since(b.noticed) >= noticeInterval):
		batch = []events.Event{skippedEvent(b.skipped)}
		b.skipped, b.noticed = 0, time.Now()
		return batch, true, false
	case b.head < len(b.pending):
		batch = b.popLocked(min(len(b.pending[b.head]), maxBatch))
		for i := range batch {
			if isLine(&batch[i]) {
				b.lines--
			}
		}
		return batch, true, false
	}
	return nil, false, b.closed
}

// feed hands the batches to the UI as it takes them.
func (b *eventBuffer) feed(ctx context.Context, out chan<- []events.Event) {
	defer close(out)
	for {
		batch, ok, closed := b.next()
		if !ok {
			if closed {
				return
			}
			select {
			case <-b.wake:
			case <-ctx.Done():
				return
			}
			continue
		}
		select {
		case out <- batch:
		case <-ctx.Done():
			return
		}
	}
}

func skippedEvent(n int) events.Event {
	return events.Event{
		Time:    time.Now(),
		Kind:    events.KindSkipped,
		Source:  events.SourceDevstack,
		Text:    fmt.Sprintf("skipped %d lines: output came faster than the screen could show it", n),
		Skipped: n,
	}
}
