package tui

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/devstack-dev/devstack/events"
)

func TestReloadHeader(t *testing.T) {
	m := newTestModel(t, 120, 20)
	if !strings.Contains(m.View(), "no reload yet") {
		t.Errorf("before any reload:\n%s", m.View())
	}
	send(m, events.Event{Time: at, Kind: events.KindReloadStart, Source: "devstack", Text: "reloading (hup): whoami/views.py changed",
		Reload: &events.ReloadRecord{Trigger: "whoami/views.py changed", Strategy: "hup"}})
	if !strings.Contains(m.View(), "↻ reloading (hup): whoami/views.py changed…") {
		t.Errorf("during a reload:\n%s", m.View())
	}
	send(m, events.Event{Time: at, Kind: events.KindReloadFinish, Source: "devstack", Text: "reloaded in 182ms: whoami/views.py changed",
		Reload: &events.ReloadRecord{Trigger: "whoami/views.py changed", Duration: 182 * time.Millisecond}})
	if !strings.Contains(m.View(), "✓ reloaded in 182ms: whoami/views.py changed at 12:01:33") {
		t.Errorf("after a reload:\n%s", m.View())
	}
	send(m, events.Event{Time: at, Kind: events.KindReloadFinish, Source: "devstack",
		Reload: &events.ReloadRecord{Duration: 2 * time.Second, Err: "the gateway exited while loading the new code"}})
	if !strings.Contains(m.View(), "✗ reload failed after 2.00s: the gateway exited while loading the new code") {
		t.Errorf("after a failed reload:\n%s", m.View())
	}
	// A UI started after a reload learns of it from the status.
	m = newTestModel(t, 120, 20)
	st := fakeStatus()
	st.LastReload = events.ReloadRecord{Trigger: "a.py changed", Duration: 90 * time.Millisecond}
	m.Update(statusMsg(st))
	if !strings.Contains(m.View(), "✓ reloaded in 90ms: a.py changed") {
		t.Errorf("the status's last reload:\n%s", m.View())
	}
}

func TestHelpScreen(t *testing.T) {
	m := newTestModel(t, 120, 30)
	press(m, "?")
	view := m.View()
	for _, b := range m.keys.helpBindings(false) {
		if !strings.Contains(view, b.help) {
			t.Errorf("help lacks %q:\n%s", b.help, view)
		}
	}
	if strings.Contains(view, m.keys.Reload.help) {
		t.Error("help offers reload without a reload hook")
	}
	press(m, "q")
	if m.screen != screenLogs || m.stop != stopNone {
		t.Error("q on the help screen did not just close it")
	}
}

func TestViewGolden(t *testing.T) {
	m := newTestModel(t, 100, 24)
	m.Update(statusMsg(fakeStatus()))
	for _, e := range sampleEvents() {
		e.Time = at
		send(m, e)
	}
	send(m, events.Event{Time: at, Kind: events.KindReloadFinish, Source: "devstack", Text: "reloaded in 182ms: whoami/views.py changed",
		Reload: &events.ReloadRecord{Trigger: "whoami/views.py changed", Duration: 182 * time.Millisecond}})
	view := m.View()
	if strings.Contains(view, "\x1b") {
		t.Errorf("escape sequences with NO_COLOR: %q", view)
	}
	lines := strings.Split(view, "\n")
	if len(lines) != 24 {
		t.Errorf("the view has %d lines, want 24", len(lines))
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > 100 {
			t.Errorf("line %d is %d cells wide: %q", i, w, l)
		}
	}
	compareGolden(t, "testdata/tui.golden", []byte(view+"\n"))
}

func TestViewSizes(t *testing.T) {
	m := newTestModel(t, 70, 12)
	send(m, logEvent("web", "hello"))
	view := m.View()
	if strings.Contains(view, "NAME") || !strings.Contains(view, "web      | hello") {
		t.Errorf("a narrow window keeps the side list, or loses the log:\n%s", view)
	}
	m.Update(tea.WindowSizeMsg{Width: 50, Height: 12})
	if !strings.Contains(m.footer(), "q quit  ? help") {
		t.Errorf("a narrow footer drops the quit and help keys: %q", m.footer())
	}
	m.Update(tea.WindowSizeMsg{Width: 30, Height: 5})
	if got := m.View(); !strings.Contains(got, "too small") {
		t.Errorf("a tiny window: %q", got)
	}
	m.Update(tea.WindowSizeMsg{Width: 90, Height: 30})
	if m.logs.height != 25 || !strings.Contains(m.View(), "NAME") {
		t.Errorf("after growing: pane height %d\n%s", m.logs.height, m.View())
	}
	for i, l := range strings.Split(m.View(), "\n") {
		if w := ansi.StringWidth(l); w > 90 {
			t.Errorf("line %d is %d cells wide at 90 columns: %q", i, w, l)
		}
	}
}

func TestColours(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	m := newModel(config{out: &bytes.Buffer{}, color: true})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 20})
	send(m, logEvent("web", "\x1b[1mbold\x1b[0m and \x1b[2Jplain"),
		events.Event{Kind: events.KindState, Source: "web", Text: "crashed (exit code 1)",
			Change: &events.StateChange{State: events.StateCrashed}})
	rows := m.logs.rows(m.st)
	prefix := "\x1b[" + sourceColor("web") + "mweb      |\x1b[0m "
	if got, want := rows[0], prefix+"\x1b[1mbold\x1b[0m and plain\x1b[0m"; got != want {
		t.Errorf("colour row: got %q, want %q", got, want)
	}
	if !strings.HasSuffix(rows[1], "\x1b[31mcrashed (exit code 1)\x1b[0m") {
		t.Errorf("a crash is not red: %q", rows[1])
	}
}
