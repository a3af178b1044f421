package main

import (
	"runtime"
	"testing"
)

// devstack runs on one processor unless GOMAXPROCS asks for more.
func TestOneProcessor(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(before) })

	runtime.GOMAXPROCS(3)
	t.Setenv("GOMAXPROCS", "")
	oneProcessor()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("without GOMAXPROCS: %d processors, want 1", got)
	}

	runtime.GOMAXPROCS(3)
	t.Setenv("GOMAXPROCS", "3")
	oneProcessor()
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Errorf("with GOMAXPROCS=3: %d processors, want 3 (the user's setting)", got)
	}
}
