//go:build unix

package orchestrator

import (
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// signalGroup sends sig to every process in the group led by pid. A group
// that is already gone is not an error.
func signalGroup(pid int, sig syscall.Signal) {
	_ = syscall.Kill(-pid, sig)
}

func signalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return sig.String()
}

// describeExit says how a child ended and whether that was exit code 0.
func describeExit(ps *os.ProcessState, waitErr error) (string, bool) {
	if ps == nil {
		return waitErr.Error(), false
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "killed by " + signalName(ws.Signal()), false
	}
	code := ps.ExitCode()
	return "exit code " + strconv.Itoa(code), code == 0
}
