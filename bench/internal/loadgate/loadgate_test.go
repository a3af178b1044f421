package loadgate

import (
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestNoVerdictAboveTheCoreCount(t *testing.T) {
	for _, c := range []struct {
		r    Report
		want string
	}{
		{Report{Cores: 2, Before: 0.4, Other: 0.1}, ""},
		{Report{Cores: 2, Before: 2, Other: 2}, ""},
		// The average before may hold an earlier benchmark's own work.
		{Report{Cores: 2, Before: 3.5, Other: 0.1}, ""},
		{Report{Cores: 2, Before: 0.5, Other: 2.25}, "no verdict: load 2.25 > 2 cores from other work during the run"},
		{Report{Cores: 2, Before: -1, Other: -1}, "no verdict: the machine's load is unknown here (needs Linux's /proc)"},
	} {
		if got := c.r.NoVerdict(); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.r, got, c.want)
		}
		if got, want := c.r.Quiet(), c.want == ""; got != want {
			t.Errorf("%+v: Quiet() = %v, want %v", c.r, got, want)
		}
	}
}

// The threads of the watched tree are told apart from the rest: a busy
// loop in this process is counted as its own, and a watcher of this tree
// reports samples with a known figure.
func TestWatcherCountsItsOwnTreeApart(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	var stop atomic.Bool
	defer stop.Store(true)
	go func() {
		for !stop.Load() { // busy: this thread stays runnable
		}
	}()
	time.Sleep(50 * time.Millisecond)
	all, own, ok := runnable(os.Getpid())
	if !ok || own < 1 || all < own {
		t.Errorf("runnable threads: %d in all, %d of this process (busy loop running), ok=%v; want own >= 1 and all >= own", all, own, ok)
	}
	w := Start(os.Getpid())
	time.Sleep(600 * time.Millisecond)
	r := w.Stop()
	if r.Samples == 0 || r.Other < 0 || r.Before < 0 || !strings.Contains(r.String(), "cores") {
		t.Errorf("report %+v: %s", r, r)
	}
}
