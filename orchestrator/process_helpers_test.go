package orchestrator

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/events"
	waitlog "github.com/devstack-dev/devstack/internal/record"
)

// testOnlyHelperEnv makes the test binary act as a small devstack that
// supervises a child with a grandchild in its group (`sleep 60 & exec sleep
// 60`), prints the child's pid, and waits to be killed.
const testOnlyHelperEnv = "DEVSTACK_TESTONLY_SUPERVISOR_HELPER"

func TestMain(m *testing.M) {
	GuardMain()
	if os.Getenv(testOnlyHelperEnv) == "1" {
		testOnlySupervisorHelper()
		return
	}
	os.Exit(m.Run())
}

func testOnlySupervisorHelper() {
	p, err := NewProcess(ProcessSpec{Name: "sleeper", Argv: []string{"sh", "-c", "sleep 60 & exec sleep 60"}}, nil)
	if err == nil {
		err = p.Start(context.Background())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println(p.Status().PID)
	time.Sleep(time.Minute)
	os.Exit(3)
}

const testTimeout = 20 * time.Second

// recorder subscribes to a bus and keeps every event for inspection.
type recorder struct{ *waitlog.Log[events.Event] }

func newRecorder(t *testing.T, bus *Bus) *recorder {
	r := &recorder{waitlog.New[events.Event]()}
	sub := bus.Subscribe()
	t.Cleanup(sub.Close)
	go func() {
		for e := range sub.Events() {
			r.Add(e)
		}
	}()
	return r
}

// waitFor waits until some event satisfies match and returns it.
func (r *recorder) waitFor(t *testing.T, what string, match func(events.Event) bool) events.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	e, _, err := r.Wait(ctx, 0, nil, match)
	if err != nil {
		t.Fatalf("timed out waiting for %s; events: %v", what, r.Items())
	}
	return e
}

func isLine(source, text string) func(events.Event) bool {
	return func(e events.Event) bool { return e.Kind == events.KindLog && e.Source == source && e.Text == text }
}

func isState(source string, s events.State) func(events.Event) bool {
	return func(e events.Event) bool {
		return e.Kind == events.KindState && e.Source == source && e.Change.State == s
	}
}

// startProcess starts spec publishing to a fresh bus and stops it (forced)
// when the test ends.
func startProcess(t *testing.T, spec ProcessSpec) (*Process, *recorder) {
	t.Helper()
	bus := NewBus(BusOptions{})
	rec := newRecorder(t, bus)
	p, err := NewProcess(spec, bus.Publish)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stopWithin(p, true); err != nil {
			t.Error(err)
		}
	})
	return p, rec
}

func stopWithin(p *Process, force bool) error {
	errc := make(chan error, 1)
	go func() { errc <- p.Stop(force) }()
	select {
	case err := <-errc:
		return err
	case <-time.After(testTimeout):
		return fmt.Errorf("Stop(%v) of %s did not return", force, p.Name())
	}
}

func requireLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc (Linux)")
	}
}

// alive reports whether pid is a live process (a zombie counts as dead:
// nothing may reap orphans inside a container).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// groupMembers returns the live processes whose process group is pgid.
func groupMembers(pgid int) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 2 && fields[0] != "Z" && fields[2] == strconv.Itoa(pgid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// eventually polls cond every 20ms until it holds or the test times out.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
