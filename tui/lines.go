package tui

import (
	"io"
	"sync"
	"time"

	"github.com/devstack-dev/devstack/events"
)

// Lines writes events as `source | text` lines for a busy stream, such as
// devstack proxy's access log. Lines from many goroutines never
// interleave. They are gathered in a buffer and written within FlushDelay,
// or once flushSize bytes are waiting, by a goroutine of their own: an
// event only appends its line under the lock and never waits for the
// write, unless maxWaiting bytes pile up behind a slow output. Access
// records take the line format every writer shares
// (events.AccessRecord.AppendLine) without allocating.
type Lines struct {
	w io.Writer

	mu      sync.Mutex
	done    *sync.Cond // signalled when a write ends
	buf     []byte     // lines not yet handed to a write
	spare   []byte     // the buffer of the last write, for reuse
	pending bool       // a timed flush is scheduled
	writing bool       // a write runs, outside the lock
}

// FlushDelay is how long a line may wait in a Lines buffer.
const FlushDelay = 50 * time.Millisecond

const (
	flushSize  = 32 << 10 // written at once, without waiting for the delay
	maxWaiting = 4 << 20  // behind a write that does not end: wait, not grow
)

// NewLines returns a writer of lines to w. Call Flush before exiting.
func NewLines(w io.Writer) *Lines {
	l := &Lines{w: w}
	l.done = sync.NewCond(&l.mu)
	return l
}

// Write adds the line for e.
func (l *Lines) Write(e events.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, e.Source...)
	l.buf = append(l.buf, " | "...)
	if e.Kind == events.KindAccess && e.Access != nil {
		l.buf = e.Access.AppendLine(l.buf)
	} else {
		l.buf = append(l.buf, cleanLine(e.Text, false)...)
	}
	l.buf = append(l.buf, '\n')
	for l.writing && len(l.buf) >= maxWaiting {
		l.done.Wait() // the output cannot keep up: wait rather than grow
	}
	if len(l.buf) >= flushSize {
		l.startWriteLocked()
		return
	}
	if !l.pending {
		l.pending = true
		time.AfterFunc(FlushDelay, func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.pending = false
			l.startWriteLocked()
		})
	}
}

// startWriteLocked hands the waiting lines to a write of their own, unless
// one runs: it starts the next when it ends.
func (l *Lines) startWriteLocked() {
	if l.writing || len(l.buf) == 0 {
		return
	}
	data := l.buf
	l.buf, l.spare = l.spare[:0], nil
	l.writing = true
	go func() {
		_, _ = l.w.Write(data)
		l.mu.Lock()
		defer l.mu.Unlock()
		l.writing, l.spare = false, data[:0]
		l.done.Broadcast()
		l.startWriteLocked() // what came in meanwhile has waited long enough
	}()
}

// Flush writes every line added so far and returns once they are written.
func (l *Lines) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.writing || len(l.buf) > 0 {
		l.startWriteLocked()
		l.done.Wait()
	}
}
