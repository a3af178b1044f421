package watch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestBatchReason(t *testing.T) {
	tests := []struct {
		b    Batch
		want string
	}{
		{Batch{Paths: []string{"blog/views.py"}}, "blog/views.py"},
		{Batch{Paths: []string{"a.py", "b.py", "c.py"}}, "3 files: a.py, b.py, c.py"},
		{Batch{Paths: []string{"a.py", "b.py", "c.py", "d.py"}}, "4 files: a.py, b.py, c.py, …"},
		{Batch{Paths: []string{"requirements.txt"}, NeedsRestart: true, RestartCause: "dependency manifest requirements.txt"}, "dependency manifest requirements.txt"},
		{Batch{Paths: []string{"a.py", "requirements.txt"}, NeedsRestart: true, RestartCause: "dependency manifest requirements.txt"}, "dependency manifest requirements.txt (2 files: a.py, requirements.txt)"},
		{Batch{Overflow: true, NeedsRestart: true}, "too many changes at once (some events were lost)"},
	}
	for _, tt := range tests {
		if got := tt.b.Reason(); got != tt.want {
			t.Errorf("Reason(%+v): got %q, want %q", tt.b, got, tt.want)
		}
	}
}

func TestBatchMerge(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := Batch{Paths: []string{"b.py", "c.py"}, First: t0.Add(time.Second)}
	b := Batch{Paths: []string{"a.py", "c.py"}, NeedsRestart: true, RestartCause: "environment file .env", First: t0}
	m := a.Merge(b)
	if want := []string{"a.py", "b.py", "c.py"}; !slices.Equal(m.Paths, want) {
		t.Errorf("paths: got %q, want %q", m.Paths, want)
	}
	if !m.NeedsRestart || m.RestartCause != "environment file .env" || !m.First.Equal(t0) {
		t.Errorf("merge: got %+v", m)
	}
	if z := (Batch{}).Merge(a); !z.First.Equal(a.First) {
		t.Errorf("merging into an empty batch: First %v, want %v", z.First, a.First)
	}
}

func TestCollectorDropsTransientFiles(t *testing.T) {
	var c collector
	now := time.Now()
	c.add(now, "app.py.tmp1", true, false, "")  // created…
	c.add(now, "app.py.tmp1", false, false, "") // written…
	c.add(now, "app.py.tmp1", false, true, "")  // …renamed away
	c.add(now, "app.py", false, true, "")       // the original replaced
	c.add(now, "app.py", true, false, "")       // by the rename target
	c.add(now, "gone.py", false, true, "")      // a deletion is a change
	c.add(now, "new.py", true, false, "")       // a new file
	b, ok := c.batch()
	if !ok {
		t.Fatal("no batch")
	}
	wantPaths(t, b, "app.py", "gone.py", "new.py")
	if !c.empty() {
		t.Error("collector not reset after batch")
	}
	c.add(now, "x.tmp", true, false, "")
	c.add(now, "x.tmp", false, true, "")
	if b, ok := c.batch(); ok {
		t.Errorf("only a transient file: got batch %+v", b)
	}
}

func TestMaxWaitBoundsAContinuousWriter(t *testing.T) {
	root := project(t, map[string]string{"app.py": ""})
	w := startWatcher(t, Options{Root: root, Quiet: 200 * time.Millisecond, MaxWait: 400 * time.Millisecond})
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		deadline := time.After(eventually)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-deadline:
				return
			case <-time.After(20 * time.Millisecond):
			}
			// Not write(): t.Fatal belongs to the test's goroutine.
			_ = os.WriteFile(filepath.Join(root, "app.py"), []byte(fmt.Sprint(i)), 0o644)
		}
	}()
	// The writer never pauses for Quiet; a batch must come anyway.
	b := nextBatch(t, w)
	select {
	case <-writerDone:
		t.Fatal("the batch came only after the writer stopped")
	default:
	}
	close(stop)
	<-writerDone
	wantPaths(t, b, "app.py")
}

func TestLimitErrors(t *testing.T) {
	err := limitError("/p/app", fmt.Errorf("wrapped: %w", syscall.ENOSPC))
	var lerr *LimitError
	if !errors.As(err, &lerr) {
		t.Fatalf("ENOSPC: got %v, want a *LimitError", err)
	}
	if !strings.Contains(lerr.Hint(), "sysctl fs.inotify.max_user_watches=") ||
		!strings.Contains(lerr.Error(), "/p/app") || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("ENOSPC: error %q, hint %q", lerr.Error(), lerr.Hint())
	}
	if err := limitError("/p", syscall.EMFILE); err == nil || !strings.Contains(err.(*LimitError).Hint(), "max_user_instances") {
		t.Errorf("EMFILE: got %v", err)
	}
	if err := limitError("/p", syscall.EACCES); err != nil {
		t.Errorf("EACCES is no limit: got %v", err)
	}
	if err := overflowError(errors.New("queue overflow")); !strings.Contains(err.(*LimitError).Hint(), "max_queued_events") {
		t.Errorf("overflow hint: %q", err.(*LimitError).Hint())
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "file"), "")
	for _, opts := range []Options{
		{},
		{Root: filepath.Join(root, "missing")},
		{Root: filepath.Join(root, "file")},
		{Root: root, Include: []string{""}},
		{Root: root, Exclude: []string{"!"}},
	} {
		if w, err := New(opts); err == nil {
			w.Close()
			t.Errorf("New(%+v): no error", opts)
		}
	}
	// Close without Run releases everything and closes the channels.
	w, err := New(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-w.Batches(); ok {
		t.Error("Batches open after Close")
	}
	if err := w.Run(t.Context()); err == nil {
		t.Error("Run after Close: no error")
	}
}

func TestQuietGrowsForBursts(t *testing.T) {
	w := &Watcher{opts: Options{Quiet: 10 * time.Millisecond}}
	var c collector
	now := time.Now()
	if got := w.quietFor(&c); got != 10*time.Millisecond {
		t.Errorf("empty batch: quiet %v", got)
	}
	for i := range burstPaths {
		if got := w.quietFor(&c); got != 10*time.Millisecond {
			t.Errorf("%d files: quiet %v, want the plain window", i, got)
		}
		c.add(now, fmt.Sprint(i), false, false, "")
	}
	if got, want := w.quietFor(&c), burstQuietFactor*10*time.Millisecond; got != want {
		t.Errorf("%d files: quiet %v, want %v", burstPaths, got, want)
	}
}
