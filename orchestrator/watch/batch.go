package watch

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Batch is one debounced set of changes: everything that changed between
// the first event and a short quiet period after the last one.
type Batch struct {
	// Paths changed: slash-separated, relative to the root (absolute for a
	// watched file outside it, such as a virtualenv elsewhere), sorted,
	// without duplicates. A removed directory appears as itself; files of
	// a new directory appear one by one. Empty only for an overflow batch.
	Paths []string
	// NeedsRestart is true when a graceful reload is not enough: a server
	// config, environment file, dependency manifest or virtualenv changed,
	// or events were lost (Overflow).
	NeedsRestart bool
	// RestartCause says why NeedsRestart is set, as
	// "dependency manifest requirements.txt"; empty otherwise.
	RestartCause string
	// Overflow is true when the system dropped events, so Paths may be
	// incomplete; NeedsRestart is then set too.
	Overflow bool
	// First is when the first change of the batch was seen, so the time
	// from a save to the new response can be measured.
	First time.Time
}

// Reason is a short description for logs and the status line:
// "blog/views.py", "3 files: a.py, b.py, c.py",
// "12 files: a.py, b.py, c.py, …", or the restart cause first.
func (b Batch) Reason() string {
	var s string
	switch n := len(b.Paths); {
	case n == 0:
	case n == 1:
		s = b.Paths[0]
	default:
		shown := b.Paths[:min(n, 3)]
		s = fmt.Sprintf("%d files: %s", n, strings.Join(shown, ", "))
		if n > 3 {
			s += ", …"
		}
	}
	switch {
	case b.Overflow:
		return "too many changes at once (some events were lost)"
	case b.RestartCause != "" && s != "" && len(b.Paths) > 1:
		return b.RestartCause + " (" + s + ")"
	case b.RestartCause != "":
		return b.RestartCause
	}
	return s
}

// Merge returns the union of b and o: all paths of both, a restart if
// either needs one, the earlier First.
func (b Batch) Merge(o Batch) Batch {
	m := Batch{
		Paths:        mergeSorted(b.Paths, o.Paths),
		NeedsRestart: b.NeedsRestart || o.NeedsRestart,
		RestartCause: b.RestartCause,
		Overflow:     b.Overflow || o.Overflow,
		First:        b.First,
	}
	if m.RestartCause == "" {
		m.RestartCause = o.RestartCause
	}
	if m.First.IsZero() || (!o.First.IsZero() && o.First.Before(m.First)) {
		m.First = o.First
	}
	return m
}

func mergeSorted(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	out = append(out, a...)
	out = append(out, b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// pathState is what the batch being collected knows about one path.
type pathState struct {
	created bool // the first event of this batch created it
	gone    bool // the last event removed or renamed it away
	cause   string
}

// collector gathers the events of the batch being debounced.
type collector struct {
	paths    map[string]*pathState
	cause    string // first restart cause seen
	overflow bool
	first    time.Time
	last     time.Time
}

func (c *collector) empty() bool { return c.paths == nil && !c.overflow }

func (c *collector) touch(now time.Time) {
	if c.first.IsZero() {
		c.first = now
	}
	c.last = now
}

// add records a change to p. created and gone describe the event: a create
// (or rename to p), a remove (or rename away from p), or neither (a write).
func (c *collector) add(now time.Time, p string, created, gone bool, cause string) {
	c.touch(now)
	if c.paths == nil {
		c.paths = map[string]*pathState{}
	}
	st := c.paths[p]
	if st == nil {
		st = &pathState{created: created}
		c.paths[p] = st
	}
	switch {
	case created:
		st.gone = false
	case gone:
		st.gone = true
	}
	if st.cause == "" {
		st.cause = cause
	}
	if c.cause == "" {
		c.cause = cause
	}
}

// drop forgets the paths reject accepts (their directory turned out to be
// ignored, for example a virtualenv being created).
func (c *collector) drop(reject func(p string, st *pathState) bool) {
	for p, st := range c.paths {
		if reject(p, st) {
			delete(c.paths, p)
		}
	}
	if len(c.paths) == 0 && !c.overflow {
		*c = collector{}
	}
}

// batch turns what was collected into a Batch and resets the collector.
// A file created and removed again within the batch (the temporary file of
// an atomic save) never existed as far as the app is concerned, and is left
// out. ok is false when nothing is left.
func (c *collector) batch() (b Batch, ok bool) {
	b = Batch{Overflow: c.overflow, NeedsRestart: c.overflow, First: c.first}
	for p, st := range c.paths {
		if !(st.created && st.gone) {
			b.Paths = append(b.Paths, p)
		}
	}
	slices.Sort(b.Paths)
	for _, p := range b.Paths {
		cause := c.paths[p].cause
		if cause == "" {
			continue
		}
		b.NeedsRestart = true
		if b.RestartCause == "" || cause == c.cause {
			b.RestartCause = cause
		}
	}
	*c = collector{}
	return b, len(b.Paths) > 0 || b.Overflow
}
