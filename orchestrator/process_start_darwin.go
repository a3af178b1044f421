package orchestrator

import (
	"context"
	"strconv"

	"golang.org/x/sys/unix"
)

// processStart returns when process pid started, as a token that differs
// between two processes that had the same pid: the kernel's start time of
// the process (kern.proc.pid). ok is false when there is no such process.
func processStart(pid int) (string, bool) {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || kp.Proc.P_pid != int32(pid) {
		return "", false
	}
	t := kp.Proc.P_starttime
	return strconv.FormatInt(t.Sec, 10) + "." + strconv.FormatInt(int64(t.Usec), 10), true
}

// processCommandLine returns pid's command line, as ps shows it; "" when it
// cannot be read.
func processCommandLine(pid int) string { return psCommandLine(context.Background(), pid) }
