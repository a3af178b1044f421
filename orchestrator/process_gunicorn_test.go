package orchestrator

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/internal/testenv"
)

// TestGunicornHUPAndStop runs the real gateway the supervisor exists for:
// SIGHUP to the master replaces the workers without restarting the master,
// and Stop takes the master and its workers down.
func TestGunicornHUPAndStop(t *testing.T) {
	requireLinux(t)
	gunicorn := "/usr/bin/gunicorn"
	if _, err := os.Stat(gunicorn); err != nil {
		testenv.Missing(t, "%s (apt-get install gunicorn)", gunicorn)
	}
	dir := t.TempDir()
	// Each worker says when it has loaded the app: by then it has its own
	// signal handlers (before, it runs the master's, which swallow SIGTERM).
	app := "import os, sys\nprint('app loaded', os.getpid(), file=sys.stderr, flush=True)\n" +
		"def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n"
	if err := os.WriteFile(filepath.Join(dir, "hello.py"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	spec := ProcessSpec{
		Name: "web",
		Argv: []string{gunicorn, "--workers", "2", "--bind", "127.0.0.1:" + strconv.Itoa(port), "hello:app"},
		Dir:  dir,
		Env:  []string{"PYTHONUNBUFFERED=1"},
		// As the gateway runs it: a group-wide TERM can be swallowed by a
		// worker that is still booting (see TermLeaderOnly).
		TermLeaderOnly: true,
	}
	p, rec := startProcess(t, spec)
	master := p.Status().PID
	booted := func(after int) func(events.Event) bool {
		n := 0
		return func(e events.Event) bool {
			// Counted, not matched: print() writes the text and the
			// newline apart, so two workers' lines can share one.
			if e.Kind == events.KindLog {
				n += strings.Count(e.Text, "app loaded")
			}
			return n >= after
		}
	}
	rec.waitFor(t, "two workers", booted(2))
	var workers []int
	eventually(t, "the workers in the group", func() bool {
		workers = groupMembers(master)
		return len(workers) == 3
	})

	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "two new workers after HUP", booted(4))
	if st := p.Status(); st.PID != master || st.State != events.StateRunning || st.Restarts != 0 {
		t.Errorf("after HUP: %+v, want the same master %d running", st, master)
	}

	members := groupMembers(master)
	if err := stopWithin(p, false); err != nil {
		t.Fatal(err)
	}
	if got, want := p.Status().LastExit, "exit code 0"; got != want {
		t.Errorf("gunicorn after SIGTERM: got %q, want %q (a graceful shutdown)", got, want)
	}
	for _, pid := range append(members, workers...) {
		eventually(t, "gunicorn process "+strconv.Itoa(pid)+" to end", func() bool { return !alive(pid) })
	}
	if err := CheckPortFree("127.0.0.1", port); err != nil {
		t.Errorf("port still taken after Stop: %v", err)
	}
}
