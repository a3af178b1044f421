package tui

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/devstack-dev/devstack/events"
)

// The terminal UI reads the bus losslessly (the processes wait for it), so
// it must never be slow to take an event. bufferEvents takes every event
// as it comes and keeps the ones the UI has not shown yet; when the UI
// falls behind by more lines than it keeps in its history, the oldest of
// those lines could never be shown (newer ones would push them out of the
// history at once), so they are dropped, counted exactly, and the UI is
// told how many in one events.KindSkipped where the gap is. Events that are not
// lines (state changes, reloads, checks, messages) are never dropped.

// bufferEvents returns a channel that carries the events of in, dropping
// only what the UI could not show (see above). limit is the UI's history.
// The returned channel is closed after in is closed and everything kept
// has been received, or when ctx is done.
func bufferEvents(ctx context.Context, in <-chan events.Event, limit int) <-chan events.Event {
	b := &eventBuffer{limit: max(limit, 1), wake: make(chan struct{}, 1)}
	out := make(chan events.Event)
	go b.fill(ctx, in)
	go b.feed(ctx, out)
	return out
}

type eventBuffer struct {
	limit int
	wake  chan struct{} // capacity 1: "something changed"

	mu      sync.Mutex
	kept    []events.Event // older than pending, not lines: never dropped
	pending []events.Event // a ring: n events, oldest first, from head on
	head, n int
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
func isLine(e events.Event) bool {
	return e.Kind == events.KindLog || e.Kind == events.KindAccess
}

func (b *eventBuffer) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// fill takes every event from in as soon as it is published.
func (b *eventBuffer) fill(ctx context.Context, in <-chan events.Event) {
	defer func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		b.signal()
	}()
	for {
		select {
		case e, ok := <-in:
			if !ok {
				return
			}
			b.push(e)
		case <-ctx.Done():
			return
		}
	}
}

func (b *eventBuffer) push(e events.Event) {
	b.mu.Lock()
	if b.n == len(b.pending) {
		b.grow()
	}
	b.pending[(b.head+b.n)%len(b.pending)] = e
	b.n++
	if isLine(e) {
		b.lines++
	}
	for b.lines > b.limit {
		front := b.popFront()
		if isLine(front) {
			b.lines--
			b.skipped++
		} else {
			b.kept = append(b.kept, front)
		}
	}
	b.mu.Unlock()
	b.signal()
}

// grow doubles the ring: it holds at most limit lines and the events
// between them, so it stops growing once a flood fills it.
func (b *eventBuffer) grow() {
	ring := make([]events.Event, max(2*len(b.pending), 64))
	for i := range b.n {
		ring[i] = b.pending[(b.head+i)%len(b.pending)]
	}
	b.pending, b.head = ring, 0
}

// popFront takes the oldest pending event; there must be one.
func (b *eventBuffer) popFront() events.Event {
	e := b.pending[b.head]
	b.pending[b.head] = events.Event{}
	b.head = (b.head + 1) % len(b.pending)
	b.n--
	return e
}

// next takes the next event to hand to the UI: the kept ones, then the
// notice of the lines dropped after them (at most one per noticeInterval
// until the UI has caught up), then the pending ones.
func (b *eventBuffer) next() (e events.Event, ok, closed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case len(b.kept) > 0:
		e = b.kept[0]
		b.kept = b.kept[1:]
		return e, true, false
	case b.skipped > 0 && (b.lines == 0 || time.Since(b.noticed) >= noticeInterval):
		e = skippedEvent(b.skipped)
		b.skipped, b.noticed = 0, time.Now()
		return e, true, false
	case b.n > 0:
		e = b.popFront()
		if isLine(e) {
			b.lines--
		}
		return e, true, false
	}
	return events.Event{}, false, b.closed
}

// feed hands the events to the UI, one at a time, as it takes them.
func (b *eventBuffer) feed(ctx context.Context, out chan<- events.Event) {
	defer close(out)
	for {
		e, ok, closed := b.next()
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
		case out <- e:
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
