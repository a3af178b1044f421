package procattr

import "syscall"

// Group starts a child in its own process group, so that it can be stopped
// with everything it started, and has the kernel kill it if the process
// that started it dies first (a test binary that panicked or timed out).
func Group() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
