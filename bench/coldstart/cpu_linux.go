package main

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// treeCPU is the CPU time (user and system) that pid and every process
// below it have used so far, including their children already reaped (the
// interpreter checks). It reads /proc, whose times are in USER_HZ (100)
// ticks: a 10 ms grain.
func treeCPU(pid int) time.Duration {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	children := map[int][]int{}
	ticks := map[int]int64{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		// The command name, in parentheses, may hold spaces: fields
		// start after its closing one.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(stat[i+1:])
		// f[0] is the state; ppid is f[1]; utime, stime, cutime, cstime
		// are f[11] to f[14].
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(string(f[1]))
		children[ppid] = append(children[ppid], p)
		for _, v := range f[11:15] {
			n, _ := strconv.ParseInt(string(v), 10, 64)
			ticks[p] += n
		}
	}
	var total int64
	for todo := []int{pid}; len(todo) > 0; {
		p := todo[len(todo)-1]
		todo = append(todo[:len(todo)-1], children[p]...)
		total += ticks[p]
	}
	return time.Duration(total) * 10 * time.Millisecond
}

// loadAverage is the 1-minute load average, "" where unknown.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return ""
	}
	return string(f[0])
}
