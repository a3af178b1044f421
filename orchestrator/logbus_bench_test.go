package orchestrator

import (
	"context"
	"fmt"
	"github.com/devstack-dev/devstack/tui"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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
	w := newLineWriter("web", events.StreamStdout, bus.PublishOwned)
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
		p, err := NewProcess(ProcessSpec{Name: "seq", Argv: seqArgs, Restart: RestartNever, PublishLines: bus.PublishOwned}, bus.Publish)
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

// benchOutput is what bench/logs' writer prints, n lines: short, long,
// written in two parts, ANSI-coloured, in rotation.
func benchOutput(n int) []byte {
	var b []byte
	long := strings.Repeat("lorem ipsum dolor sit amet ", 60)
	for i := range n {
		switch i % 4 {
		case 0:
			b = fmt.Appendf(b, "seq=%d short\n", i)
		case 1:
			b = fmt.Appendf(b, "seq=%d long %s\n", i, long)
		case 2:
			b = fmt.Appendf(b, "seq=%d partial first half, second half\n", i)
		case 3:
			b = fmt.Appendf(b, "\x1b[32mINFO\x1b[0m seq=%d \x1b[1mcoloured\x1b[0m request handled\n", i)
		}
	}
	return b
}

// BenchmarkLogPath measures devstack up's plain log path without the
// pipes: a process's output, read in chunks as drain reads it, split into
// lines, published on a bus and written by a lossless plain writer.
func BenchmarkLogPath(b *testing.B) {
	const lines = 20_000
	out := benchOutput(lines)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		bus := NewBus(BusOptions{})
		sub := bus.SubscribeLossless()
		done := make(chan error)
		go func() { done <- tui.NewPlain(io.Discard, tui.PlainOptions{}).Run(sub.Batches()) }()
		w := newLineWriter("writer", events.StreamStdout, bus.PublishOwned)
		for rest := out; len(rest) > 0; {
			n := min(len(rest), 64<<10)
			w.Write(rest[:n])
			rest = rest[n:]
		}
		w.Flush()
		bus.Close()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/line")
}

// BenchmarkLogPathFile is BenchmarkLogPath through a real pipe, written in
// 4 KiB pieces as stdio writes, to a real file, against the same pieces
// written straight to a file (x-vs-direct): the shape of bench/logs'
// plain mode without the processes.
func BenchmarkLogPathFile(b *testing.B) {
	const lines = 200_000
	out := benchOutput(lines)
	dir := b.TempDir()
	writeAll := func(w io.Writer) {
		for rest := out; len(rest) > 0; {
			n := min(len(rest), 4<<10)
			if _, err := w.Write(rest[:n]); err != nil {
				return
			}
			rest = rest[n:]
		}
	}
	var direct, through time.Duration
	for b.Loop() {
		f, err := os.Create(filepath.Join(dir, "direct"))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		writeAll(f)
		direct += time.Since(start)
		f.Close()

		f, err = os.Create(filepath.Join(dir, "plain"))
		if err != nil {
			b.Fatal(err)
		}
		r, w, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		pipeBytes := growPipe(r)
		bus := NewBus(BusOptions{})
		sub := bus.SubscribeLossless()
		done := make(chan error)
		go func() { done <- tui.NewPlain(f, tui.PlainOptions{}).Run(sub.Batches()) }()
		start = time.Now()
		go func() { writeAll(w); w.Close() }()
		drain(r, newLineWriter("writer", events.StreamStdout, bus.PublishOwned), pipeBytes)
		bus.Close()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		through += time.Since(start)
		r.Close()
		f.Close()
	}
	b.ReportMetric(float64(through.Nanoseconds())/float64(b.N*lines), "ns/line")
	b.ReportMetric(through.Seconds()/direct.Seconds(), "x-vs-direct")
}
