// Package tui shows a running stack: the interactive terminal UI and the
// plain line writer used when output is not a terminal (or --no-tui).
package tui

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/devstack-dev/devstack/events"
	"github.com/mattn/go-isatty"
)

// ColorEnabled reports whether output to w should be coloured: only on a
// terminal, and never when NO_COLOR is set (to any value) or TERM is dumb.
func ColorEnabled(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(w)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// PlainOptions configures a Plain writer.
type PlainOptions struct {
	// Color turns on ANSI colours (default off; see ColorEnabled). Without
	// colour, escape sequences in the processes' own output are removed.
	Color bool
	// Sources are the names known up front (the processes, "proxy",
	// "devstack"); the prefix column is as wide as the longest. A longer
	// name seen later widens it from then on.
	Sources []string
}

// Plain writes events as `name | text` lines, the prefix padded so the
// text of every source lines up:
//
//	web      | Booting worker with pid: 4242
//	proxy    | GET /admin/ 302 12ms 1.2kB
//	devstack | ready https://localhost:8080
//
// It is safe for concurrent use.
type Plain struct {
	mu     sync.Mutex
	w      io.Writer
	color  bool
	width  int
	buf    []byte
	checks map[string]events.CheckStatus // the latest status of each trust check
}

// NewPlain returns a writer of events to w.
func NewPlain(w io.Writer, opts PlainOptions) *Plain {
	p := &Plain{w: w, color: opts.Color, width: utf8.RuneCountInString(events.SourceDevstack)}
	for _, s := range opts.Sources {
		p.width = max(p.width, utf8.RuneCountInString(s))
	}
	return p
}

// Run writes every batch of events from ch until the channel is closed,
// and returns the first write error (after which it keeps draining, so
// the bus is never held up by a broken output). Lines that come in a
// burst are written together, never one write per line: what was gathered
// is written once plainFlushBytes have gathered, or once no batch has come
// for plainFlushDelay (so a quiet moment shows everything at once). The
// batches are only read.
func (p *Plain) Run(ch <-chan []events.Event) error {
	var first error
	note := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	flush := func() {
		p.mu.Lock()
		note(p.flushLocked())
		p.mu.Unlock()
	}
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	defer quiet.Stop()
	for {
		var batch []events.Event
		var ok bool
		select {
		case batch, ok = <-ch:
		default:
			// Nothing waiting: give a burst a moment to go on before
			// writing what it brought.
			quiet.Reset(plainFlushDelay)
			select {
			case batch, ok = <-ch:
				quiet.Stop()
			case <-quiet.C:
				flush()
				batch, ok = <-ch
			}
		}
		if !ok {
			flush()
			return first
		}
		p.mu.Lock()
		for i := range batch {
			p.appendLocked(&batch[i])
			if len(p.buf) >= plainFlushBytes {
				note(p.flushLocked())
			}
		}
		p.mu.Unlock()
	}
}

// plainFlushBytes is how much output Run gathers at most before writing;
// plainFlushDelay is how long it waits for more once none is waiting.
const (
	plainFlushBytes = 64 << 10
	plainFlushDelay = time.Millisecond
)

// Write writes one event as one or more lines, at once.
func (p *Plain) Write(e events.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.appendLocked(&e)
	return p.flushLocked()
}

// flushLocked writes what was gathered.
func (p *Plain) flushLocked() error {
	if len(p.buf) == 0 {
		return nil
	}
	_, err := p.w.Write(p.buf)
	if cap(p.buf) > 4*plainFlushBytes {
		p.buf = nil // one huge event does not keep its buffer for good
	} else {
		p.buf = p.buf[:0]
	}
	return err
}

// appendLocked adds the lines of e to the buffer.
func (p *Plain) appendLocked(e *events.Event) {
	source := e.Source
	if source == "" {
		source = events.SourceDevstack
	}
	if e.Kind == events.KindLog {
		// The common case, without render's copy: one line as printed.
		p.appendLineLocked(source, e.Text, "", e.Continued)
		return
	}
	text, textColor := render(*e)
	if e.Kind == events.KindCheck && e.Check != nil {
		if p.checks == nil {
			p.checks = map[string]events.CheckStatus{}
		}
		prev := p.checks[e.Check.ID]
		p.checks[e.Check.ID] = e.Check.Status
		if quietCheck(prev, e.Check.Status) {
			return
		}
	}
	for line := range strings.SplitSeq(text, "\n") {
		p.appendLineLocked(source, line, textColor, false)
	}
}

// appendLineLocked adds one `source | line` line, line cleaned first
// (nothing a process printed may drive the terminal: only colour and
// style sequences stay, and only when colour is on), … after it when cut.
func (p *Plain) appendLineLocked(source, line, textColor string, cut bool) {
	width := utf8.RuneCountInString(source)
	p.width = max(p.width, width)
	if !p.color {
		textColor = ""
	}
	if p.color {
		p.buf = append(p.buf, "\x1b["...)
		p.buf = append(p.buf, sourceColor(source)...)
		p.buf = append(p.buf, 'm')
	}
	p.buf = append(p.buf, source...)
	for range p.width - width {
		p.buf = append(p.buf, ' ')
	}
	if p.color {
		p.buf = append(p.buf, " |\x1b[0m "...)
	} else {
		p.buf = append(p.buf, " | "...)
	}
	if textColor != "" {
		p.buf = append(p.buf, "\x1b["...)
		p.buf = append(p.buf, textColor...)
		p.buf = append(p.buf, 'm')
	}
	start := len(p.buf)
	p.buf = appendClean(p.buf, line, p.color)
	if cut {
		p.buf = append(p.buf, "…"...)
	}
	if p.color {
		if text := p.buf[start:]; bytes.Contains(text, []byte("\x1b[")) && !bytes.HasSuffix(text, []byte("\x1b[0m")) && !bytes.HasSuffix(text, []byte("\x1b[m")) {
			p.buf = append(p.buf, "\x1b[0m"...) // the process's own colour must not run into the next line
		}
	}
	if textColor != "" {
		p.buf = append(p.buf, "\x1b[0m"...)
	}
	p.buf = append(p.buf, '\n')
}

// ANSI SGR parameters.
const (
	colorRed    = "31"
	colorYellow = "33"
	colorBold   = "1"
)

// sourcePalette holds the colours a source name can get: readable on dark
// and light backgrounds, red left for failures.
var sourcePalette = []string{"36", "32", "35", "34", "33", "96", "92", "95", "94", "93"}

// sourceColor gives each name the same colour in every run.
func sourceColor(source string) string {
	if source == events.SourceDevstack {
		return colorBold
	}
	// FNV-1a, inline: this runs for every line.
	h := uint32(2166136261)
	for i := 0; i < len(source); i++ {
		h ^= uint32(source[i])
		h *= 16777619
	}
	return sourcePalette[h%uint32(len(sourcePalette))]
}

// render returns the text of an event and the colour of that text, if any.
func render(e events.Event) (string, string) {
	switch e.Kind {
	case events.KindLog:
		if e.Continued {
			return e.Text + "…", ""
		}
		return e.Text, ""
	case events.KindAccess:
		if e.Access == nil {
			return e.Text, ""
		}
		return renderAccess(*e.Access), statusColor(e.Access.Status)
	case events.KindState:
		if e.Change != nil && e.Change.State == events.StateCrashed {
			return e.Text, colorRed
		}
		return e.Text, ""
	case events.KindReloadStart:
		if e.Text != "" || e.Reload == nil {
			return e.Text, ""
		}
		return "reloading: " + e.Reload.Trigger, ""
	case events.KindReloadFinish:
		if e.Text != "" || e.Reload == nil {
			return e.Text, ""
		}
		if e.Reload.Err != "" {
			return fmt.Sprintf("reload failed after %s: %s", formatDuration(e.Reload.Duration), e.Reload.Err), colorRed
		}
		return "reloaded in " + formatDuration(e.Reload.Duration), ""
	case events.KindCheck:
		if e.Check == nil {
			return e.Text, ""
		}
		return renderCheck(*e.Check)
	case events.KindSkipped:
		return e.Text, colorYellow
	}
	return e.Text, ""
}

func renderAccess(a events.AccessRecord) string { return string(a.AppendLine(nil)) }

func statusColor(status int) string {
	switch {
	case status >= 500:
		return colorRed
	case status >= 400:
		return colorYellow
	}
	return ""
}

// quietCheck says a check result needs no line of its own: it passes, and
// it did not fail or warn before. The summary devstack prints counts it.
func quietCheck(prev, status events.CheckStatus) bool {
	return status == events.Pass && (prev == "" || prev == events.Pass)
}

func renderCheck(c events.CheckResult) (string, string) {
	text := fmt.Sprintf("check %s: %s", c.ID, c.Status)
	if c.Summary != "" {
		text += ": " + c.Summary
	}
	if c.Fix != "" && c.Status != events.Pass {
		text += "\n  fix: " + c.Fix
	}
	switch c.Status {
	case events.Fail:
		return text, colorRed
	case events.Warn:
		return text, colorYellow
	}
	return text, ""
}

// formatDuration prints a reload time as access lines print theirs.
func formatDuration(d time.Duration) string { return string(events.AppendDuration(nil, d)) }
