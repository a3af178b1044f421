package main

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/proxy"
)

// blockingWriter holds every Write until released, as a slow terminal or
// a full pipe would.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	out     bytes.Buffer
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
func TestProxyAccessLinesNeverWaitForTheOutput(t *testing.T) {
	w := &blockingWriter{release: make(chan struct{})}
	l := newProxyLineWriter(w)
	const goroutines, each = 8, 2000
	took := make(chan struct{})
	var wg sync.WaitGroup
	go func() {
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					l.printAccess(proxy.AccessRecord{Method: "GET", Path: "/" + strconv.Itoa(g) + "/" + strconv.Itoa(i), Status: 200, Duration: time.Millisecond})
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
	l.flush()
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := strings.Split(strings.TrimSuffix(w.out.String(), "\n"), "\n")
	if len(lines) != goroutines*each {
		t.Fatalf("%d lines written, want %d", len(lines), goroutines*each)
	}
	seen := map[string]bool{}
	for _, line := range lines {
		if !strings.HasPrefix(line, "proxy | GET /") || !strings.HasSuffix(line, " 200 1.0ms") {
			t.Fatalf("broken line %q", line)
		}
		seen[line] = true
	}
	if len(seen) != goroutines*each {
		t.Errorf("%d distinct lines, want %d", len(seen), goroutines*each)
	}
}
