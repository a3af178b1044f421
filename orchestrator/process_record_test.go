package orchestrator

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// startGroup starts argv in a process group of its own, killed when the
// test ends.
func startGroup(t *testing.T, argv ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	return cmd
}

func writeRecord(t *testing.T, path string, r groupRecord) {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readRecord(t *testing.T, path string) groupRecord {
	t.Helper()
	var r groupRecord
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func startToken(t *testing.T, pid int) string {
	t.Helper()
	s, ok := processStart(pid)
	if !ok {
		t.Fatalf("no start time for pid %d", pid)
	}
	return s
}

// waitExit reports whether cmd exits within d.
func waitExit(cmd *exec.Cmd, d time.Duration) bool {
	done := make(chan struct{})
	go func() { cmd.Process.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// The next up stops what a killed devstack left running, but only the
// groups it can prove are the ones recorded, and only when that devstack is
// gone.
func TestRecordGroupsReapsWhatAKilledDevstackLeft(t *testing.T) {
	path := filepath.Join(t.TempDir(), "groups.json")
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	left := startGroup(t, "sleep", "60")
	reused := startGroup(t, "sleep", "60")
	writeRecord(t, path, groupRecord{PID: gone.Process.Pid, Start: "1", Groups: []groupLeader{
		{PGID: left.Process.Pid, Start: startToken(t, left.Process.Pid)},
		{PGID: reused.Process.Pid, Start: "1"}, // its pid, another program's start time
	}})

	stale, done := RecordGroups(path, time.Second)
	defer done()
	if len(stale) != 1 || stale[0].PGID != left.Process.Pid {
		t.Fatalf("stopped %+v, want only group %d", stale, left.Process.Pid)
	}
	if !waitExit(left, 2*time.Second) {
		t.Error("the recorded group is still running")
	}
	if waitExit(reused, 200*time.Millisecond) {
		t.Error("a group whose leader is another program was stopped")
	}

	// From now on the record lists this process's groups.
	if r := readRecord(t, path); r.PID != os.Getpid() || len(r.Groups) != 0 {
		t.Errorf("record after taking over: %+v, want this process with no groups", r)
	}
	p, _ := startProcess(t, ProcessSpec{Name: "sleeper", Argv: []string{"sleep", "60"}})
	pid := p.Status().PID
	if r := readRecord(t, path); len(r.Groups) != 1 || r.Groups[0].PGID != pid {
		t.Errorf("record while a child runs: %+v, want group %d", r, pid)
	}
	if err := p.Stop(false); err != nil {
		t.Fatal(err)
	}
	eventuallyRecord := func() bool { return len(readRecord(t, path).Groups) == 0 }
	eventually(t, "the stopped group to leave the record", eventuallyRecord)
	done()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the record is still there after done: %v", err)
	}
}

// A record whose devstack still runs is neither reaped nor replaced.
func TestRecordGroupsLeavesARunningDevstackAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "groups.json")
	other := startGroup(t, "sleep", "60") // stands for that devstack's child
	mine := groupRecord{PID: os.Getpid(), Start: startToken(t, os.Getpid()), Groups: []groupLeader{
		{PGID: other.Process.Pid, Start: startToken(t, other.Process.Pid)},
	}}
	writeRecord(t, path, mine)
	stale, done := RecordGroups(path, time.Second)
	if len(stale) != 0 {
		t.Errorf("stopped %+v of a running devstack", stale)
	}
	if waitExit(other, 200*time.Millisecond) {
		t.Error("the running devstack's child was stopped")
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	p, err := NewProcess(ProcessSpec{Name: "sleeper", Argv: []string{"sleep", "60"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Stop(true)
	done()
	if r := readRecord(t, path); len(r.Groups) != 1 || r.Groups[0].PGID != other.Process.Pid {
		t.Errorf("the running devstack's record was changed: %+v", r)
	}
}
