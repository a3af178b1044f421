package orchestrator

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// processAttr starts the child in its own process group, so that stopping
// it reaches everything it started, and asks the kernel to SIGKILL it if
// devstack dies without stopping it (kill -9, a crash). Pdeathsig reaches
// the child only, not its own children: a gunicorn master's workers exit
// when they see their master gone, and the guard (process_guard.go) stops
// the rest of the group.
func processAttr() *syscall.SysProcAttr {
	if testOnlyNoPdeathsig {
		return &syscall.SysProcAttr{Setpgid: true}
	}
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// testOnlyNoPdeathsig leaves Pdeathsig off, so that tests on Linux prove
// that the guard alone — all that macOS has — keeps children from
// outliving devstack.
var testOnlyNoPdeathsig = os.Getenv("DEVSTACK_TESTONLY_NO_PDEATHSIG") == "1"

// growPipe asks for an output pipe of outputPipeBytes (Linux gives 64 KiB;
// an unprivileged process may ask for up to 1 MiB), so a process printing
// a flood writes on while drain pauses to read it in large chunks. It
// returns what the pipe holds; failing changes nothing but speed.
func growPipe(r *os.File) int {
	size := 64 << 10
	if c, err := r.SyscallConn(); err == nil {
		_ = c.Control(func(fd uintptr) {
			if got, err := unix.FcntlInt(fd, unix.F_SETPIPE_SZ, outputPipeBytes); err == nil {
				size = got
			} else if got, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil {
				size = got
			}
		})
	}
	return size
}
