package loadgate

import (
	"bytes"
	"os"
	"strconv"
)

// loadAverage is the 1-minute load average, -1 if unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(string(f[0]), 64)
	if err != nil {
		return -1
	}
	return v
}

// runnable counts the machine's runnable threads and those of root's tree.
func runnable(root int) (all, own int, ok bool) {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	running := -1
	for _, line := range bytes.Split(stat, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("procs_running ")); ok {
			running, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if running < 0 {
		return 0, 0, false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0, false
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	for todo := []int{root}; len(todo) > 0; {
		pid := todo[len(todo)-1]
		todo = append(todo[:len(todo)-1], children[pid]...)
		own += runnableThreads(pid)
	}
	return running, own, true
}

// fields returns the fields of a /proc stat file after the command name
// (which may hold spaces): state first, then ppid.
func fields(path string) [][]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return bytes.Fields(b[i+1:])
}

func parentOf(pid int) (int, bool) {
	f := fields("/proc/" + strconv.Itoa(pid) + "/stat")
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(string(f[1]))
	return ppid, err == nil
}

func runnableThreads(pid int) int {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, t := range tasks {
		if f := fields(dir + "/" + t.Name() + "/stat"); len(f) > 0 && string(f[0]) == "R" {
			n++
		}
	}
	return n
}
