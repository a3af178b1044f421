package watch

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

// eventually bounds every wait in these tests: generous, since the machine
// running them may be slow and busy; nothing here measures speed.
const eventually = 10 * time.Second

// testQuiet replaces DefaultQuiet in tests that expect the events of one
// multi-step save in one batch: on a loaded machine the steps of a save
// can be tens of milliseconds apart. (What the default is chosen from is
// logged by TestGitCheckoutIsOneBatch and BenchmarkSaveToBatch.)
const testQuiet = 250 * time.Millisecond

// startWatcher creates and runs a watcher on opts.Root, and on cleanup
// closes it and checks that no goroutine it started is left behind.
func startWatcher(t *testing.T, opts Options) *Watcher {
	t.Helper()
	before := runtime.NumGoroutine()
	w, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case err := <-ran:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(eventually):
			t.Errorf("Run did not return after Close")
		}
		checkNoLeak(t, before)
	})
	return w
}

// checkNoLeak waits (bounded) for the goroutine count to fall back.
func checkNoLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(eventually)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Errorf("goroutines: %d after, %d before\n%s", runtime.NumGoroutine(), before, buf[:n])
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// nextBatch returns the next batch, failing the test after a long wait.
func nextBatch(t *testing.T, w *Watcher) Batch {
	t.Helper()
	select {
	case b, ok := <-w.Batches():
		if !ok {
			t.Fatalf("batches closed")
		}
		return b
	case <-time.After(eventually):
		t.Fatalf("no batch within %v", eventually)
	}
	return Batch{}
}

// batchesUntil collects batches until one contains sentinel, returning
// all of them merged and how many there were.
func batchesUntil(t *testing.T, w *Watcher, sentinel string) (Batch, int) {
	t.Helper()
	var all Batch
	for n := 1; ; n++ {
		all = all.Merge(nextBatch(t, w))
		if slices.Contains(all.Paths, sentinel) {
			return all, n
		}
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdirAll(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

// project makes a small project tree in a temporary directory.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		write(t, filepath.Join(root, filepath.FromSlash(name)), content)
	}
	return root
}

func wantPaths(t *testing.T, b Batch, want ...string) {
	t.Helper()
	if !slices.Equal(b.Paths, want) {
		t.Errorf("batch paths: got %q, want %q", b.Paths, want)
	}
}

// inLoop runs f on Run's goroutine, which owns the watcher's state.
func inLoop(t *testing.T, w *Watcher, f func()) {
	t.Helper()
	done := make(chan struct{})
	select {
	case w.testOnlyInLoop <- func() { f(); close(done) }:
	case <-time.After(eventually):
		t.Fatal("watcher loop not answering")
	}
	<-done
}

// followed asks Run's goroutine whether dir is being watched.
func followed(t *testing.T, w *Watcher, dir string) bool {
	t.Helper()
	var ok bool
	inLoop(t, w, func() { ok = w.dirs[dir] })
	return ok
}
