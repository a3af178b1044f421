package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/devstack-dev/devstack/events"
)

// at is a fixed clock for events, so views are stable.
var at = time.Date(2026, 3, 4, 12, 1, 33, 0, time.UTC)

// fakeStack is the status a stack with a gateway and one extra process
// would give.
func fakeStatus() events.StackStatus {
	return events.StackStatus{
		ProxyURL: "https://localhost:8080",
		Ready:    true,
		Gateway:  events.ProcessStatus{Name: "web", State: events.StateRunning, PID: 4242, Restarts: 1},
		Extras: []events.ProcessStatus{
			{Name: "tailwind", State: events.StateCrashed, Restarts: 3, LastExit: "exit code 3"},
		},
	}
}

// newTestModel returns a model without colour at a fixed window size.
func newTestModel(t *testing.T, width, height int, opts ...func(*config)) *model {
	t.Helper()
	t.Setenv("NO_COLOR", "1")
	var out bytes.Buffer
	cfg := config{out: &out, status: fakeStatus}
	for _, o := range opts {
		o(&cfg)
	}
	m := newModel(cfg)
	m.Update(tea.WindowSizeMsg{Width: width, Height: height})
	return m
}

// logEvent is a line printed by source.
func logEvent(source, text string) events.Event {
	return events.Event{Time: at, Kind: events.KindLog, Source: source, Stream: events.StreamStderr, Text: text}
}

// send passes msgs to the model as one batch read off the bus.
func send(m *model, evs ...events.Event) tea.Cmd {
	_, cmd := m.Update(eventBatchMsg{evs})
	return cmd
}

func press(m *model, keys ...string) tea.Cmd {
	var cmd tea.Cmd
	for _, k := range keys {
		_, cmd = m.Update(keyMsg(k))
	}
	return cmd
}

// keyMsg builds the message bubbletea sends for a key named as
// tea.KeyMsg.String names it.
func keyMsg(name string) tea.KeyMsg {
	special := map[string]tea.KeyType{
		"up": tea.KeyUp, "down": tea.KeyDown, "pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
		"home": tea.KeyHome, "end": tea.KeyEnd, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "backspace": tea.KeyBackspace, "ctrl+c": tea.KeyCtrlC,
		"left": tea.KeyLeft, "right": tea.KeyRight,
	}
	if k, ok := special[name]; ok {
		return tea.KeyMsg{Type: k}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(name)}
}

// pane is the log pane's text as shown, one row a line.
func pane(m *model) string { return strings.Join(m.logs.rows(m.st), "\n") }

// run executes cmd and what it batches, as bubbletea would, and returns
// the messages they produced (readEvents and tick are left out: they wait).
func run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, run(c)...)
		}
		return out
	case nil:
		return nil
	default:
		return []tea.Msg{msg}
	}
}

func TestEventsBecomeLines(t *testing.T) {
	m := newTestModel(t, 120, 30)
	send(m,
		events.Event{Time: at, Kind: events.KindState, Source: "web", Text: "running (pid 4242)",
			Change: &events.StateChange{State: events.StateRunning, PID: 4242}},
		logEvent("web", "[INFO] Booting worker with pid: 4243"),
		logEvent("web", "aaaa\tb\x1b[2Kc\x1b[31mred\x1b[0m"),
		events.Event{Time: at, Kind: events.KindAccess, Source: "proxy", Access: &events.AccessRecord{
			Method: "GET", Path: "/admin/", Status: 302, Duration: 12 * time.Millisecond, Bytes: 1234}},
		events.Event{Time: at, Kind: events.KindCheck, Source: events.SourceDevstack, Check: &events.CheckResult{
			ID: "django.csrf-trusted-origins", Status: "fail", Summary: "the form is refused", Fix: "CSRF_TRUSTED_ORIGINS = [...]"}},
		events.Event{Time: at, Kind: events.KindMessage, Text: "ready https://localhost:8080"},
	)
	want := []string{
		"web      | running (pid 4242)",
		"web      | [INFO] Booting worker with pid: 4243",
		"web      | aaaa    bcred",
		"proxy    | GET /admin/ 302 12ms 1.2kB",
		"devstack | check django.csrf-trusted-origins: fail: the form is refused",
		"devstack |   fix: CSRF_TRUSTED_ORIGINS = [...]",
		"devstack | ready https://localhost:8080",
	}
	if got := pane(m); got != strings.Join(want, "\n") {
		t.Errorf("pane:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if m.stack.requests != 1 {
		t.Errorf("requests: got %d, want 1", m.stack.requests)
	}
	if pass, warn, fail := m.stack.checkCounts(); pass != 0 || warn != 0 || fail != 1 {
		t.Errorf("checks: got %d/%d/%d, want 0/0/1", pass, warn, fail)
	}
}

func TestBatchReadsTheBusAgain(t *testing.T) {
	ch := make(chan []events.Event, 4)
	m := newTestModel(t, 100, 20, func(c *config) { c.events = ch; c.status = nil })
	ch <- []events.Event{logEvent("web", "second")}
	ch <- []events.Event{logEvent("web", "third")}
	cmd := send(m, logEvent("web", "first"))
	if cmd == nil {
		t.Fatal("a batch did not issue the next read of the bus")
	}
	msg := cmd()
	batch, ok := msg.(eventBatchMsg)
	if !ok || len(batch) != 2 || len(batch[0])+len(batch[1]) != 2 {
		t.Fatalf("the next read: got %#v, want a batch of the 2 queued events", msg)
	}
	m.Update(batch)
	close(ch)
	if _, ok := readEvents(m.cfg.ctx, ch)().(busClosedMsg); !ok {
		t.Error("a closed bus is not reported")
	}
	_, cmd = m.Update(busClosedMsg{})
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Error("the UI does not end when the bus closes")
	}
	if got := m.logs.lines.n; got != 3 {
		t.Errorf("lines kept: got %d, want 3", got)
	}
}

func TestReadEventsBatchesAndStops(t *testing.T) {
	ch := make(chan []events.Event, maxBatch+10)
	for i := range maxBatch + 10 {
		ch <- []events.Event{logEvent("web", fmt.Sprint(i))}
	}
	ctx, cancel := context.WithCancel(context.Background())
	batch := readEvents(ctx, ch)().(eventBatchMsg)
	if len(batch) != maxBatch {
		t.Errorf("first batch: got %d events, want %d", len(batch), maxBatch)
	}
	if got := batch[0][0].Text; got != "0" {
		t.Errorf("events out of order: first is %q", got)
	}
	if batch := readEvents(ctx, ch)().(eventBatchMsg); len(batch) != 10 {
		t.Errorf("second batch: got %d events, want 10", len(batch))
	}
	cancel()
	if msg := readEvents(ctx, ch)(); msg != nil {
		t.Errorf("after the end: got %#v, want nil", msg)
	}
}

func TestFilterBySource(t *testing.T) {
	m := newTestModel(t, 120, 30)
	m.Update(statusMsg(fakeStatus()))
	send(m, logEvent("web", "w1"), logEvent("tailwind", "t1"),
		events.Event{Kind: events.KindAccess, Source: "proxy", Access: &events.AccessRecord{Method: "GET", Path: "/", Status: 200}},
		logEvent("web", "w2"))
	// The side list: 0 all, 1 proxy, 2 web, 3 tailwind, 4 devstack.
	press(m, "2")
	if got, want := pane(m), "web      | w1\nweb      | w2"; got != want {
		t.Errorf("web only:\n%s\nwant:\n%s", got, want)
	}
	press(m, "tab")
	if got, want := pane(m), "tailwind | t1"; got != want {
		t.Errorf("tab to tailwind:\n%s\nwant:\n%s", got, want)
	}
	send(m, logEvent("web", "w3"), logEvent("tailwind", "t2"))
	if got, want := pane(m), "tailwind | t1\ntailwind | t2"; got != want {
		t.Errorf("new lines under a filter:\n%s\nwant:\n%s", got, want)
	}
	press(m, "shift+tab", "shift+tab", "shift+tab")
	if m.logs.source != "" {
		t.Errorf("shift+tab from tailwind three times: got %q, want all", m.logs.source)
	}
	press(m, "shift+tab")
	if m.logs.source != events.SourceDevstack {
		t.Errorf("shift+tab from all wraps to the last: got %q", m.logs.source)
	}
	press(m, "9") // no ninth source: nothing changes
	if m.logs.source != events.SourceDevstack {
		t.Errorf("a number past the list changed the filter to %q", m.logs.source)
	}
	press(m, "0")
	if got := len(m.logs.matches); got != 6 {
		t.Errorf("all: got %d lines, want 6", got)
	}
	if !strings.Contains(m.View(), "› 0 all") {
		t.Errorf("the side list does not mark all as selected:\n%s", m.View())
	}
}

func TestFilterByText(t *testing.T) {
	m := newTestModel(t, 120, 30)
	send(m, logEvent("web", "GET /ok"), logEvent("web", "Internal Server ERROR"), logEvent("worker", "error: no broker"))
	press(m, "/", "e", "r", "r")
	if m.screen != screenFilter {
		t.Fatal("/ did not open the filter")
	}
	if got, want := pane(m), "web      | Internal Server ERROR\nworker   | error: no broker"; got != want {
		t.Errorf("filtering while typing:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(m.footer(), "/ err█") {
		t.Errorf("the footer does not show the text being typed: %q", m.footer())
	}
	press(m, "q", "backspace", "enter") // q is typed, not a quit
	if m.stop != stopNone || m.screen != screenLogs {
		t.Fatalf("q while typing quit, or enter did not keep the filter")
	}
	press(m, "2") // and with a source on top: 1 proxy, 2 web, 3 worker
	if got, want := pane(m), "web      | Internal Server ERROR"; got != want {
		t.Errorf("text and source:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(m.footer(), `web "err"`) {
		t.Errorf("the footer does not say what is shown: %q", m.footer())
	}
	press(m, "esc")
	if m.logs.source != "" || m.logs.text != "" || len(m.logs.matches) != 3 {
		t.Errorf("esc did not clear the filter: source %q, text %q", m.logs.source, m.logs.text)
	}
	// Keys typed quickly come in one message.
	press(m, "3/broker")
	if got, want := pane(m), "worker   | error: no broker"; got != want || m.screen != screenFilter {
		t.Errorf("keys in one message:\n%s\nwant:\n%s", got, want)
	}
}

func TestProcessStateChanges(t *testing.T) {
	m := newTestModel(t, 120, 20)
	m.Update(statusMsg(fakeStatus()))
	view := m.View()
	for _, want := range []string{"https://localhost:8080", "● ready", "web      running     4242   1", "tailwind crashed        -   3", "proxy    serving"} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	cmd := send(m, events.Event{Time: at, Kind: events.KindState, Source: "web", Text: "crashed (exit code 1)",
		Change: &events.StateChange{State: events.StateCrashed, Exit: "exit code 1", Restarts: 1}},
		events.Event{Time: at, Kind: events.KindState, Source: "web", Text: "restarting in 500ms",
			Change: &events.StateChange{State: events.StateBackoff, Restarts: 1, Backoff: 500 * time.Millisecond}})
	if !strings.Contains(m.View(), "web      backoff        -   1") {
		t.Errorf("the side list does not show the backoff:\n%s", m.View())
	}
	// A state change asks for a fresh snapshot.
	var got []tea.Msg
	if b, ok := cmd().(tea.BatchMsg); ok && len(b) == 2 {
		got = run(b[1])
	}
	if len(got) != 1 {
		t.Fatalf("a state change did not ask for the status: %#v", got)
	}
	if _, ok := got[0].(statusMsg); !ok {
		t.Fatalf("got %#v, want a statusMsg", got[0])
	}
	press(m, "2")
	if !strings.Contains(m.View(), "web: restarting in 500ms") {
		t.Errorf("the selected process's last change is not shown:\n%s", m.View())
	}
	// A process the status does not know yet (it only sent events) is listed.
	send(m, events.Event{Kind: events.KindState, Source: "celery", Text: "running (pid 7)",
		Change: &events.StateChange{State: events.StateRunning, PID: 7}})
	m.Update(statusMsg(fakeStatus()))
	if !strings.Contains(m.View(), "celery   running        7   0") {
		t.Errorf("a process seen only in events is not listed:\n%s", m.View())
	}
}

func TestStatusRequestsDoNotPileUp(t *testing.T) {
	var calls atomic.Int32
	m := newTestModel(t, 100, 20, func(c *config) {
		c.status = func() events.StackStatus { calls.Add(1); return fakeStatus() }
	})
	first := m.refreshStatus()
	if m.refreshStatus() != nil {
		t.Fatal("a second status read was issued while one is out")
	}
	msgs := run(first)
	_, again := m.Update(msgs[0])
	if again == nil {
		t.Fatal("a change while the read was out did not ask again")
	}
	if _, none := m.Update(run(again)[0]); none != nil {
		t.Error("a status read without news asked again")
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("status calls: got %d, want 2", got)
	}
}

func TestSkippedNotice(t *testing.T) {
	m := newTestModel(t, 120, 20)
	send(m, logEvent("web", "a"), events.Event{Kind: events.KindSkipped, Source: "devstack", Skipped: 7,
		Text: "skipped 7 lines: output came faster than it could be shown"}, logEvent("web", "b"))
	if !strings.Contains(pane(m), "devstack | skipped 7 lines: output came faster than it could be shown") {
		t.Errorf("the skipped notice is not in the log:\n%s", pane(m))
	}
	if !strings.Contains(m.footer(), "7 lines skipped") {
		t.Errorf("the footer does not count skipped lines: %q", m.footer())
	}
}

func TestQuitAsksTheCallerTwice(t *testing.T) {
	var quits atomic.Int32
	m := newTestModel(t, 120, 20, func(c *config) { c.onQuit = func() { quits.Add(1) } })
	run(press(m, "q"))
	if quits.Load() != 1 || m.stop != stopAsked {
		t.Fatalf("q: hook called %d times, stage %d", quits.Load(), m.stop)
	}
	if !strings.Contains(m.View(), "stopping… (q again: stop at once)") {
		t.Errorf("the header does not say it is stopping:\n%s", m.View())
	}
	press(m, "?") // the help screen does not swallow ctrl+c
	run(press(m, "ctrl+c"))
	if quits.Load() != 2 || m.stop != stopForced {
		t.Fatalf("ctrl+c: hook called %d times, stage %d", quits.Load(), m.stop)
	}
	if !strings.Contains(m.View(), "stopping at once") {
		t.Errorf("the header does not say it is stopping at once:\n%s", m.View())
	}
	if m.err != nil {
		t.Errorf("with a hook the UI itself does not end: %v", m.err)
	}
}

func TestQuitWithoutHookEndsTheUI(t *testing.T) {
	m := newTestModel(t, 120, 20)
	cmd := press(m, "q")
	if cmd == nil {
		t.Fatal("q did nothing")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok || !errors.Is(m.err, ErrQuit) {
		t.Errorf("q without a hook: err %v", m.err)
	}
}

func TestReloadKey(t *testing.T) {
	m := newTestModel(t, 120, 20)
	if press(m, "r") != nil || strings.Contains(m.footer(), "reload") {
		t.Error("r does something, or is offered, without a reload hook")
	}
	var reloads atomic.Int32
	m = newTestModel(t, 120, 20, func(c *config) { c.reload = func() { reloads.Add(1) } })
	cmd := press(m, "r")
	if press(m, "r") != nil || !strings.Contains(m.footer(), "a reload is already running") {
		t.Error("a second r while the first runs was not refused")
	}
	for _, msg := range run(cmd) {
		m.Update(msg)
	}
	if reloads.Load() != 1 || m.reloading || m.notice == noticeReloadRequested {
		t.Errorf("reloads: %d, still reloading: %v, notice %q", reloads.Load(), m.reloading, m.notice)
	}
	if !strings.Contains(m.footer(), "r reload") {
		t.Errorf("the footer does not offer r: %q", m.footer())
	}
}

// TestOutputIsDrawnOncePerFrame pins the UI's frame rate: output that comes
// within a frame of the last redraw is drawn with the next frame, not
// at once, while anything else (a key) is drawn at once.
func TestOutputIsDrawnOncePerFrame(t *testing.T) {
	m := newTestModel(t, 100, 20, func(c *config) { c.frame = time.Hour })
	send(m, logEvent("web", "first line"))
	if v := m.View(); !strings.Contains(v, "first line") {
		t.Fatalf("the first output is not drawn at once:\n%s", v)
	}
	cmd := send(m, logEvent("web", "second line"))
	if v := m.View(); strings.Contains(v, "second line") {
		t.Fatalf("output within a frame was drawn at once:\n%s", v)
	}
	if cmd == nil {
		t.Fatal("no command after a batch")
	}
	// The frame's message, as the tick would bring it.
	m.Update(frameMsg{})
	if v := m.View(); !strings.Contains(v, "second line") {
		t.Fatalf("the next frame does not show the output:\n%s", v)
	}
	send(m, logEvent("web", "third line"))
	press(m, "end")
	if v := m.View(); !strings.Contains(v, "third line") {
		t.Fatalf("a key does not draw the waiting output:\n%s", v)
	}
}
