package orchestrator

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/events"
)

// BenchmarkLineWriter measures splitting output into lines and publishing
// them to a bus with one subscriber that keeps up.
func BenchmarkLineWriter(b *testing.B) {
	bus := NewBus(BusOptions{})
	sub := bus.Subscribe()
	defer sub.Close()
	go func() {
		for range sub.Events() {
		}
	}()
	w := newLineWriter("web", events.StreamStdout, bus.PublishBatch)
	block := []byte(strings.Repeat(strings.Repeat("x", 79)+"\n", 400)) // 32 KB, 400 lines
	b.SetBytes(int64(len(block)))
	for b.Loop() {
		w.Write(block)
	}
	b.ReportMetric(float64(b.N*400)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkProcessOutput runs `seq 1 N` under the supervisor, with a
// subscriber reading every event, and reports the time against the same
// command writing to /dev/null (the anchor, measured in the same run).
func BenchmarkProcessOutput(b *testing.B) {
	const lines = 200_000
	seqArgs := []string{"seq", "1", strconv.Itoa(lines)}
	var direct, supervised time.Duration
	delivered := 0
	for b.Loop() {
		start := time.Now()
		if err := exec.Command(seqArgs[0], seqArgs[1:]...).Run(); err != nil {
			b.Fatal(err)
		}
		direct += time.Since(start)

		bus := NewBus(BusOptions{})
		sub := bus.Subscribe()
		got := make(chan int)
		go func() {
			n := 0
			for e := range sub.Events() {
				if e.Kind == events.KindLog {
					n++
				}
			}
			got <- n
		}()
		p, err := NewProcess(ProcessSpec{Name: "seq", Argv: seqArgs, Restart: RestartNever, PublishLines: bus.PublishBatch}, bus.Publish)
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if err := p.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		for p.Status().State == events.StateRunning || p.Status().State == events.StateStarting {
			time.Sleep(time.Millisecond)
		}
		supervised += time.Since(start)
		p.Stop(true)
		bus.Close()
		delivered += <-got
	}
	// A subscriber slower than the child loses lines (and is told how
	// many); this is how many a subscriber doing nothing else received.
	b.ReportMetric(100*float64(delivered)/float64(lines*b.N), "%delivered")
	b.ReportMetric(float64(lines*b.N)/supervised.Seconds(), "lines/s")
	b.ReportMetric(supervised.Seconds()/direct.Seconds(), "x-vs-devnull")
}
