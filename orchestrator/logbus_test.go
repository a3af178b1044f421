package orchestrator

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/events"
)

func TestStalledSubscriberNeverBlocksTheChild(t *testing.T) {
	const lines = 100_000
	bus := NewBus(BusOptions{})
	stalled := bus.Subscribe() // not read until the child has finished
	defer stalled.Close()

	var published atomic.Int64
	p, err := NewProcess(ProcessSpec{Name: "chatty", Argv: []string{"seq", "1", strconv.Itoa(lines)}},
		func(e events.Event) { published.Add(1); bus.Publish(e) })
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer stopWithin(p, true)
	eventually(t, "the child to finish printing", func() bool { return p.Status().State == events.StateExited })
	bus.Close()

	received, skipped, skippedEvents := 0, 0, 0
	last := 0
	for e := range stalled.Events() {
		switch e.Kind {
		case events.KindSkipped:
			skipped += e.Skipped
			skippedEvents++
		case events.KindLog:
			received++
			n, err := strconv.Atoi(e.Text)
			if err != nil || n <= last {
				t.Fatalf("line %q after %d: lines out of order or mangled", e.Text, last)
			}
			last = n
		default:
			received++
		}
	}
	if skippedEvents == 0 {
		t.Error("no skipped event although the subscriber stalled")
	}
	if got, want := int64(received+skipped), published.Load(); got != want {
		t.Errorf("received %d + skipped %d = %d, want %d published", received, skipped, got, want)
	}
	// The queue, plus what the pump holds and the channel's buffer.
	if limit := DefaultSubscriberBuffer + 2*publishArena + 1; received > limit {
		t.Errorf("received %d events, more than the %d a stalled subscriber can hold", received, limit)
	}
	if got := bus.LastLines("chatty", 2); strings.Join(got, ",") != fmt.Sprintf("%d,%d", lines-1, lines) {
		t.Errorf("LastLines: got %q", got)
	}
}

func TestSkippedIsDeliveredOnceTheSubscriberCatchesUp(t *testing.T) {
	bus := NewBus(BusOptions{SubscriberBuffer: 2})
	sub := bus.Subscribe()
	defer sub.Close()
	// The pump may already hold the first event when the rest arrive, so
	// between 8 and 7 are dropped; what matters is that all are accounted.
	for i := range 10 {
		bus.Publish(events.Event{Kind: events.KindLog, Source: "a", Text: strconv.Itoa(i)})
	}
	got, skipped := 0, 0
	timeout := time.After(testTimeout)
	for got+skipped < 10 {
		select {
		case e := <-sub.Events():
			if e.Kind == events.KindSkipped {
				skipped += e.Skipped
				if e.Source != events.SourceDevstack || !strings.Contains(e.Text, "skipped") {
					t.Errorf("skipped event: %+v", e)
				}
				continue
			}
			got++
		case <-timeout:
			t.Fatalf("got %d events and %d skipped, want 10 in all", got, skipped)
		}
	}
	if skipped == 0 {
		t.Error("nothing was skipped with a buffer of 2")
	}
}

func TestOrderIsKeptPerSource(t *testing.T) {
	bus := NewBus(BusOptions{SubscriberBuffer: 100_000})
	sub := bus.Subscribe()
	defer sub.Close()
	const perSource = 5000
	var wg sync.WaitGroup
	for _, src := range []string{"a", "b", "c"} {
		wg.Go(func() {
			for i := range perSource {
				bus.Publish(events.Event{Kind: events.KindLog, Source: src, Text: strconv.Itoa(i)})
			}
		})
	}
	wg.Wait()
	bus.Close()
	next := map[string]int{}
	for e := range sub.Events() {
		if e.Kind != events.KindLog {
			t.Fatalf("unexpected %v event", e.Kind)
		}
		if got, want := e.Text, strconv.Itoa(next[e.Source]); got != want {
			t.Fatalf("source %s: got line %s, want %s", e.Source, got, want)
		}
		next[e.Source]++
	}
	for _, src := range []string{"a", "b", "c"} {
		if next[src] != perSource {
			t.Errorf("source %s: got %d lines, want %d", src, next[src], perSource)
		}
	}
}

func TestLastLines(t *testing.T) {
	bus := NewBus(BusOptions{HistoryLines: 3})
	for i := range 5 {
		bus.Publish(events.Event{Kind: events.KindLog, Source: "web", Text: strconv.Itoa(i)})
	}
	bus.Publish(events.Event{Kind: events.KindState, Source: "web", Text: "crashed"})
	for _, tc := range []struct {
		n    int
		want string
	}{{1, "4"}, {3, "2 3 4"}, {10, "2 3 4"}, {0, ""}} {
		if got := strings.Join(bus.LastLines("web", tc.n), " "); got != tc.want {
			t.Errorf("LastLines(web, %d): got %q, want %q", tc.n, got, tc.want)
		}
	}
	if got := bus.LastLines("nobody", 5); got != nil {
		t.Errorf("LastLines of an unknown source: got %q", got)
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	bus := NewBus(BusOptions{})
	sub := bus.Subscribe()
	bus.Publish(events.Event{Kind: events.KindMessage, Source: events.SourceDevstack, Text: "bye"})
	bus.Close()
	bus.Publish(events.Event{Kind: events.KindMessage, Source: events.SourceDevstack, Text: "after close"})
	var texts []string
	for e := range sub.Events() {
		texts = append(texts, e.Text)
	}
	if got := strings.Join(texts, "|"); got != "bye" {
		t.Errorf("events: got %q, want the one published before Close", got)
	}
	late := bus.Subscribe()
	if _, ok := <-late.Events(); ok {
		t.Error("a subscription to a closed bus delivered an event")
	}
	sub.Close()
	late.Close()
}

func TestPartialLineIsFlushed(t *testing.T) {
	p, rec := startProcess(t, ProcessSpec{Name: "prompt", Argv: []string{"sh", "-c", "printf 'Password: '; sleep 60"}})
	rec.waitFor(t, "the partial line", isLine("prompt", "Password: "))
	if st := p.Status().State; st != events.StateRunning {
		t.Errorf("state: got %s, want running (the line must not wait for exit)", st)
	}
}

func TestMegabyteLineArrivesInPieces(t *testing.T) {
	const size = 1 << 20
	script := fmt.Sprintf("head -c %d /dev/zero | tr '\\0' x; echo; echo after", size)
	_, rec := startProcess(t, ProcessSpec{Name: "wide", Argv: []string{"sh", "-c", script}})
	rec.waitFor(t, "the line after", isLine("wide", "after"))
	total, pieces := 0, 0
	for _, e := range rec.Items() {
		if e.Kind != events.KindLog || e.Text == "after" {
			continue
		}
		pieces++
		total += len(e.Text)
		if len(e.Text) > MaxLineBytes {
			t.Fatalf("piece of %d bytes, over MaxLineBytes", len(e.Text))
		}
		if last := total == size; e.Continued == last {
			t.Errorf("piece %d: Continued=%v at %d of %d bytes", pieces, e.Continued, total, size)
		}
	}
	if total != size || pieces != size/MaxLineBytes {
		t.Errorf("got %d bytes in %d pieces, want %d in %d", total, pieces, size, size/MaxLineBytes)
	}
}

func TestLineWriterPieces(t *testing.T) {
	var got []events.Event
	w := newLineWriter("src", events.StreamStdout, each(func(e events.Event) { got = append(got, e) }))
	w.delay = time.Hour                           // only Flush may emit the unfinished line
	long := strings.Repeat("é", MaxLineBytes/2+1) // 2-byte runes across the cut
	for _, chunk := range []string{"one\r\ntw", "o\n", "", long, "\nthree"} {
		w.Write([]byte(chunk))
	}
	w.Flush()
	w.Flush()
	var texts []string
	for _, e := range got {
		texts = append(texts, fmt.Sprintf("%d:%v", len(e.Text), e.Continued))
		if !utf8Valid(e.Text) {
			t.Errorf("piece cut inside a UTF-8 sequence")
		}
	}
	want := []string{"3:false", "3:false", fmt.Sprintf("%d:true", MaxLineBytes), "2:false", "5:false"}
	if strings.Join(texts, " ") != strings.Join(want, " ") {
		t.Errorf("pieces (length:continued): got %v, want %v", texts, want)
	}
	if got[0].Text != "one" || got[1].Text != "two" || got[4].Text != "three" {
		t.Errorf("texts: %q %q %q", got[0].Text, got[1].Text, got[4].Text)
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// Issue 9: plain output lost lines when it could not keep up. A lossless
// subscriber that reads slowly gets all 200,000 lines of a child that
// prints them and exits, in order, and no skipped notice: the child waits
// for it instead.
func TestLosslessSubscriberGetsEveryLine(t *testing.T) {
	const lines = 200_000
	bus := NewBus(BusOptions{})
	sub := bus.SubscribeLossless()
	defer sub.Close()
	// An ordinary subscriber that never reads changes nothing for it.
	stalled := bus.Subscribe()
	defer stalled.Close()

	p := startSeq(t, ProcessSpec{Name: "chatty"}, lines, bus.Publish)

	deadline := time.After(2 * time.Minute)
	last := 0
	for last < lines {
		select {
		case e := <-sub.Events():
			switch e.Kind {
			case events.KindSkipped:
				t.Fatalf("a lossless subscriber was told %q", e.Text)
			case events.KindLog:
				n, err := strconv.Atoi(e.Text)
				if err != nil || n != last+1 {
					t.Fatalf("line %q after %d: a line was lost or mangled", e.Text, last)
				}
				last = n
				if n%5000 == 0 {
					// Slower than the child: it must wait, and its exit
					// must wait for its last lines to be read.
					time.Sleep(5 * time.Millisecond)
				}
			}
		case <-deadline:
			t.Fatalf("only %d of %d lines within 2 minutes", last, lines)
		}
	}
	eventually(t, "the child to exit", func() bool { return p.Status().State == events.StateExited })
}

// Events devstack itself publishes (state changes, messages) never wait for
// a lossless subscriber, so a stalled output cannot hang a stop; lines wait
// until the bus is hurried or closed.
func TestLosslessSubscriberNeverHoldsUpDevstacksOwnEvents(t *testing.T) {
	bus := NewBus(BusOptions{SubscriberBuffer: 4})
	sub := bus.SubscribeLossless() // never read
	defer sub.Close()
	for i := range 100 {
		bus.Publish(events.Event{Kind: events.KindState, Source: "web", Text: strconv.Itoa(i)})
	}
	lineDone := make(chan struct{})
	go func() {
		for range 10 {
			bus.Publish(events.Event{Kind: events.KindLog, Source: "web", Text: "line"})
		}
		close(lineDone)
	}()
	select {
	case <-lineDone:
		t.Fatal("lines were published past a full lossless subscriber")
	case <-time.After(100 * time.Millisecond):
	}
	bus.Hurry()
	select {
	case <-lineDone:
	case <-time.After(testTimeout):
		t.Fatal("Hurry did not release the waiting publisher")
	}
	bus.Close()
	states, lines := 0, 0
	for e := range sub.Events() {
		switch e.Kind {
		case events.KindState:
			if e.Text != strconv.Itoa(states) {
				t.Fatalf("state event %q, want %d", e.Text, states)
			}
			states++
		case events.KindSkipped:
			lines += e.Skipped
		case events.KindLog:
			lines++
		}
	}
	if states != 100 || lines != 10 {
		t.Errorf("got %d state events and %d lines (received or skipped), want 100 and 10", states, lines)
	}
}

// A block-buffered writer cuts its lines anywhere: the rest of a line left
// at the end of a large read waits longer for its end than a prompt does,
// so a busy machine does not split it in two.
func TestLineCutByABlockBufferWaitsLonger(t *testing.T) {
	var mu sync.Mutex
	var got []string
	w := newLineWriter("web", events.StreamStdout, each(func(e events.Event) {
		mu.Lock()
		got = append(got, e.Text)
		mu.Unlock()
	}))
	block := strings.Repeat("line\n", cutReadBytes/5) + "12"
	w.Write([]byte(block))
	time.Sleep(3 * partialLineDelay)
	w.Write([]byte("34\n"))
	w.Flush()
	mu.Lock()
	defer mu.Unlock()
	if last := got[len(got)-1]; last != "1234" {
		t.Errorf("the line cut at the end of a %d-byte read arrived as %q", len(block), got[len(got)-2:])
	}

	got = got[:0]
	mu.Unlock()
	w.Write([]byte("Password: "))
	time.Sleep(3 * partialLineDelay)
	mu.Lock()
	if len(got) != 1 || got[0] != "Password: " {
		t.Errorf("a prompt in a small write: got %q, want it shown on its own", got)
	}
}

// each publishes a batch of lines one by one through publish.
func each(publish func(events.Event)) func([]events.Event) {
	return func(es []events.Event) {
		for _, e := range es {
			publish(e)
		}
	}
}

// TestPublishBatchWaitsAndKeepsOrder pins PublishBatch: a lossless
// subscriber that does not read holds the publisher back, and once it
// reads, it gets every line of every batch, in order.
func TestPublishBatchWaitsAndKeepsOrder(t *testing.T) {
	bus := NewBus(BusOptions{SubscriberBuffer: 4})
	sub := bus.SubscribeLossless()
	defer sub.Close()
	const batches, size = 100, 10
	done := make(chan struct{})
	go func() {
		defer close(done)
		batch := make([]events.Event, size)
		for i := range batches {
			for j := range batch {
				batch[j] = events.Event{Kind: events.KindLog, Source: "web", Text: strconv.Itoa(i*size + j)}
			}
			bus.PublishBatch(batch)
		}
	}()
	select {
	case <-done:
		t.Fatal("PublishBatch did not wait for a lossless subscriber that does not read")
	case <-time.After(100 * time.Millisecond):
	}
	for want := range batches * size {
		select {
		case e := <-sub.Events():
			if e.Text != strconv.Itoa(want) || e.Time.IsZero() {
				t.Fatalf("event %d: got %q (time %v)", want, e.Text, e.Time)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d never came", want)
		}
	}
	<-done
	if got := bus.LastLines("web", 1); len(got) != 1 || got[0] != strconv.Itoa(batches*size-1) {
		t.Errorf("history ends with %q", got)
	}
}

// TestBatchesLosslessEveryLine: 200,000 lines of a child, with PublishLines
// as devstack up sets it, reach a lossless subscriber that reads Batches
// slowly: every line, in order, no skipped notice, many lines per channel
// operation, and the child held back rather than the queue growing.
func TestBatchesLosslessEveryLine(t *testing.T) {
	const lines = 200_000
	bus := NewBus(BusOptions{})
	sub := bus.SubscribeLossless()
	defer sub.Close()
	stalled := bus.Subscribe() // an ordinary subscriber that never reads changes nothing
	defer stalled.Close()

	p := startSeq(t, ProcessSpec{Name: "chatty", Restart: RestartNever, PublishLines: bus.PublishOwned}, lines, bus.Publish)

	deadline := time.After(2 * time.Minute)
	last, receives, most := 0, 0, 0
	for last < lines {
		select {
		case batch := <-sub.Batches():
			receives++
			if len(batch) == 0 {
				t.Fatal("an empty batch")
			}
			for _, e := range batch {
				switch e.Kind {
				case events.KindSkipped:
					t.Fatalf("a lossless subscriber was told %q", e.Text)
				case events.KindLog:
					n, err := strconv.Atoi(e.Text)
					if err != nil || n != last+1 || e.Time.IsZero() {
						t.Fatalf("line %q (time %v) after %d: a line was lost or mangled", e.Text, e.Time, last)
					}
					last = n
				}
			}
			bus.mu.Lock()
			most = max(most, sub.n)
			bus.mu.Unlock()
			if receives%50 == 0 {
				time.Sleep(5 * time.Millisecond) // slower than the child: it must wait
			}
		case <-deadline:
			t.Fatalf("only %d of %d lines within 2 minutes", last, lines)
		}
	}
	if receives > lines/20 {
		t.Errorf("%d lines took %d channel receives; want them in batches", lines, receives)
	}
	// The queue holds what the bus lets in before a publisher waits, plus
	// one publication (a read's lines) beyond it, and the process's few
	// state changes, which never wait.
	if limit := DefaultSubscriberBuffer + maxLineBatch + 4; most > limit {
		t.Errorf("the lossless queue held %d events, more than %d: the child was not held back", most, limit)
	}
	eventually(t, "the child to exit", func() bool { return p.Status().State == events.StateExited })
	t.Logf("%d lines in %d batches; the queue held at most %d", lines, receives, most)
}

// TestBatchesSkipExactly pins the ordinary subscription's drops with
// batches: a batch that does not fit is cut where the queue is full, the
// rest counted, and one notice with the exact count comes where the gap
// is, before the next event that fits.
func TestBatchesSkipExactly(t *testing.T) {
	const size = 100
	bus := NewBus(BusOptions{SubscriberBuffer: size})
	sub := bus.Subscribe()
	defer sub.Close()
	// While the test holds the bus's lock, the pump cannot take anything:
	// the queue fills exactly.
	seq := 0
	batch := func(n int) []events.Event {
		es := make([]events.Event, n)
		for i := range es {
			seq++
			es[i] = events.Event{Kind: events.KindLog, Source: "web", Text: strconv.Itoa(seq)}
		}
		return es
	}
	bus.mu.Lock()
	for range 7 {
		bus.deliverLocked(batch(30)) // 210 lines: 100 fit, 110 do not
	}
	bus.mu.Unlock()

	var got []string
	skipped := 0
	take := func(b []events.Event) {
		for _, e := range b {
			if e.Kind == events.KindSkipped {
				skipped += e.Skipped
				got = append(got, "skipped")
				continue
			}
			got = append(got, e.Text)
		}
	}
	for len(got) < size {
		take(<-sub.Batches())
	}
	bus.PublishOwned(batch(30)) // once the queue was read: a notice and the 30 lines
	bus.Close()
	for b := range sub.Batches() {
		take(b)
	}
	if skipped != 110 {
		t.Errorf("skipped %d, want 110", skipped)
	}
	want := []string{}
	for i := 1; i <= 100; i++ {
		want = append(want, strconv.Itoa(i))
	}
	want = append(want, "skipped")
	for i := 211; i <= 240; i++ {
		want = append(want, strconv.Itoa(i))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("received:\n%v\nwant:\n%v", got, want)
	}
}

// TestPublishedSinglesComeTogether: events published one by one while the
// subscriber is busy reach it in few batches, not one channel operation
// each.
func TestPublishedSinglesComeTogether(t *testing.T) {
	bus := NewBus(BusOptions{})
	sub := bus.SubscribeLossless()
	defer sub.Close()
	const n = 1000
	for i := range n {
		bus.Publish(events.Event{Kind: events.KindLog, Source: "web", Text: strconv.Itoa(i)})
	}
	bus.Close()
	receives, next := 0, 0
	for b := range sub.Batches() {
		receives++
		for _, e := range b {
			if e.Text != strconv.Itoa(next) {
				t.Fatalf("got %q, want %d", e.Text, next)
			}
			next++
		}
	}
	if next != n {
		t.Fatalf("got %d events, want %d", next, n)
	}
	if receives > n/publishArena+3 {
		t.Errorf("%d events came in %d batches, want about %d", n, receives, n/publishArena)
	}
}

// countingReader counts the reads made through it.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

// TestFloodIsReadInLargeChunks: output that comes without pause is read
// in large chunks, not one read per write of a 4 KiB stdio buffer, and
// every line arrives. The writer here is slower than the reader (a write
// every 100µs): read as it comes, each write would take a read of its own.
func TestFloodIsReadInLargeChunks(t *testing.T) {
	const writes, linesPerWrite = 2000, 64
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pipeBytes := growPipe(r)
	go func() {
		defer w.Close()
		n := 0
		next := time.Now()
		for range writes {
			var chunk []byte
			for range linesPerWrite {
				n++
				chunk = fmt.Appendf(chunk, "%063d\n", n) // 64 bytes a line, 4 KiB a write
			}
			if _, err := w.Write(chunk); err != nil {
				return
			}
			for next = next.Add(100 * time.Microsecond); time.Now().Before(next); {
			}
		}
	}()
	got := 0
	lw := newLineWriter("flood", events.StreamStdout, func(es []events.Event) {
		for _, e := range es {
			got++
			if n, err := strconv.Atoi(e.Text); err != nil || n != got {
				t.Fatalf("line %q, want %d", e.Text, got)
			}
		}
	})
	cr := &countingReader{r: r}
	drain(cr, lw, pipeBytes)
	if got != writes*linesPerWrite {
		t.Fatalf("got %d lines, want %d", got, writes*linesPerWrite)
	}
	if cr.reads > writes/5 {
		t.Errorf("%d writes of 4 KiB took %d reads; want them read in larger chunks", writes, cr.reads)
	}
	t.Logf("%d writes in %d reads", writes, cr.reads)
}

// TestReadPacer: drain pauses to gather a steady stream into large reads,
// but never for a process writing so fast that the pipe would fill during
// the pause and stop it.
func TestReadPacer(t *testing.T) {
	const pipe = 1 << 20
	t0 := time.Unix(1000, 0)
	cases := []struct {
		name    string
		n       int
		elapsed time.Duration // since the last decision
		pause   bool
	}{
		{"a few lines", 200, time.Millisecond, false},
		{"a full buffer: more is waiting", readBytes, time.Microsecond, false},
		{"4 KiB every 100µs (40 MB/s)", 4 << 10, 100 * time.Microsecond, true},
		{"40 KiB gathered in a pause", 40 << 10, 1100 * time.Microsecond, true},
		{"a pipe's worth in a pause (1 GB/s)", pipe, 1100 * time.Microsecond, false},
		{"200 KiB in 100µs (2 GB/s)", 200 << 10, 100 * time.Microsecond, false},
		{"just under half a pipe per pause", pipe/2 - 1, time.Millisecond, true},
		{"half a pipe per pause", pipe / 2, time.Millisecond, false},
	}
	for _, c := range cases {
		p := readPacer{pipeBytes: pipe, since: t0}
		if got := p.pause(c.n, readBytes, t0.Add(c.elapsed)); got != c.pause {
			t.Errorf("%s: pause = %v, want %v", c.name, got, c.pause)
		}
	}

	// Full reads add up: a flood read as full buffers, then the rest,
	// is judged by everything read since the last decision.
	p := readPacer{pipeBytes: pipe, since: t0}
	for range 3 {
		if p.pause(readBytes, readBytes, t0.Add(100*time.Microsecond)) {
			t.Fatal("paused after a full read")
		}
	}
	if p.pause(10<<10, readBytes, t0.Add(900*time.Microsecond)) {
		t.Error("paused after 778 KiB in 900µs: the pipe would fill")
	}
}

// startSeq starts spec running `seq 1 lines`, stopped when the test ends.
func startSeq(t *testing.T, spec ProcessSpec, lines int, publish func(events.Event)) *Process {
	t.Helper()
	spec.Argv = []string{"seq", "1", strconv.Itoa(lines)}
	p, err := NewProcess(spec, publish)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopWithin(p, true) })
	return p
}
