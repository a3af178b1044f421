package orchestrator

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

// The group record is the last line of defence against children outliving
// devstack, for when the guard could not act either (it was killed too, or
// the machine slept through it): a file that lists the process groups a
// devstack has running, rewritten as they start and end. The next devstack
// up for the same project reads it first and stops the groups that are
// provably the ones listed — their leader has the recorded start time — if
// the devstack that wrote it is gone.

// groupRecord is the file's content.
type groupRecord struct {
	PID    int           `json:"pid"`   // the devstack that wrote it
	Start  string        `json:"start"` // its start token (processStart)
	Groups []groupLeader `json:"groups"`
}

type groupLeader struct {
	PGID  int    `json:"pgid"`
	Start string `json:"start"` // the leader's start token; "-" when unknown
}

// StaleGroup is a process group of an earlier devstack that RecordGroups
// stopped.
type StaleGroup struct {
	PGID    int
	Command string // the leader's command line, where the system tells
}

var record struct {
	mu     sync.Mutex
	path   string         // "" when not recording
	groups map[int]string // pgid → the leader's start token
	self   string         // this process's start token
}

// trackGroup is called for each child started, which leads its own group:
// the guard and the record learn about it.
func trackGroup(pid int) {
	start, ok := processStart(pid)
	if !ok {
		start = "-"
	}
	guardWatch(pid, start)
	record.mu.Lock()
	defer record.mu.Unlock()
	if record.path != "" {
		record.groups[pid] = start
		writeGroupRecord()
	}
}

// untrackGroup is called once a child has exited and its group was killed.
func untrackGroup(pid int) {
	guardForget(pid)
	record.mu.Lock()
	defer record.mu.Unlock()
	if record.path != "" {
		delete(record.groups, pid)
		writeGroupRecord()
	}
}

// RecordGroups first stops the process groups that an earlier devstack,
// now gone, listed in the record at path and that are still provably its
// own (SIGTERM, then SIGKILL after grace), and returns them. From then on,
// until done is called, path lists the groups this process has running.
// A record whose devstack is still running is left alone, and not
// replaced: that stack keeps its processes and its record. Failing to write
// the record costs only this safety net, so it is not reported; done
// removes the record.
func RecordGroups(path string, grace time.Duration) (stale []StaleGroup, done func()) {
	stale, running := reapStaleGroups(path, grace)
	if running {
		return nil, func() {}
	}
	self, _ := processStart(os.Getpid())
	record.mu.Lock()
	record.path, record.groups, record.self = path, map[int]string{}, self
	writeGroupRecord()
	record.mu.Unlock()
	return stale, func() {
		record.mu.Lock()
		defer record.mu.Unlock()
		if record.path == path {
			os.Remove(path)
			record.path, record.groups = "", nil
		}
	}
}

// reapStaleGroups stops what the record at path lists, unless the devstack
// that wrote it is still running.
func reapStaleGroups(path string, grace time.Duration) (stale []StaleGroup, running bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	var old groupRecord
	if json.Unmarshal(data, &old) != nil || old.PID <= 0 {
		return nil, false
	}
	if start, alive := processStart(old.PID); alive && (old.Start == "-" || start == old.Start) {
		return nil, true
	}
	var ours []int
	for _, g := range old.Groups {
		if g.PGID <= 1 || !ownedGroup(g.PGID, g.Start) {
			continue
		}
		ours = append(ours, g.PGID)
		stale = append(stale, StaleGroup{PGID: g.PGID, Command: commandLineOf(g.PGID)})
	}
	stopGroups(ours, grace)
	sort.Slice(stale, func(i, j int) bool { return stale[i].PGID < stale[j].PGID })
	return stale, false
}

// writeGroupRecord replaces the record with the current groups; record.mu
// is held.
func writeGroupRecord() {
	r := groupRecord{PID: os.Getpid(), Start: record.self, Groups: []groupLeader{}}
	if r.Start == "" {
		r.Start = "-"
	}
	for pgid, start := range record.groups {
		r.Groups = append(r.Groups, groupLeader{PGID: pgid, Start: start})
	}
	sort.Slice(r.Groups, func(i, j int) bool { return r.Groups[i].PGID < r.Groups[j].PGID })
	data, err := json.Marshal(r)
	if err != nil || os.MkdirAll(filepath.Dir(record.path), 0o700) != nil {
		return
	}
	tmp := record.path + ".tmp"
	if os.WriteFile(tmp, data, 0o600) != nil || os.Rename(tmp, record.path) != nil {
		os.Remove(tmp)
	}
}

// commandLineOf returns pid's command line for a message, or "pid N".
func commandLineOf(pid int) string {
	if line := processCommandLine(pid); line != "" {
		return line
	}
	return "pid " + strconv.Itoa(pid)
}
