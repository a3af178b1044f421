//go:build unix && !linux

package procattr

import "syscall"

// Group starts a child in its own process group, so that it can be stopped
// with everything it started. Only Linux can also have it killed when its
// starter dies (Pdeathsig); elsewhere the starter's cleanup stops the group.
func Group() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
