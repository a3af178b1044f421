package tui

import (
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/devstack-dev/devstack/events"
)

// DefaultHistory is how many lines the terminal UI keeps by default.
const DefaultHistory = 10000

// maxStoredBytes bounds one kept line. The bus already cuts lines at
// orchestrator.MaxLineBytes; kept 10,000 times that would be 640 MB, and
// nobody reads 64 kB of a line in a terminal anyway.
const maxStoredBytes = 4 << 10

// logLine is one line of the log pane.
type logLine struct {
	seq    uint64
	at     time.Time
	source string
	text   string // printable: escapes removed (SGR kept when colour is on), tabs expanded
	// printed is a log line as the process printed it, until the pane
	// needs its text (logView.textOf): a line of a flood that leaves the
	// history unseen is never cleaned.
	printed string
	color   string // SGR parameters for the whole text, "" for none (failures are red)
	lower   string // text in lower case without escapes, for the text filter; set on demand
}

// lineRing keeps the last cap(buf) lines, numbered by a sequence that
// only grows, so a position in the log survives old lines being dropped.
type lineRing struct {
	buf   []logLine
	start int    // index in buf of the oldest line
	n     int    // lines held
	first uint64 // seq of the oldest line
}

func newLineRing(capacity int) lineRing {
	return lineRing{buf: make([]logLine, capacity)}
}

// nextSeq is the seq the next pushed line gets.
func (r *lineRing) nextSeq() uint64 { return r.first + uint64(r.n) }

// push appends l (its seq must be nextSeq) and returns the seq of the line
// it dropped to make room, if any.
func (r *lineRing) push(l logLine) (dropped uint64, ok bool) {
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = l
		r.n++
		return 0, false
	}
	dropped = r.first
	r.buf[r.start] = l
	r.start = (r.start + 1) % len(r.buf)
	r.first++
	return dropped, true
}

// get returns the line numbered seq, or nil when it was dropped or is yet
// to come.
func (r *lineRing) get(seq uint64) *logLine {
	if seq < r.first || seq >= r.nextSeq() {
		return nil
	}
	return &r.buf[(r.start+int(seq-r.first))%len(r.buf)]
}

// logView is the log pane: every line kept, the ones the filter lets
// through, and the scroll position over those.
type logView struct {
	lines lineRing

	source  string   // show only this source; "" for all
	text    string   // show only lines containing this, in lower case; "" for all
	matches []uint64 // seqs of the kept lines that pass the filter, ascending

	// follow keeps the newest line at the bottom of the pane; otherwise
	// bottom is the seq of the line shown at the bottom, and new lines
	// do not move the view.
	follow bool
	bottom uint64

	wrap   bool // wrap long lines (else cut them with "…")
	stamps bool // show each line's time
	color  bool // SGR sequences of the processes stay in their lines

	width, height int // of the pane
	nameWidth     int // of the source column
}

func newLogView(history int, color bool) logView {
	if history <= 0 {
		history = DefaultHistory
	}
	return logView{lines: newLineRing(history), follow: true, wrap: true, color: color}
}

// textOf returns l's text as the pane shows it, made the first time it
// is needed from what the process printed.
func (v *logView) textOf(l *logLine) string {
	if l.printed != "" {
		l.text, l.printed = paneText(l.printed, v.color), ""
	}
	return l.text
}

// add keeps l, dropping the oldest line when the history is full.
func (v *logView) add(l logLine) {
	l.seq = v.lines.nextSeq()
	if dropped, ok := v.lines.push(l); ok && len(v.matches) > 0 && v.matches[0] == dropped {
		v.matches = v.matches[1:]
	}
	if v.keep(v.lines.get(l.seq)) {
		v.matches = append(v.matches, l.seq)
	}
}

// keep reports whether l passes the filter.
func (v *logView) keep(l *logLine) bool {
	if v.source != "" && l.source != v.source {
		return false
	}
	if v.text == "" {
		return true
	}
	if l.lower == "" {
		l.lower = strings.ToLower(ansi.Strip(v.textOf(l)))
	}
	return strings.Contains(l.lower, v.text)
}

// setFilter shows only the lines of source ("" for all) that contain text
// (any case; "" for all), keeping the view near the line it showed.
func (v *logView) setFilter(source, text string) {
	text = strings.ToLower(text)
	if source == v.source && text == v.text {
		return
	}
	v.source, v.text = source, text
	v.matches = v.matches[:0]
	for seq := v.lines.first; seq < v.lines.nextSeq(); seq++ {
		if v.keep(v.lines.get(seq)) {
			v.matches = append(v.matches, seq)
		}
	}
	if v.follow {
		return
	}
	// The nearest line at or before the old bottom that still shows.
	i := sort.Search(len(v.matches), func(i int) bool { return v.matches[i] > v.bottom }) - 1
	if i < 0 || i >= len(v.matches)-1 {
		v.follow = true
		return
	}
	v.bottom = v.matches[i]
}

// bottomIndex is the index in matches of the line at the bottom of the
// pane; -1 when nothing passes the filter.
func (v *logView) bottomIndex() int {
	if v.follow || len(v.matches) == 0 {
		return len(v.matches) - 1
	}
	// A bottom line dropped from the history leaves the oldest in its place.
	return sort.Search(len(v.matches), func(i int) bool { return v.matches[i] >= v.bottom })
}

// newer is how many lines passing the filter are below the view.
func (v *logView) newer() int {
	if v.follow {
		return 0
	}
	return len(v.matches) - 1 - v.bottomIndex()
}

// setBottom shows the line at index i of matches at the bottom, following
// when it is the newest.
func (v *logView) setBottom(i int) {
	if i >= len(v.matches)-1 {
		v.follow = true
		return
	}
	v.follow = false
	v.bottom = v.matches[max(i, v.topIndex())]
}

// topIndex is the bottom index that shows the oldest line at the top: the
// view cannot scroll further up than that.
func (v *logView) topIndex() int {
	rows := 0
	for i, seq := range v.matches {
		rows += len(v.wrapRows(v.textOf(v.lines.get(seq))))
		if rows > v.height {
			return max(i-1, 0)
		}
	}
	return len(v.matches) - 1
}

func (v *logView) scrollUp(n int)   { v.setBottom(max(v.bottomIndex()-n, v.topIndex())) }
func (v *logView) scrollDown(n int) { v.setBottom(v.bottomIndex() + n) }
func (v *logView) toTop()           { v.setBottom(v.topIndex()) }
func (v *logView) toBottom()        { v.follow = true }

// textWidth is the width left for a line's text after its prefix.
func (v *logView) textWidth() int {
	w := v.width - v.nameWidth - len(" | ")
	if v.stamps {
		w -= len("15:04:05 ")
	}
	return max(w, 8)
}

// wrapRows cuts text into the rows it takes in the pane.
func (v *logView) wrapRows(text string) []string {
	w := v.textWidth()
	if ansi.StringWidth(text) <= w {
		return []string{text}
	}
	if !v.wrap {
		return []string{ansi.Truncate(text, w, "…")}
	}
	// Break at spaces where possible, inside a word only when it is longer
	// than the row.
	return strings.Split(ansi.Wrap(text, w, ""), "\n")
}

// rows renders the pane: at most height rows, the bottom line last.
func (v *logView) rows(st styles) []string {
	var out []string // built bottom-up, reversed at the end
	for i := v.bottomIndex(); i >= 0 && len(out) < v.height; i-- {
		l := v.lines.get(v.matches[i])
		wrapped := v.wrapRows(v.textOf(l))
		for j := len(wrapped) - 1; j >= 0 && len(out) < v.height; j-- {
			out = append(out, v.row(st, l, wrapped[j], j == 0))
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// row renders one row of line l: the source (or blanks on a wrapped
// row's continuation), the time when shown, and the text.
func (v *logView) row(st styles, l *logLine, text string, first bool) string {
	var b strings.Builder
	name := ""
	if first {
		name = fitName(l.source, v.nameWidth)
	}
	b.WriteString(st.sgr(sourceColor(l.source), padRight(name, v.nameWidth)+" |"))
	b.WriteByte(' ')
	if v.stamps {
		stamp := strings.Repeat(" ", len("15:04:05"))
		if first && !l.at.IsZero() {
			stamp = l.at.Format("15:04:05")
		}
		b.WriteString(st.dim.Render(stamp))
		b.WriteByte(' ')
	}
	if strings.Contains(text, "\x1b[") {
		text += "\x1b[0m" // the process's own colour must not run into the next row
	}
	b.WriteString(st.sgr(l.color, text))
	return b.String()
}

// linesOf turns an event into the lines the pane shows, as the plain
// writer would print them.
func linesOf(e events.Event, color bool) []logLine {
	source := e.Source
	if source == "" {
		source = events.SourceDevstack
	}
	text, textColor := render(e)
	var out []logLine
	for part := range strings.SplitSeq(text, "\n") {
		out = append(out, logLine{at: e.Time, source: source, text: paneText(part, color), color: textColor})
	}
	return out
}

// paneText is one line of text as the pane keeps it: cleaned (see
// cleanLine), then made printable. Printable ASCII short enough to keep
// whole and without tabs, most lines, costs one scan and a quick look
// for a tab.
func paneText(s string, color bool) string {
	if len(s) <= maxStoredBytes && plainPrefix(s) == len(s) && strings.IndexByte(s, '\t') < 0 {
		return s
	}
	return printable(cleanLine(s, color))
}

// printable makes one line safe to place in the layout: it keeps what
// follows the last carriage return (as a terminal would show a progress
// bar), expands tabs, drops other control characters and cuts the line at
// maxStoredBytes.
func printable(s string) string {
	if i := strings.LastIndexByte(s, '\r'); i >= 0 && i < len(s)-1 {
		s = s[i+1:]
	}
	if len(s) > maxStoredBytes {
		s = ansi.Strip(s) // so the cut cannot fall inside an escape sequence
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\x1b') || c == 0x7f {
			clean = false
			break
		}
	}
	if clean && len(s) <= maxStoredBytes {
		return s
	}
	var b strings.Builder
	col := 0          // for tab stops; a wide character counts as one, as in most editors
	inEscape := false // inside an SGR sequence, which takes no column
	for _, r := range s {
		if b.Len() >= maxStoredBytes {
			b.WriteString("…")
			break
		}
		switch {
		case r == '\x1b':
			inEscape = true
			b.WriteRune(r)
		case inEscape:
			inEscape = r < '@' || r > '~' || r == '['
			b.WriteRune(r)
		case r == '\t':
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
		case (r < ' ' && r != '\x1b') || r == 0x7f:
			// dropped: it would move the cursor or ring the bell
		default:
			b.WriteRune(r)
			col++
		}
	}
	return b.String()
}

// fitName cuts a source name to width with "…".
func fitName(name string, width int) string {
	if utf8.RuneCountInString(name) <= width {
		return name
	}
	return ansi.Truncate(name, width, "…")
}

// padRight pads s with spaces to width cells.
func padRight(s string, width int) string {
	if w := ansi.StringWidth(s); w < width {
		return s + strings.Repeat(" ", width-w)
	}
	return s
}
