package watch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkSaveToBatch measures, with the default options, the time from
// writing a file to receiving its batch, split into the time until the
// first event is read (kernel and fsnotify) and the time from there to
// delivery (the quiet window plus the watcher's own work).
func BenchmarkSaveToBatch(b *testing.B) {
	root := b.TempDir()
	app := filepath.Join(root, "app.py")
	if err := os.WriteFile(app, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	w, err := New(Options{Root: root})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	defer w.Close()

	var toEvent, toBatch time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if err := os.WriteFile(app, []byte{byte(i)}, 0o644); err != nil {
			b.Fatal(err)
		}
		select {
		case batch := <-w.Batches():
			toEvent += batch.First.Sub(start)
			toBatch += time.Since(batch.First)
		case <-time.After(eventually):
			b.Fatal("no batch")
		}
	}
	b.ReportMetric(float64(toEvent.Microseconds())/float64(b.N), "µs-to-event/op")
	b.ReportMetric(float64(toBatch.Microseconds())/float64(b.N), "µs-event-to-batch/op")
	b.ReportMetric(float64((toBatch-time.Duration(b.N)*DefaultQuiet).Microseconds())/float64(b.N), "µs-over-quiet/op")
}
