package orchestrator

import (
	"os"
	"strconv"
	"strings"
)

// processStart returns when process pid started, as a token that differs
// between two processes that had the same pid: the start time in clock
// ticks since boot, field 22 of /proc/PID/stat. ok is false when there is
// no such process.
func processStart(pid int) (string, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", false
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s) // from field 3 on
	if len(f) < 20 {
		return "", false
	}
	return f[19], true
}

// processCommandLine returns pid's command line, space separated; "" when
// it cannot be read.
func processCommandLine(pid int) string {
	return strings.Join(processArgs(pid), " ")
}

// processArgs returns pid's arguments from /proc/PID/cmdline, nil when
// they cannot be read.
func processArgs(pid int) []string {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
}
