//go:build unix && !linux

package orchestrator

import (
	"os"
	"syscall"
)

// processAttr starts the child in its own process group, so that stopping
// it reaches everything it started. Only Linux can make a child die with
// its parent (Pdeathsig); here the guard (process_guard.go) alone stops the
// children of a devstack that was killed or crashed.
func processAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// growPipe does nothing: only Linux lets a pipe's size be chosen. It
// returns what a pipe holds at first here (macOS: 16 KiB, growing to
// 64 KiB only for large writes).
func growPipe(*os.File) int { return 16 << 10 }
