//go:build unix && !linux

package orchestrator

import "syscall"

// processAttr starts the child in its own process group, so that stopping
// it reaches everything it started. Only Linux can make a child die with
// its parent (Pdeathsig); elsewhere a devstack killed with SIGKILL leaves
// its children running.
func processAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
