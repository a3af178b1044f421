package watch

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
	"github.com/fsnotify/fsnotify"
)

// TestGitCheckoutIsOneBatch switches branches that differ in 200 files and
// expects one batch naming all of them. It also logs how the checkout's
// events are spread in time, which is what DefaultQuiet is chosen from.
func TestGitCheckoutIsOneBatch(t *testing.T) {
	gitPath := testenv.LookPath(t, "git", "apt-get install git")
	root := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command(gitPath, append([]string{"-c", "user.name=devstack", "-c", "user.email=dev@example.com", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	var want []string
	for i := range 200 {
		name := fmt.Sprintf("app/mod%03d.py", i)
		want = append(want, name)
		write(t, filepath.Join(root, name), "a\n")
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "a")
	git("checkout", "-q", "-b", "other")
	for _, name := range want {
		write(t, filepath.Join(root, name), "b\n")
	}
	git("commit", "-q", "-am", "b")
	git("checkout", "-q", "main")

	// A generous Quiet: this test is about coalescing, not speed; the
	// measured spread below is what the default is chosen from.
	w := startWatcher(t, Options{Root: root, Quiet: time.Second, MaxWait: eventually})
	var times []time.Time
	inLoop(t, w, func() {
		w.testOnlyEvent = func(ev fsnotify.Event, now time.Time) {
			if rel := w.relOf(ev.Name); len(rel) > 4 && rel[:4] == "app/" {
				times = append(times, now)
			}
		}
	})
	git("checkout", "-q", "other")
	b := nextBatch(t, w)
	wantPaths(t, b, want...)
	var (
		spread, maxGap time.Duration
		events         int
	)
	inLoop(t, w, func() {
		w.testOnlyEvent = nil
		for i := 1; i < len(times); i++ {
			maxGap = max(maxGap, times[i].Sub(times[i-1]))
		}
		if events = len(times); events > 0 {
			spread = times[events-1].Sub(times[0])
		}
	})
	t.Logf("git checkout of 200 files: %d events over %v, largest gap between two events %v", events, spread, maxGap)
	if !slices.IsSorted(b.Paths) {
		t.Errorf("paths not sorted")
	}

	// With the default options, how many batches does a checkout make
	// here? Logged, not asserted: it depends on the machine's load (and
	// more than one costs a second reload, nothing is lost).
	w2 := startWatcher(t, Options{Root: root})
	start := time.Now()
	git("checkout", "-q", "main")
	var all Batch
	n := 0
	for len(all.Paths) < len(want) {
		all = all.Merge(nextBatch(t, w2))
		n++
	}
	wantPaths(t, all, want...)
	t.Logf("default options: %d batch(es), all paths delivered %v after the checkout started", n, time.Since(start))
}
