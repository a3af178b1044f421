package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/devstack-dev/devstack/events"
)

// numbered sends n lines "line 0" … "line n-1" from web.
func numbered(m *model, from, n int) {
	var evs []events.Event
	for i := from; i < from+n; i++ {
		evs = append(evs, logEvent("web", fmt.Sprintf("line %d", i)))
	}
	send(m, evs...)
}

func TestScrollAndFollow(t *testing.T) {
	m := newTestModel(t, 100, 15) // a pane of 10 rows
	if m.logs.height != 10 {
		t.Fatalf("pane height: got %d, want 10", m.logs.height)
	}
	numbered(m, 0, 100)
	lastRow := func() string {
		rows := m.logs.rows(m.st)
		return rows[len(rows)-1]
	}
	if got, want := lastRow(), "web      | line 99"; got != want {
		t.Errorf("following: bottom row %q, want %q", got, want)
	}
	press(m, "up", "up", "k")
	if m.logs.follow {
		t.Fatal("scrolling up still follows")
	}
	if got, want := lastRow(), "web      | line 96"; got != want {
		t.Errorf("after 3 up: bottom row %q, want %q", got, want)
	}
	numbered(m, 100, 5)
	if got, want := lastRow(), "web      | line 96"; got != want {
		t.Errorf("new lines moved a paused view: bottom row %q, want %q", got, want)
	}
	if !strings.Contains(m.footer(), "paused, 8 newer") {
		t.Errorf("footer while paused: %q", m.footer())
	}
	press(m, "pgup")
	if got, want := lastRow(), "web      | line 87"; got != want {
		t.Errorf("page up: bottom row %q, want %q", got, want)
	}
	press(m, "pgdown", "down")
	if got, want := lastRow(), "web      | line 97"; got != want {
		t.Errorf("page down, down: bottom row %q, want %q", got, want)
	}
	press(m, "home")
	if rows := m.logs.rows(m.st); rows[0] != "web      | line 0" || len(rows) != 10 {
		t.Errorf("home: rows %q, want line 0 at the top of a full pane", rows)
	}
	press(m, "up")
	if got := m.logs.rows(m.st)[0]; got != "web      | line 0" {
		t.Errorf("up at the top moved the view: top row %q", got)
	}
	press(m, "end")
	numbered(m, 105, 1)
	if !m.logs.follow || lastRow() != "web      | line 105" {
		t.Errorf("end does not follow again: bottom row %q", lastRow())
	}
	for range 20 {
		press(m, "pgup")
	}
	for range 20 {
		press(m, "pgdown")
	}
	if !m.logs.follow {
		t.Error("scrolling down to the newest line does not follow again")
	}
}

func TestScrollWithWrappedLines(t *testing.T) {
	m := newTestModel(t, 60, 15) // no side list: the pane is 60 wide, text 49
	send(m, logEvent("web", "short"), logEvent("web", strings.Repeat("word ", 40)), logEvent("web", "end"))
	rows := m.logs.rows(m.st)
	if len(rows) != 6 || rows[1] != "web      | "+strings.TrimSpace(strings.Repeat("word ", 10)) || !strings.HasPrefix(rows[2], "         | word") {
		t.Errorf("wrapped rows:\n%s", strings.Join(rows, "\n"))
	}
	press(m, "w")
	if rows := m.logs.rows(m.st); len(rows) != 3 || !strings.HasSuffix(rows[1], "…") {
		t.Errorf("without wrapping:\n%s", strings.Join(rows, "\n"))
	}
	press(m, "t")
	if rows := m.logs.rows(m.st); rows[0] != "web      | 12:01:33 short" || ansi.StringWidth(rows[1]) != 60 {
		t.Errorf("with times:\n%s", strings.Join(rows, "\n"))
	}
}

func TestBoundedHistory(t *testing.T) {
	m := newTestModel(t, 100, 15, func(c *config) { c.history = 100 })
	numbered(m, 0, 50)
	press(m, "home") // paused on the oldest lines, which are about to go
	numbered(m, 50, 200)
	if got := m.logs.lines.n; got != 100 {
		t.Errorf("lines kept: got %d, want 100", got)
	}
	if got := len(m.logs.matches); got != 100 {
		t.Errorf("lines shown: got %d, want 100", got)
	}
	if got, want := m.logs.rows(m.st)[0], "web      | line 150"; got != want {
		t.Errorf("a view on dropped lines: top row %q, want the oldest kept %q", got, want)
	}
	press(m, "2") // web only: the same 100
	press(m, "/", "1", "9", "enter")
	// 150–199 keep "19"? No: lines 190–199 and 219 contain "19".
	if got := len(m.logs.matches); got != 11 {
		t.Errorf("lines with 19: got %d, want 11", got)
	}
	if got := len(m.logs.lines.buf); got != 100 {
		t.Errorf("the history grew to %d", got)
	}
	// A huge line is kept cut.
	send(m, logEvent("web", strings.Repeat("x", 64<<10)))
	if l := m.logs.lines.get(m.logs.lines.nextSeq() - 1); len(l.text)+len(l.printed) > maxStoredBytes+len("…") {
		t.Errorf("a 64 kB line is kept whole (%d bytes)", len(l.text)+len(l.printed))
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                "plain",
		"a\tb":                 "a       b",
		"12345678\tx":          "12345678        x",
		"10%\r50%\r100%":       "100%",
		"done\r":               "done",
		"bell\a and \bback":    "bell and back",
		"\x1b[1mkept\x1b[0m\t": "\x1b[1mkept\x1b[0m    ",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q): got %q, want %q", in, got, want)
		}
	}
}
