package orchestrator

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/devstack-dev/devstack/events"
)

const (
	// MaxLineBytes is the longest piece of a line carried in one event; a
	// longer line is cut into pieces marked Continued, so no line can make
	// devstack buffer without bound.
	MaxLineBytes = 64 << 10
	// partialLineDelay is how long text without a trailing newline (a
	// prompt, a progress dot) waits for the rest of its line before it is
	// shown on its own.
	partialLineDelay = 150 * time.Millisecond
	// cutLineDelay replaces partialLineDelay for text left at the end of
	// a large read (cutReadBytes or more): a program writing through a
	// block buffer (stdio's, 4 KiB and up) cuts its lines anywhere, and on
	// a busy machine the rest may come later than a prompt would.
	cutLineDelay = time.Second
	cutReadBytes = 4 << 10
)

// lineWriter turns the bytes a process writes into events.KindLog events, one per
// line, published together for each write (in batches of at most
// maxLineBatch). It is safe for a reader goroutine and the partial-line
// timer.
type lineWriter struct {
	source  string
	stream  events.Stream
	publish func([]events.Event) // is handed each batch to keep (Bus.PublishOwned)
	delay   time.Duration
	// batch holds the lines of the current write not yet published; its
	// array has room for the next ones, until it is full and a new one is
	// made: one allocation for many reads' lines.
	batch []events.Event

	mu      sync.Mutex
	pending []byte // start of a line whose newline has not arrived
	timer   *time.Timer
	due     time.Time // when pending is flushed on its own; zero when nothing is pending
	cut     bool      // pending ends a large read: see cutLineDelay
}

// maxLineBatch bounds the lines published at once, so one read of many
// short lines cannot make a lossless subscriber's queue grow far beyond
// its size.
const maxLineBatch = 256

func newLineWriter(source string, stream events.Stream, publish func([]events.Event)) *lineWriter {
	return &lineWriter{source: source, stream: stream, publish: publish, delay: partialLineDelay}
}

// Write publishes every complete line in p and keeps the rest for later.
// The complete lines are copied once, into one string they all share.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	if end := bytes.LastIndexByte(p, '\n'); end >= 0 {
		text := string(p[:end])
		first, rest, more := strings.Cut(text, "\n")
		if len(w.pending) > 0 {
			first = string(append(w.pending, first...))
			w.pending = w.pending[:0]
		}
		w.emitLocked(first)
		for more {
			var line string
			line, rest, more = strings.Cut(rest, "\n")
			w.emitLocked(line)
		}
		p = p[end+1:]
		w.publishLocked()
		// Publishing may have waited for a slow reader of the bus (see
		// SubscribeLossless): the rest of this line is still in the pipe,
		// so its wait starts now, not at its first byte.
		w.due = time.Time{}
	}
	w.pending = append(w.pending, p...)
	// Never hold more than one event's worth of an unfinished line.
	w.cut = n >= cutReadBytes
	for len(w.pending) > MaxLineBytes {
		cut := runeBoundary(w.pending, MaxLineBytes)
		w.emitPieceLocked(string(w.pending[:cut]), true)
		w.pending = append(w.pending[:0], w.pending[cut:]...)
	}
	w.publishLocked()
	w.armLocked()
	return n, nil
}

// emitLocked publishes a complete line, in pieces when it is too long.
func (w *lineWriter) emitLocked(line string) {
	line = strings.TrimSuffix(line, "\r")
	for len(line) > MaxLineBytes {
		cut := runeBoundary(line, MaxLineBytes)
		w.emitPieceLocked(line[:cut], true)
		line = line[cut:]
	}
	w.emitPieceLocked(line, false)
}

// emitPieceLocked adds one event to the batch; publishLocked sends it.
func (w *lineWriter) emitPieceLocked(text string, continued bool) {
	if len(w.batch) == cap(w.batch) {
		w.publishLocked()
		w.batch = make([]events.Event, 0, maxLineBatch)
	}
	// Set field by field: the array is new and zeroed, and copying a whole
	// Event there costs more than the line itself.
	w.batch = w.batch[:len(w.batch)+1]
	e := &w.batch[len(w.batch)-1]
	e.Kind, e.Source, e.Stream, e.Text, e.Continued = events.KindLog, w.source, w.stream, text, continued
}

// publishLocked publishes the lines gathered so far; they are the bus's
// from then on, and the next ones go after them in the array.
func (w *lineWriter) publishLocked() {
	if len(w.batch) == 0 {
		return
	}
	w.publish(w.batch)
	w.batch = w.batch[len(w.batch):]
}

// armLocked sets when an unfinished line is flushed on its own: delay
// after its first byte, so text that keeps coming without a newline
// (progress dots) still shows up every delay.
func (w *lineWriter) armLocked() {
	switch {
	case len(w.pending) == 0:
		w.disarmLocked()
	case !w.due.IsZero():
	case w.timer == nil:
		w.due = time.Now().Add(w.wait())
		w.timer = time.AfterFunc(w.wait(), w.flushIfDue)
	default:
		w.due = time.Now().Add(w.wait())
		w.timer.Reset(w.wait())
	}
}

// wait is how long the unfinished line waits for its end.
func (w *lineWriter) wait() time.Duration {
	if w.cut {
		return max(w.delay, cutLineDelay)
	}
	return w.delay
}

func (w *lineWriter) disarmLocked() {
	if !w.due.IsZero() {
		w.timer.Stop()
		w.due = time.Time{}
	}
}

// flushIfDue is the timer's: it flushes the unfinished line once it is due.
// The timer may fire for a line that has ended since, or while a write
// held the lock; then it only waits for the next one.
func (w *lineWriter) flushIfDue() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.due.IsZero() || len(w.pending) == 0 {
		return
	}
	if wait := time.Until(w.due); wait > 0 {
		w.timer.Reset(wait)
		return
	}
	w.flushLocked()
}

// Flush publishes the unfinished line, if any, as a line of its own.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
}

func (w *lineWriter) flushLocked() {
	w.disarmLocked()
	if len(w.pending) > 0 {
		w.emitLocked(string(w.pending))
		w.pending = w.pending[:0]
		w.publishLocked()
	}
}

// runeBoundary returns the largest cut ≤ max that does not split a UTF-8
// sequence (or max itself when the text is not valid UTF-8 there).
func runeBoundary[T string | []byte](b T, max int) int {
	for cut := max; cut > max-utf8.UTFMax && cut > 0; cut-- {
		if utf8.RuneStart(b[cut]) {
			return cut
		}
	}
	return max
}

// Reading a flood: drain reads at most readBytes at once. After a read of
// floodReadBytes or more that emptied the pipe, it pauses for floodPause
// before the next, so that a process printing in a steady stream is read
// in large chunks (one read, one string, one publication for many lines)
// rather than a wake-up for each of its writes. The pipe holds what comes
// meanwhile (outputPipeBytes where the system lets devstack choose, see
// growPipe). A pause never lets the pipe fill: a process printing so fast
// that half the pipe would fill during one (see readPacer) is read without
// pauses, as fast as it writes, since one that finds the pipe full stops
// until devstack reads. Output that comes in smaller pieces is read as it
// comes.
const (
	readBytes       = 256 << 10
	floodReadBytes  = 4 << 10
	floodPause      = time.Millisecond
	outputPipeBytes = 1 << 20
)

// readPacer decides when drain pauses, from the rate the process writes
// at: the bytes read since the last pause decision, over the time since.
type readPacer struct {
	pipeBytes int       // what the pipe holds
	since     time.Time // the last decision
	bytes     int       // read since then
}

// pause reports whether drain should pause after reading n bytes into a
// buffer of size bytes, at now.
func (p *readPacer) pause(n, size int, now time.Time) bool {
	p.bytes += n
	if n < floodReadBytes || n == size {
		return false // a trickle, or more is waiting: read on
	}
	elapsed := now.Sub(p.since)
	// Bytes arriving during one pause at this rate; a pause takes a
	// little longer than asked, hence the margin of half the pipe.
	fast := elapsed > 0 && int64(p.bytes)*int64(floodPause) >= int64(p.pipeBytes/2)*int64(elapsed)
	p.since, p.bytes = now, 0
	return !fast
}

// drain copies r into w until EOF or a read error, then flushes the
// unfinished line. It always keeps reading, so the writer at the other end
// of the pipe never waits on devstack. pipeBytes is what the pipe holds.
func drain(r io.Reader, w *lineWriter, pipeBytes int) {
	buf := make([]byte, readBytes)
	pacer := readPacer{pipeBytes: pipeBytes}
	for {
		n, err := r.Read(buf)
		if n > 0 {
			w.Write(buf[:n])
		}
		if err == nil && pacer.pause(n, len(buf), time.Now()) {
			time.Sleep(floodPause)
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
				w.Flush()
				w.publish([]events.Event{{
					Kind:   events.KindMessage,
					Source: events.SourceDevstack,
					Text:   "reading " + w.stream.String() + " of " + w.source + ": " + err.Error(),
				}})
			}
			break
		}
	}
	w.Flush()
}
