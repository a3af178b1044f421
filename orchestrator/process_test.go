package orchestrator

import (
	"context"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/events"
)

func TestStopKillsTheWholeGroup(t *testing.T) {
	requireLinux(t)
	p, _ := startProcess(t, ProcessSpec{Name: "web", Argv: []string{"sh", "-c", "sleep 60 & sleep 60; wait"}})
	pgid := p.Status().PID
	var members []int
	eventually(t, "sh and both sleeps", func() bool {
		members = groupMembers(pgid)
		return len(members) == 3
	})
	if err := stopWithin(p, false); err != nil {
		t.Fatal(err)
	}
	for _, pid := range members {
		eventually(t, "pid "+strconv.Itoa(pid)+" to die", func() bool { return !alive(pid) })
	}
	st := p.Status()
	if st.State != events.StateStopped || st.PID != 0 {
		t.Errorf("after Stop: state %s pid %d, want stopped pid 0", st.State, st.PID)
	}
	if got, want := st.LastExit, "killed by SIGTERM"; got != want {
		t.Errorf("LastExit: got %q, want %q", got, want)
	}
	select {
	case <-p.Done():
	default:
		t.Error("Done not closed after Stop")
	}
}

// trapsTerm ignores SIGTERM (and so does its sleep, which inherits that).
var trapsTerm = []string{"sh", "-c", `trap "" TERM; echo ready; sleep 60`}

func TestStopSendsKillAfterTimeout(t *testing.T) {
	p, rec := startProcess(t, ProcessSpec{Name: "stubborn", Argv: trapsTerm, StopTimeout: 200 * time.Millisecond})
	rec.waitFor(t, "ready", isLine("stubborn", "ready"))
	if err := stopWithin(p, false); err != nil {
		t.Fatal(err)
	}
	if got, want := p.Status().LastExit, "killed by SIGKILL"; got != want {
		t.Errorf("LastExit: got %q, want %q", got, want)
	}
	rec.waitFor(t, "stopping", isState("stubborn", events.StateStopping))
	stopped := rec.waitFor(t, "stopped", isState("stubborn", events.StateStopped))
	if got, want := stopped.Text, "stopped (killed by SIGKILL)"; got != want {
		t.Errorf("stopped event: got %q, want %q", got, want)
	}
}

func TestForceStopSkipsTheWait(t *testing.T) {
	// With an hour to wait, only the forced path can end this test.
	p, rec := startProcess(t, ProcessSpec{Name: "stubborn", Argv: trapsTerm, StopTimeout: time.Hour})
	rec.waitFor(t, "ready", isLine("stubborn", "ready"))
	if err := stopWithin(p, true); err != nil {
		t.Fatal(err)
	}
	if got, want := p.Status().LastExit, "killed by SIGKILL"; got != want {
		t.Errorf("LastExit: got %q, want %q", got, want)
	}
}

func TestSecondStopForcesAPendingStop(t *testing.T) {
	p, rec := startProcess(t, ProcessSpec{Name: "stubborn", Argv: trapsTerm, StopTimeout: time.Hour})
	rec.waitFor(t, "ready", isLine("stubborn", "ready"))
	first := make(chan error, 1)
	go func() { first <- p.Stop(false) }()
	rec.waitFor(t, "stopping", isState("stubborn", events.StateStopping))
	if err := stopWithin(p, true); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-first:
		if err != nil {
			t.Errorf("first Stop: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("first Stop did not return after the forced one")
	}
}

func TestCrashRestartsWithGrowingBackoff(t *testing.T) {
	spec := ProcessSpec{
		Name:           "flaky",
		Argv:           []string{"sh", "-c", "echo boom >&2; exit 3"},
		BackoffInitial: 10 * time.Millisecond,
		BackoffMax:     80 * time.Millisecond,
		StableAfter:    time.Hour,
	}
	p, rec := startProcess(t, spec)
	want := []time.Duration{10, 20, 40, 80, 80, 80}
	for i := range want {
		want[i] *= time.Millisecond
	}
	var got []time.Duration
	var crashes []events.Event
	rec.waitFor(t, "six restarts", func(e events.Event) bool {
		switch {
		case e.Kind == events.KindState && e.Change.State == events.StateBackoff:
			got = append(got, e.Change.Backoff)
		case e.Kind == events.KindState && e.Change.State == events.StateCrashed:
			crashes = append(crashes, e)
		}
		return len(got) == len(want)
	})
	if !slices.Equal(got, want) {
		t.Errorf("backoff: got %v, want %v", got, want)
	}
	for _, c := range crashes {
		if c.Change.Exit != "exit code 3" || c.Text != "crashed (exit code 3)" {
			t.Errorf("crash event: exit %q text %q, want exit code 3", c.Change.Exit, c.Text)
		}
	}
	rec.waitFor(t, "stderr line", func(e events.Event) bool {
		return e.Kind == events.KindLog && e.Stream == events.StreamStderr && e.Text == "boom"
	})
	if st := p.Status(); st.Restarts < len(want)-1 {
		t.Errorf("Restarts: got %d, want at least %d", st.Restarts, len(want)-1)
	}
}

func TestBackoffResetsAfterAStableRun(t *testing.T) {
	spec := ProcessSpec{
		Name:           "flaky",
		Argv:           []string{"sh", "-c", "exit 1"},
		BackoffInitial: 10 * time.Millisecond,
		StableAfter:    time.Nanosecond, // every run counts as stable
	}
	_, rec := startProcess(t, spec)
	n := 0
	rec.waitFor(t, "four restarts", func(e events.Event) bool {
		if e.Kind == events.KindState && e.Change.State == events.StateBackoff {
			if e.Change.Backoff != 10*time.Millisecond {
				t.Errorf("backoff after a stable run: got %v, want 10ms", e.Change.Backoff)
			}
			n++
		}
		return n == 4
	})
}

func TestCleanExitIsNotRestartedByDefault(t *testing.T) {
	p, rec := startProcess(t, ProcessSpec{Name: "once", Argv: []string{"true"}})
	rec.waitFor(t, "exited", isState("once", events.StateExited))
	if err := p.Restart(); err != nil {
		t.Fatalf("Restart of an exited process: %v", err)
	}
	rec.waitFor(t, "second exit", func(e events.Event) bool {
		return e.Kind == events.KindState && e.Change.State == events.StateExited && e.Change.Restarts == 1
	})
	for _, e := range rec.Items() {
		if e.Kind == events.KindState && e.Change.State == events.StateBackoff {
			t.Errorf("exit code 0 was followed by a restart: %v", e)
		}
	}
}

func TestRestartReplacesTheChild(t *testing.T) {
	p, _ := startProcess(t, ProcessSpec{Name: "web", Argv: []string{"sleep", "60"}})
	old := p.Status().PID
	if err := p.Restart(); err != nil {
		t.Fatal(err)
	}
	st := p.Status()
	if st.State != events.StateRunning || st.PID == 0 || st.PID == old || st.Restarts != 1 {
		t.Errorf("after Restart: %+v (old pid %d)", st, old)
	}
	if alive(old) {
		t.Errorf("old child %d still alive after Restart", old)
	}
}

func TestSignalReachesOnlyTheLeader(t *testing.T) {
	requireLinux(t)
	// A shell cannot trap a signal ignored when it started (POSIX), and a
	// test run under nohup starts with SIGHUP ignored: handling it here
	// makes the child start with the default, as devstack up does.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP)
	t.Cleanup(func() { signal.Reset(syscall.SIGHUP) })
	script := `trap "echo got HUP" HUP; sleep 60 & echo $!; while :; do sleep 0.05; done`
	p, rec := startProcess(t, ProcessSpec{Name: "master", Argv: []string{"sh", "-c", script}})
	first := rec.waitFor(t, "background pid", func(e events.Event) bool { return e.Kind == events.KindLog })
	worker, err := strconv.Atoi(first.Text)
	if err != nil {
		t.Fatalf("first line %q is not a pid", first.Text)
	}
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "HUP handled", isLine("master", "got HUP"))
	if !alive(worker) {
		t.Error("SIGHUP reached the background sleep: it went to the group, not the leader")
	}
}

func TestStartFailureIsReported(t *testing.T) {
	p, err := NewProcess(ProcessSpec{Name: "ghost", Argv: []string{"/nonexistent/devstack-test-cmd"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "starting ghost") {
		t.Fatalf("Start: got %v, want an error about starting ghost", err)
	}
	<-p.Done()
	if st := p.Status(); st.State != events.StateCrashed || !strings.HasPrefix(st.LastExit, "could not start") {
		t.Errorf("status after failed start: %+v", st)
	}
	if err := p.Stop(false); err != nil {
		t.Errorf("Stop after failed start: %v", err)
	}
	if err := p.Signal(syscall.SIGHUP); err == nil {
		t.Error("Signal to a process that never ran succeeded")
	}
}

func TestContextCancelStops(t *testing.T) {
	p, err := NewProcess(ProcessSpec{Name: "web", Argv: []string{"sleep", "60"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	pid := p.Status().PID
	cancel()
	select {
	case <-p.Done():
	case <-time.After(testTimeout):
		t.Fatal("cancelling the context did not stop the process")
	}
	if alive(pid) {
		t.Errorf("child %d alive after the context ended", pid)
	}
}

func TestEnvironmentIsKeptAndExtended(t *testing.T) {
	t.Setenv("DEVSTACK_TEST_INHERITED", "kept")
	spec := ProcessSpec{
		Name: "env",
		Argv: []string{"sh", "-c", `echo "$DEVSTACK_TEST_INHERITED $PYTHONUNBUFFERED $DEVSTACK_TEST_OVERRIDE"`},
		Env:  []string{"PYTHONUNBUFFERED=1", "DEVSTACK_TEST_OVERRIDE=a", "DEVSTACK_TEST_OVERRIDE=b"},
	}
	_, rec := startProcess(t, spec)
	rec.waitFor(t, "environment line", isLine("env", "kept 1 b"))
}

func TestShellCommandIsExecd(t *testing.T) {
	requireLinux(t)
	p, _ := startProcess(t, ProcessSpec{Name: "web", Argv: []string{"sleep 60"}, Shell: true})
	commFile := "/proc/" + strconv.Itoa(p.Status().PID) + "/comm"
	// The pid is the shell's until it execs sleep; a shell that stays
	// around as a wrapper never becomes "sleep".
	eventually(t, "the shell to exec sleep", func() bool {
		comm, _ := os.ReadFile(commFile)
		return strings.TrimSpace(string(comm)) == "sleep"
	})
}

func TestShellCommandLine(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"gunicorn app:app -b 127.0.0.1:8000"}, "exec gunicorn app:app -b 127.0.0.1:8000"},
		{[]string{"npm", "run", "dev"}, "exec npm run dev"},
		{[]string{"make css && make js"}, "make css && make js"},
		{[]string{"exec sleep 1"}, "exec sleep 1"},
	} {
		got := commandLine(ProcessSpec{Argv: tc.argv, Shell: true})
		if want := []string{"/bin/sh", "-c", tc.want}; !slices.Equal(got, want) {
			t.Errorf("commandLine(%q): got %q, want %q", tc.argv, got, want)
		}
	}
}

func TestPathFromSpecEnvChoosesTheProgram(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\necho from-venv\n"
	if err := os.WriteFile(dir+"/devstack-test-tool", []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := ProcessSpec{Name: "tool", Argv: []string{"devstack-test-tool"}, Env: []string{"PATH=" + dir + ":/usr/bin:/bin"}}
	_, rec := startProcess(t, spec)
	rec.waitFor(t, "output of the venv program", isLine("tool", "from-venv"))
}

func TestLastLinesComeBeforeTheCrash(t *testing.T) {
	script := `for i in 1 2 3; do echo line $i; done; printf 'no newline'; exit 4`
	_, rec := startProcess(t, ProcessSpec{Name: "dying", Argv: []string{"sh", "-c", script}, Restart: RestartNever})
	rec.waitFor(t, "crash", isState("dying", events.StateCrashed))
	var order []string
	for _, e := range rec.Items() {
		switch e.Kind {
		case events.KindLog:
			order = append(order, e.Text)
		case events.KindState:
			if e.Change.State == events.StateCrashed {
				order = append(order, "CRASH")
			}
		}
	}
	if got, want := strings.Join(order, "|"), "line 1|line 2|line 3|no newline|CRASH"; got != want {
		t.Errorf("order: got %q, want %q", got, want)
	}
}

func TestRestartDuringBackoffStartsAtOnce(t *testing.T) {
	spec := ProcessSpec{Name: "flaky", Argv: []string{"sh", "-c", "exit 1"}, BackoffInitial: time.Hour}
	p, rec := startProcess(t, spec)
	rec.waitFor(t, "backoff", isState("flaky", events.StateBackoff))
	if err := p.Restart(); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "a second run", func(e events.Event) bool {
		return e.Kind == events.KindState && e.Change.State == events.StateCrashed && e.Change.Restarts == 1
	})
	if err := stopWithin(p, false); err != nil {
		t.Fatal(err)
	}
	if st := p.Status(); st.State != events.StateStopped {
		t.Errorf("Stop during backoff: state %s, want stopped", st.State)
	}
}

func TestStayDownKeepsACrashedChildDownUntilRestart(t *testing.T) {
	var asked []int
	var mu sync.Mutex
	spec := ProcessSpec{
		Name: "broken", Argv: []string{"sh", "-c", "exit 3"}, BackoffInitial: 10 * time.Millisecond,
		StayDown: func(code int, _ time.Duration) bool {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, code)
			return code == 3
		},
	}
	p, rec := startProcess(t, spec)
	rec.waitFor(t, "the crash", isState("broken", events.StateCrashed))
	// Many backoff periods later it must still be down: no backoff, no restart.
	time.Sleep(200 * time.Millisecond)
	for _, e := range rec.Items() {
		if e.Kind == events.KindState && (e.Change.State == events.StateBackoff || e.Change.Restarts > 0) {
			t.Fatalf("a child the StayDown hook kept down was restarted: %+v", e.Change)
		}
	}
	if err := p.Restart(); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "the run after Restart", func(e events.Event) bool {
		return e.Kind == events.KindState && e.Change.State == events.StateCrashed && e.Change.Restarts == 1
	})
	if err := stopWithin(p, false); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) < 2 || asked[0] != 3 {
		t.Errorf("StayDown was asked with codes %v, want 3 for each crash", asked)
	}
}
