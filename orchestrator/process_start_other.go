//go:build unix && !linux && !darwin

package orchestrator

import (
	"context"
	"syscall"
)

// processStart cannot read a process's start time on this system; ok says
// whether pid exists, and the empty token makes the guard trust the group
// ID alone.
func processStart(pid int) (string, bool) {
	err := syscall.Kill(pid, 0)
	return "-", err == nil || err == syscall.EPERM
}

// processCommandLine returns pid's command line, as ps shows it; "" when it
// cannot be read.
func processCommandLine(pid int) string { return psCommandLine(context.Background(), pid) }
