// Package loadgate tells whether a benchmark ran on a machine quiet enough
// for its figures to mean something.
//
// The 1-minute load average before a run says whether the machine was busy
// when it started; after a run it mostly shows the benchmark's own work (a
// proxy, its load generator and its upstream keep both cores busy), so it
// cannot tell a quiet machine from a busy one. What can is the work of
// everything else during the run: a Watcher samples, four times a second,
// the runnable threads of the whole machine (procs_running in /proc/stat)
// and subtracts those of the benchmark's own process tree. Its average is
// the load other work put on the machine while the figures were taken.
//
// A verdict is printed only when the other work during the run stayed at
// or below the number of cores. The average before is printed, not judged:
// it lags a minute behind, so right after another benchmark it still holds
// that benchmark's own work.
package loadgate

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Cores is the number of CPUs the machine has.
func Cores() int { return runtime.NumCPU() }

// Watcher samples the load that processes outside one tree put on the
// machine.
type Watcher struct {
	root   int
	before float64 // 1-minute load average at the start; -1 unknown

	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	samples int
	sum     float64
	max     int
}

// Start reads the load average and starts sampling the runnable threads
// that are not in root's process tree (root and every process below it).
func Start(root int) *Watcher {
	w := &Watcher{root: root, before: loadAverage(), stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *Watcher) run() {
	defer close(w.done)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		if n, ok := foreignRunnable(w.root); ok {
			w.mu.Lock()
			w.samples++
			w.sum += float64(n)
			w.max = max(w.max, n)
			w.mu.Unlock()
		}
		select {
		case <-tick.C:
		case <-w.stop:
			return
		}
	}
}

// Report is what a Watcher saw.
type Report struct {
	Cores    int
	Before   float64 // 1-minute load average at the start; -1 unknown
	After    float64 // 1-minute load average at the end (includes the benchmark's own work); -1 unknown
	Other    float64 // average runnable threads outside the benchmark during the run; -1 unknown
	OtherMax int
	Samples  int
}

// Stop ends the sampling and returns the report.
func (w *Watcher) Stop() Report {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	r := Report{Cores: Cores(), Before: w.before, After: loadAverage(), Other: -1, OtherMax: w.max, Samples: w.samples}
	if w.samples > 0 {
		r.Other = w.sum / float64(w.samples)
	}
	return r
}

// Quiet reports whether the figures may be judged: the other work during
// the run known and at most the core count.
func (r Report) Quiet() bool {
	return r.Other >= 0 && r.Other <= float64(r.Cores)
}

// String is the line a benchmark prints about the machine's load.
func (r Report) String() string {
	return fmt.Sprintf("machine load: %s before (1-min average, may hold an earlier benchmark); %s after (includes this benchmark); "+
		"other work during the run: %s runnable on average, %d at most; %d cores",
		figure(r.Before), figure(r.After), figure(r.Other), r.OtherMax, r.Cores)
}

// NoVerdict is the line printed instead of a verdict when the machine was
// not quiet, or "" when it was.
func (r Report) NoVerdict() string {
	switch {
	case r.Other < 0:
		return "no verdict: the machine's load is unknown here (needs Linux's /proc)"
	case r.Other > float64(r.Cores):
		return fmt.Sprintf("no verdict: load %.2f > %d cores from other work during the run", r.Other, r.Cores)
	}
	return ""
}

func figure(v float64) string {
	if v < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.2f", v)
}

// foreignRunnable counts the machine's runnable threads minus those of
// root's process tree.
func foreignRunnable(root int) (int, bool) {
	all, own, ok := runnable(root)
	return max(0, all-own), ok
}
