package tui

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/events"
)

func TestLinesShareTheAccessFormatAndFlush(t *testing.T) {
	var out lockedBuffer
	l := NewLines(&out)
	access := events.AccessRecord{Method: "GET", Path: "/", Status: 200, Duration: 1234 * time.Microsecond, Bytes: 1100}
	l.Write(events.Event{Kind: events.KindMessage, Source: events.SourceProxy, Text: "listening on 127.0.0.1:8080, forwarding to http://127.0.0.1:3000"})
	l.Write(events.Event{Kind: events.KindAccess, Source: events.SourceProxy, Access: &access})
	l.Write(events.Event{Kind: events.KindMessage, Source: events.SourceDevstack, Text: "ready \x1b[1mhttps://localhost:8080\x1b[0m"})
	want := "proxy | listening on 127.0.0.1:8080, forwarding to http://127.0.0.1:3000\n" +
		"proxy | " + renderAccess(access) + "\n" +
		"devstack | ready https://localhost:8080\n"
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := out.String(); got != want {
		t.Errorf("after the flush delay: got\n%s\nwant\n%s", got, want)
	}
}

func TestLinesAccessDoesNotAllocate(t *testing.T) {
	l := NewLines(discard{})
	e := events.Event{Kind: events.KindAccess, Source: events.SourceProxy,
		Access: &events.AccessRecord{Method: "GET", Path: "/static/app.css", Status: 200, Duration: time.Millisecond, Bytes: 4096}}
	l.Write(e) // the buffer and the flush timer exist from here on
	if n := testing.AllocsPerRun(1000, func() { l.Write(e) }); n > 0.01 {
		t.Errorf("an access line costs %.2f allocations", n)
	}
	l.Flush()
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// blockingWriter holds every Write until released, as a slow terminal or
// a full pipe would.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	out     strings.Builder
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.Write(p)
}

// A request's access line never waits for the output: with every write
// held, thousands of lines are still taken at once, and once the output
// moves again every line arrives whole, none lost.
func TestLinesNeverWaitForTheOutput(t *testing.T) {
	w := &blockingWriter{release: make(chan struct{})}
	l := NewLines(w)
	const goroutines, each = 8, 2000
	took := make(chan struct{})
	var wg sync.WaitGroup
	go func() {
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					l.Write(events.Event{Kind: events.KindAccess, Source: events.SourceProxy, Access: &events.AccessRecord{
						Method: "GET", Path: "/" + strconv.Itoa(g) + "/" + strconv.Itoa(i), Status: 200, Duration: time.Millisecond}})
				}
			})
		}
		wg.Wait()
		close(took)
	}()
	select {
	case <-took:
	case <-time.After(10 * time.Second):
		close(w.release)
		t.Fatal("access lines waited for a blocked output")
	}
	close(w.release)
	l.Flush()
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := strings.Split(strings.TrimSuffix(w.out.String(), "\n"), "\n")
	if len(lines) != goroutines*each {
		t.Fatalf("%d lines written, want %d", len(lines), goroutines*each)
	}
	seen := map[string]bool{}
	for _, line := range lines {
		if !strings.HasPrefix(line, "proxy | GET /") || !strings.HasSuffix(line, " 200 1.0ms 0B") {
			t.Fatalf("broken line %q", line)
		}
		seen[line] = true
	}
	if len(seen) != goroutines*each {
		t.Errorf("%d distinct lines, want %d", len(seen), goroutines*each)
	}
}
