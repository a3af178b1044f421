package orchestrator

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/devstack-dev/devstack/events"
)

// Defaults for NewBus.
const (
	DefaultSubscriberBuffer = 4096
	DefaultHistoryLines     = 200
)

// BusOptions tunes a Bus; the zero value gives the defaults.
type BusOptions struct {
	// SubscriberBuffer is how many events a subscriber may lag behind
	// before events for it are dropped (default 4096).
	SubscriberBuffer int
	// HistoryLines is how many log lines are kept per source for
	// LastLines (default 200).
	HistoryLines int
}

// Bus fans events out to subscribers. Each subscriber has a bounded queue.
// For an ordinary subscriber (Subscribe) a publisher never waits: when its
// queue is full the events for it are counted instead of queued, and once
// it has room again it receives one events.KindSkipped with the count, then the
// events that followed. A lossless subscriber (SubscribeLossless) loses
// nothing: a publisher waits for room in its queue, so a process writing
// faster than the subscriber reads is slowed down through its pipe, as it
// would be writing to a file itself. Events are delivered in the order they
// were published.
//
// The Bus also keeps the last log lines of each source for error pages.
type Bus struct {
	opts BusOptions

	mu       sync.Mutex
	room     *sync.Cond // broadcast when a lossless subscriber's queue has room
	subs     map[*Subscription]struct{}
	lossless int // subscribers in subs that are lossless
	history  map[string]*lineRing
	closed   bool
	hurried  bool           // Hurry was called: nobody waits for a lossless subscriber
	arena    []events.Event // where Publish puts events; see publishArena
}

// NewBus returns an empty bus.
func NewBus(opts BusOptions) *Bus {
	if opts.SubscriberBuffer <= 0 {
		opts.SubscriberBuffer = DefaultSubscriberBuffer
	}
	if opts.SubscriberBuffer < 2 {
		// Room for an events.KindSkipped plus the event that follows it.
		opts.SubscriberBuffer = 2
	}
	if opts.HistoryLines <= 0 {
		opts.HistoryLines = DefaultHistoryLines
	}
	b := &Bus{
		opts:    opts,
		subs:    make(map[*Subscription]struct{}),
		history: make(map[string]*lineRing),
	}
	b.room = sync.NewCond(&b.mu)
	return b
}

// Publish delivers e to every subscriber, stamping Time when it is zero.
// It waits while a lossless subscriber's queue is full (until the bus is
// closed or hurried); it never waits for any other. Publishing to a closed
// bus does nothing.
func (b *Bus) Publish(e events.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.waitLocked(waits(e.Kind))
	if b.closed {
		return
	}
	if len(b.arena) == cap(b.arena) {
		b.arena = make([]events.Event, 0, publishArena)
	}
	b.arena = append(b.arena, e)
	b.deliverLocked(b.arena[len(b.arena)-1:])
}

// publishArena is how many events Publish allocates room for at once: the
// events of single publications are carved from one array, and those that
// follow each other there are delivered together.
const publishArena = 64

// PublishBatch publishes es in order, as Publish would one by one, but
// under one lock and with at most one wait for a lossless subscriber
// (before the batch: its queue may then hold up to len(es) events more
// than its size). Times are stamped as by Publish. es may be reused by
// the caller once PublishBatch returns.
func (b *Bus) PublishBatch(es []events.Event) {
	b.PublishOwned(slices.Clone(es))
}

// PublishOwned is PublishBatch without the copy: subscribers are handed
// es itself, so the caller must never change it afterwards. A process's
// lines come this way, one array of events for many reads.
func (b *Bus) PublishOwned(es []events.Event) {
	if len(es) == 0 {
		return
	}
	now := time.Now()
	wait := false
	for i := range es {
		if es[i].Time.IsZero() {
			es[i].Time = now
		}
		wait = wait || waits(es[i].Kind)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.waitLocked(wait)
	if b.closed {
		return
	}
	b.deliverLocked(es)
}

// deliverLocked remembers the lines of es and queues es for every
// subscriber.
func (b *Bus) deliverLocked(es []events.Event) {
	var ring *lineRing
	source := ""
	for i := range es {
		if es[i].Kind != events.KindLog {
			continue
		}
		if ring == nil || es[i].Source != source {
			source = es[i].Source
			ring = b.history[source]
			if ring == nil {
				ring = newLineRing(b.opts.HistoryLines)
				b.history[source] = ring
			}
		}
		ring.add(es[i].Text)
	}
	for s := range b.subs {
		s.enqueueLocked(es)
	}
}

// waitLocked waits, when wait is set, while a lossless subscriber's queue
// is full, until the bus is closed or hurried.
func (b *Bus) waitLocked(wait bool) {
	for wait && b.lossless > 0 && !b.closed && !b.hurried && b.losslessFullLocked() {
		b.room.Wait()
	}
}

// waits says whether a publisher of an event of kind waits for a lossless
// subscriber to have room: lines (a process's output, the proxy's access
// lines) do. devstack's own events (state changes, reloads, messages) never
// wait, so no stop or restart can hang on a stalled output; they are few,
// and a lossless queue makes room for them beyond its size.
func waits(kind events.Kind) bool { return kind == events.KindLog || kind == events.KindAccess }

// losslessFullLocked reports whether a lossless subscriber's queue holds
// SubscriberBuffer events or more.
func (b *Bus) losslessFullLocked() bool {
	for s := range b.subs {
		if s.lossless && s.n >= b.opts.SubscriberBuffer {
			return true
		}
	}
	return false
}

// Hurry makes Publish stop waiting for lossless subscribers, for good: an
// event that does not fit a full queue is counted as skipped, as for any
// subscriber. A stop that must not wait for a stalled output (a second
// Ctrl-C) calls it.
func (b *Bus) Hurry() {
	b.mu.Lock()
	b.hurried = true
	b.room.Broadcast()
	b.mu.Unlock()
}

// LastLines returns up to n of the most recent log lines of source, oldest
// first.
func (b *Bus) LastLines(source string, n int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.history[source]
	if r == nil {
		return nil
	}
	return r.last(n)
}

// Subscribe returns a subscription that receives the events published from
// now on; when it falls behind by more than its queue, events for it are
// dropped and counted (events.KindSkipped). Call Close when done with it.
func (b *Bus) Subscribe() *Subscription { return b.subscribe(false) }

// SubscribeLossless returns a subscription that receives every event
// published from now on: when it falls behind, publishers wait for it (see
// Bus). Its reader must keep reading until it calls Close, and must never
// wait for a publisher. The plain writer reads the bus this way: a file is
// never too slow a consumer to lose lines.
func (b *Bus) SubscribeLossless() *Subscription { return b.subscribe(true) }

func (b *Bus) subscribe(lossless bool) *Subscription {
	s := &Subscription{
		bus:      b,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		batches:  make(chan []events.Event, 1),
		lossless: lossless,
	}
	b.mu.Lock()
	if b.closed {
		s.draining = true
	} else {
		b.subs[s] = struct{}{}
		if lossless {
			b.lossless++
		}
	}
	b.mu.Unlock()
	go s.pump()
	return s
}

// Close ends the bus: later events are discarded, and each subscription's
// channel is closed once the subscriber has received what was already
// queued for it.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for s := range b.subs {
		s.draining = true
		s.signal()
	}
	clear(b.subs)
	b.lossless = 0
	b.room.Broadcast()
}

// Subscription is one consumer's view of the bus. It hands the events over
// in batches, as they were published (one read of a process's output is
// one batch), with one channel operation per batch: read them with
// Batches, or one at a time with Events, not both.
type Subscription struct {
	bus      *Bus
	batches  chan []events.Event
	wake     chan struct{} // capacity 1: "the queue changed"
	done     chan struct{} // closed by Close
	once     sync.Once
	lossless bool // publishers wait for room rather than drop (SubscribeLossless)

	flatten sync.Once
	events  chan events.Event // Events, once asked for

	// Guarded by bus.mu.
	queue    [][]events.Event // batches not handed over yet, oldest first, from head on
	head     int
	n        int // events in queue
	dropped  int
	draining bool // the bus is closed: close batches once the queue is empty
}

// Batches returns the channel the subscriber reads: each batch holds one
// or more events in the order they were published. A batch is shared with
// the other subscribers: read it, keep it if need be, never change it. The
// channel is closed after Close, or after the bus is closed and everything
// queued has been received.
func (s *Subscription) Batches() <-chan []events.Event { return s.batches }

// Events returns the events of Batches one at a time, for a subscriber
// that selects on them beside other things and is never in a hurry; it
// is closed as Batches is.
func (s *Subscription) Events() <-chan events.Event {
	s.flatten.Do(func() {
		s.events = make(chan events.Event)
		go func() {
			defer close(s.events)
			for batch := range s.batches {
				for _, e := range batch {
					select {
					case s.events <- e:
					case <-s.done:
						return
					}
				}
			}
		}()
	})
	return s.events
}

// Close unsubscribes; events still queued are discarded.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.bus.mu.Lock()
		if _, ok := s.bus.subs[s]; ok {
			delete(s.bus.subs, s)
			if s.lossless {
				s.bus.lossless--
				s.bus.room.Broadcast()
			}
		}
		s.bus.mu.Unlock()
		close(s.done)
	})
}

func (s *Subscription) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// enqueueLocked queues es, shared with the other subscribers. What does
// not fit an ordinary subscriber's queue is counted as dropped, from the
// first event that does not fit on; a pending drop count goes in first,
// as an events.KindSkipped, so the subscriber learns about the gap exactly
// where it happened.
func (s *Subscription) enqueueLocked(es []events.Event) {
	if s.lossless && !s.bus.hurried {
		s.pushLocked(es)
		s.signal()
		return
	}
	room := s.bus.opts.SubscriberBuffer - s.n
	if s.dropped > 0 {
		room-- // for the notice
	}
	fits := min(len(es), max(room, 0))
	if fits > 0 {
		if s.dropped > 0 {
			s.pushLocked([]events.Event{skippedEvent(s.dropped, es[0].Time)})
			s.dropped = 0
		}
		s.pushLocked(es[:fits])
		s.signal()
	}
	s.dropped += len(es) - fits
}

// pushLocked queues es after the last batch, as part of it when es
// follows it in the same array (one process's reads, Publish's arena).
func (s *Subscription) pushLocked(es []events.Event) {
	s.n += len(es)
	if k := len(s.queue); k > s.head {
		last := s.queue[k-1]
		if n := len(last); n+len(es) <= cap(last) && &last[:n+1][n] == &es[0] {
			s.queue[k-1] = last[:n+len(es)]
			return
		}
	}
	if s.head > 0 && s.head >= len(s.queue)/2 {
		n := copy(s.queue, s.queue[s.head:])
		clear(s.queue[n:])
		s.queue, s.head = s.queue[:n], 0
	}
	s.queue = append(s.queue, es)
}

// nextLocked takes the next batch to deliver. ok is false when there is
// nothing; closeNow is true when the channel should be closed.
func (s *Subscription) nextLocked() (batch []events.Event, ok, closeNow bool) {
	if s.head < len(s.queue) {
		batch = s.queue[s.head]
		s.queue[s.head] = nil
		s.head++
		if s.head == len(s.queue) {
			s.queue, s.head = s.queue[:0], 0
		}
		s.n -= len(batch)
		return batch, true, false
	}
	if s.dropped > 0 {
		// Caught up after a gap with nothing published since: say so now
		// rather than waiting for the next event.
		batch = []events.Event{skippedEvent(s.dropped, time.Now())}
		s.dropped = 0
		return batch, true, false
	}
	return nil, false, s.draining
}

// pump moves queued batches to the subscriber's channel, one channel
// operation per batch; it is the only goroutine that may wait on the
// subscriber.
func (s *Subscription) pump() {
	defer close(s.batches)
	for {
		s.bus.mu.Lock()
		batch, ok, closeNow := s.nextLocked()
		if s.lossless && ok {
			s.bus.room.Broadcast()
		}
		s.bus.mu.Unlock()
		if ok {
			select {
			case s.batches <- batch:
			case <-s.done:
				return
			}
			continue
		}
		if closeNow {
			return
		}
		select {
		case <-s.wake:
		case <-s.done:
			return
		}
	}
}

func skippedEvent(n int, at time.Time) events.Event {
	return events.Event{
		Time:    at,
		Kind:    events.KindSkipped,
		Source:  events.SourceDevstack,
		Text:    fmt.Sprintf("skipped %d lines: output came faster than it could be shown", n),
		Skipped: n,
	}
}

// lineRing keeps the last cap(lines) lines.
type lineRing struct {
	lines []string
	next  int
	full  bool
}

func newLineRing(n int) *lineRing { return &lineRing{lines: make([]string, n)} }

func (r *lineRing) add(line string) {
	r.lines[r.next] = line
	r.next = (r.next + 1) % len(r.lines)
	if r.next == 0 {
		r.full = true
	}
}

func (r *lineRing) last(n int) []string {
	size := r.next
	if r.full {
		size = len(r.lines)
	}
	if n > size {
		n = size
	}
	if n <= 0 {
		return nil
	}
	out := make([]string, 0, n)
	start := r.next - n
	if start < 0 {
		start += len(r.lines)
	}
	for i := range n {
		out = append(out, r.lines[(start+i)%len(r.lines)])
	}
	return out
}
