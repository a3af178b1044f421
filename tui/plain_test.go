package tui

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/events"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// sampleEvents is one of each kind of event, as a stack would produce them.
func sampleEvents() []events.Event {
	return []events.Event{
		{Kind: events.KindState, Source: "web", Text: "starting: gunicorn mysite.wsgi -b 127.0.0.1:8000",
			Change: &events.StateChange{State: events.StateStarting}},
		{Kind: events.KindState, Source: "web", Text: "running (pid 4242)",
			Change: &events.StateChange{State: events.StateRunning, PID: 4242}},
		{Kind: events.KindLog, Source: "web", Stream: events.StreamStderr,
			Text: "[INFO] Booting worker with pid: 4243"},
		{Kind: events.KindLog, Source: "tailwind", Stream: events.StreamStdout,
			Text: "\x1b[32mDone\x1b[0m in 120ms \x1b]0;title\a"},
		{Kind: events.KindLog, Source: "web", Text: "aaaa", Continued: true},
		{Kind: events.KindLog, Source: "web", Text: "bb"},
		{Kind: events.KindAccess, Source: "proxy", Access: &events.AccessRecord{
			Method: "GET", Path: "/admin/?next=/", Status: 302, Duration: 12 * time.Millisecond, Bytes: 1234, Remote: "127.0.0.1:50000"}},
		{Kind: events.KindAccess, Source: "proxy", Access: &events.AccessRecord{
			Method: "POST", Path: "/upload", Status: 502, Duration: 1250 * time.Millisecond, Bytes: 512}},
		{Kind: events.KindAccess, Source: "proxy", Access: &events.AccessRecord{
			Method: "GET", Path: "/static/app.js", Status: 200, Duration: 840 * time.Microsecond, Bytes: 3_400_000}},
		{Kind: events.KindReloadStart, Reload: &events.ReloadRecord{Trigger: "mysite/views.py changed", Strategy: "hup"}},
		{Kind: events.KindReloadFinish, Source: events.SourceDevstack, Reload: &events.ReloadRecord{Duration: 3200 * time.Microsecond}},
		{Kind: events.KindReloadFinish, Source: events.SourceDevstack, Reload: &events.ReloadRecord{Duration: 2 * time.Second, Err: "gunicorn master died"}},
		{Kind: events.KindCheck, Source: events.SourceDevstack, Check: &events.CheckResult{
			ID: "django.secure-proxy-ssl-header", Status: "fail", Summary: "request.is_secure() is False behind the proxy",
			Fix: "SECURE_PROXY_SSL_HEADER = (\"HTTP_X_FORWARDED_PROTO\", \"https\")"}},
		// A pass is printed only after a failure or warning of the same check.
		{Kind: events.KindCheck, Source: events.SourceDevstack, Check: &events.CheckResult{ID: "django.allowed-hosts", Status: "pass", Fix: "unused"}},
		{Kind: events.KindCheck, Source: events.SourceDevstack, Check: &events.CheckResult{
			ID: "django.secure-proxy-ssl-header", Status: "pass", Summary: "the proxy's header is read"}},
		{Kind: events.KindState, Source: "web", Text: "crashed (exit code 3)",
			Change: &events.StateChange{State: events.StateCrashed, Exit: "exit code 3"}},
		{Kind: events.KindSkipped, Source: events.SourceDevstack, Skipped: 7,
			Text: "skipped 7 lines: output came faster than it could be shown"},
		{Kind: events.KindMessage, Source: events.SourceDevstack, Text: "ready https://localhost:8080\nstop with Ctrl-C"},
	}
}

func TestPlainGolden(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	var out bytes.Buffer
	p := NewPlain(&out, PlainOptions{Color: ColorEnabled(&out), Sources: []string{"web", "proxy"}})
	for _, e := range sampleEvents() {
		if err := p.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	compareGolden(t, "testdata/plain.golden", out.Bytes())
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestPlainAlignsToTheLongestSource(t *testing.T) {
	var out bytes.Buffer
	p := NewPlain(&out, PlainOptions{Sources: []string{"web", "celery-worker"}})
	p.Write(events.Event{Kind: events.KindLog, Source: "web", Text: "a"})
	p.Write(events.Event{Kind: events.KindMessage, Text: "b"})
	p.Write(events.Event{Kind: events.KindLog, Source: "a-much-longer-name", Text: "c"})
	p.Write(events.Event{Kind: events.KindLog, Source: "web", Text: "d"})
	want := "web           | a\n" +
		"devstack      | b\n" +
		"a-much-longer-name | c\n" +
		"web                | d\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestPlainColours(t *testing.T) {
	var out bytes.Buffer
	p := NewPlain(&out, PlainOptions{Color: true, Sources: []string{"web"}})
	log := events.Event{Kind: events.KindLog, Source: "web", Text: "\x1b[1mbold\x1b[0m"}
	p.Write(log)
	p.Write(log)
	p.Write(events.Event{Kind: events.KindState, Source: "web", Text: "crashed (exit code 1)",
		Change: &events.StateChange{State: events.StateCrashed}})
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	prefix := "\x1b[" + sourceColor("web") + "mweb      |\x1b[0m "
	for _, l := range lines {
		if !strings.HasPrefix(l, prefix) {
			t.Errorf("line %q does not start with the colour of web %q", l, prefix)
		}
	}
	if got, want := lines[0], prefix+"\x1b[1mbold\x1b[0m"; got != want {
		t.Errorf("a process's own colours are kept on a terminal: got %q, want %q", got, want)
	}
	if !strings.HasSuffix(lines[2], "\x1b[31mcrashed (exit code 1)\x1b[0m") {
		t.Errorf("a crash is not red: %q", lines[2])
	}
	if sourceColor(events.SourceDevstack) != colorBold {
		t.Error("devstack's own lines are not bold")
	}
}

func TestColorEnabled(t *testing.T) {
	t.Setenv("TERM", "xterm-256color")
	if ColorEnabled(&bytes.Buffer{}) {
		t.Error("colour for a buffer")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if ColorEnabled(w) {
		t.Error("colour for a pipe")
	}
	tty := openPTY(t)
	os.Unsetenv("NO_COLOR")
	if !ColorEnabled(tty) {
		t.Error("no colour on a terminal")
	}
	for _, value := range []string{"1", ""} {
		t.Setenv("NO_COLOR", value)
		if ColorEnabled(tty) {
			t.Errorf("colour on a terminal with NO_COLOR=%q", value)
		}
	}
}

func TestRunDrainsAndReportsWriteErrors(t *testing.T) {
	ch := make(chan []events.Event, 3)
	for range 3 {
		ch <- []events.Event{{Kind: events.KindLog, Source: "web", Text: "x"}}
	}
	close(ch)
	p := NewPlain(failingWriter{}, PlainOptions{})
	if err := p.Run(ch); err == nil {
		t.Error("Run hid the write error")
	}
	if len(ch) != 0 {
		t.Error("Run stopped draining after a write error")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

// TestAccessLineMarksProbe: devstack's own probe requests are in the
// access log (nothing that reaches the proxy is invisible), marked.
func TestAccessLineMarksProbe(t *testing.T) {
	a := events.AccessRecord{Method: "GET", Path: "/.devstack/probe/…", Status: 200, Duration: 3 * time.Millisecond, Bytes: 900, Probe: true}
	if got, want := renderAccess(a), "GET /.devstack/probe/… 200 3.0ms 900B (devstack's own check)"; got != want {
		t.Errorf("probe line: got %q, want %q", got, want)
	}
	a.Probe = false
	if got := renderAccess(a); strings.Contains(got, "devstack") && strings.Contains(got, "check") {
		t.Errorf("ordinary line marked: %q", got)
	}
}

// countingWriter counts the writes made to it.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// TestRunWritesABurstTogether pins the plain writer's batching: lines
// already waiting in the channel, in batches of any size, are written in a
// few writes, not one write per line, and read exactly as written one by
// one.
func TestRunWritesABurstTogether(t *testing.T) {
	const n = 1000
	ch := make(chan []events.Event, n)
	var want bytes.Buffer
	one := NewPlain(&want, PlainOptions{Color: true})
	var batch []events.Event
	for i := range n {
		e := events.Event{Kind: events.KindLog, Source: "web", Text: fmt.Sprintf("line %d \x1b[32mok", i), Continued: i%10 == 9}
		if i%100 == 50 {
			e = events.Event{Kind: events.KindReloadFinish, Source: events.SourceDevstack, Reload: &events.ReloadRecord{Duration: time.Second}}
		}
		batch = append(batch, e)
		if len(batch) == 1+i%7 { // batches of 1 to 7 events
			ch <- batch
			batch = nil
		}
		if err := one.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	ch <- batch
	close(ch)
	var got countingWriter
	if err := NewPlain(&got, PlainOptions{Color: true}).Run(ch); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatalf("a burst reads differently from lines written one by one")
	}
	if got.writes > 10 {
		t.Errorf("%d lines took %d writes; want them gathered", n, got.writes)
	}
}
