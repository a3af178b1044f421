package session

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/doctor"
	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/internal/record"
	"github.com/devstack-dev/devstack/internal/testenv"
	"github.com/devstack-dev/devstack/project"
)

// isolate gives the test its own CA and cache directories.
func isolate(t *testing.T) {
	t.Setenv("CAROOT", t.TempDir())
	t.Setenv("DEVSTACK_CACHE_DIR", t.TempDir())
	t.Setenv("NO_COLOR", "1")
}

func freePort(t *testing.T) int {
	t.Helper()
	port, err := freeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// follow records a session's events until they end.
type follow struct {
	*record.Log[events.Event]
	ended chan struct{}
}

func followEvents(ch <-chan []events.Event) *follow {
	f := &follow{record.New[events.Event](), make(chan struct{})}
	go func() {
		defer close(f.ended)
		for batch := range ch {
			for _, e := range batch {
				f.Add(e)
			}
		}
	}()
	return f
}

// await returns the first event that match accepts, or fails the test.
func (f *follow) await(t *testing.T, what string, timeout time.Duration, match func(events.Event) bool) events.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	e, _, err := f.Wait(ctx, 0, f.ended, match)
	if err != nil {
		t.Fatalf("no %s: %v", what, err)
	}
	return e
}

func message(prefix string) func(events.Event) bool {
	return func(e events.Event) bool { return e.Kind == events.KindMessage && strings.HasPrefix(e.Text, prefix) }
}

// TestSessionThenDoctorThroughIt starts a session on the sample site from
// Go (no devstack binary), waits for the trust watcher's verdict, runs the
// doctor, which must go through the running session, and stops it.
func TestSessionThenDoctorThroughIt(t *testing.T) {
	python := testenv.SystemPython(t)
	isolate(t)
	dir := testenv.CopyProject(t, "django-site")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	port := freePort(t)
	var notices []Notice
	s, err := Start(ctx, dir, Options{
		Flags:   project.Overrides{Python: python, Port: port, AppPort: freePort(t)},
		NoWatch: true,
		Notify:  func(n Notice) { notices = append(notices, n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			s.Stop(true)
		}
	}()
	f := followEvents(s.Batches())
	if len(notices) != 1 || !strings.HasPrefix(notices[0].Text, "created a local certificate authority in ") || notices[0].Hint == "" {
		t.Errorf("notices on first use: got %+v, want the new CA with a hint", notices)
	}
	f.await(t, "ready message", time.Minute, message("ready https://localhost:"))
	verdict := f.await(t, "trust check summary", time.Minute, message("trust check: "))
	if !strings.HasPrefix(verdict.Text, "trust check: all ") && !strings.HasPrefix(verdict.Text, "trust check: 0 failed") {
		t.Errorf("the sample site's trust settings are right, yet: %s", verdict.Text)
	}
	if st := s.Status(); !st.Ready || st.Gateway.Name == "" || st.Gateway.State != events.StateRunning {
		t.Errorf("status: got %+v, want a ready stack with a running gateway", st)
	}

	var rec RunRecord
	for deadline := time.Now().Add(10 * time.Second); ; {
		if rec, err = FindRunning(s.Project.Dir); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no run record for %s: %v", s.Project.Dir, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rec.PID != os.Getpid() || !strings.HasSuffix(rec.Origin, net.JoinHostPort("localhost", strconv.Itoa(port))) {
		t.Errorf("run record: got %+v", rec)
	}

	report, err := Doctor(ctx, dir, Options{Flags: project.Overrides{Python: python}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := report.About.Via, "the running devstack up (pid "; !strings.HasPrefix(got, want) {
		t.Errorf("doctor went through %q, want %q…", got, want)
	}
	if fails, warns, passes := doctor.Counts(report.Checks); fails != 0 || passes == 0 {
		t.Errorf("doctor on the sample site: %d failed, %d warnings, %d passed: %+v", fails, warns, passes, report.Checks)
	}

	s.Stop(false)
	stopped = true
	select {
	case <-f.ended:
		if !slices.ContainsFunc(f.Items(), message("stopping")) {
			t.Error("no stopping message before the events ended")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the events did not end after Stop")
	}
	if _, err := FindRunning(s.Project.Dir); err == nil {
		t.Error("the run record outlived the session")
	}
	if _, err := os.Stat(s.run.runDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the run directory outlived the session: %v", err)
	}
}

// TestDoctorStartsItsOwnStack runs the doctor on a misconfigured site with
// no session running: it starts a short-lived stack, finds the wrong
// header and leaves nothing behind.
func TestDoctorStartsItsOwnStack(t *testing.T) {
	python := testenv.SystemPython(t)
	isolate(t)
	dir := testenv.CopyProject(t, "django-misconfig/wrong-proxy-header")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	report, err := Doctor(ctx, dir, Options{Flags: project.Overrides{Python: python}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := report.About.Via, "a short-lived stack"; got != want {
		t.Errorf("via: got %q, want %q", got, want)
	}
	if !strings.HasPrefix(report.About.Framework, "django ") || !strings.HasPrefix(report.About.Server, "gunicorn ") {
		t.Errorf("about: got %+v, want django under gunicorn", report.About)
	}
	i := slices.IndexFunc(report.Checks, func(r events.CheckResult) bool { return r.ID == doctor.IDProxySSLHeader })
	if i < 0 || report.Checks[i].Status != events.Fail || report.Checks[i].Fix == "" {
		t.Errorf("checks: got %+v, want %s failing with a fix", report.Checks, doctor.IDProxySSLHeader)
	}
}

// TestDoctorReportsAGatewayThatCannotStart pins the error for an app that
// does not load: the gateway's last lines, and a hint.
func TestDoctorReportsAGatewayThatCannotStart(t *testing.T) {
	python := testenv.SystemPython(t)
	isolate(t)
	dir := testenv.CopyProject(t, "django-site")
	settings := filepath.Join(dir, "mysite", "settings.py")
	src, err := os.ReadFile(settings)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(settings, append([]byte("import no_such_module_here\n"), src...), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err = Doctor(ctx, dir, Options{Flags: project.Overrides{Python: python}})
	if err == nil {
		t.Fatal("doctor ran on an app that cannot load")
	}
	var h interface{ Hint() string }
	if !errors.As(err, &h) || h.Hint() == "" {
		t.Errorf("error without a hint: %v", err)
	}
	if !strings.Contains(err.Error(), "no_such_module_here") {
		t.Errorf("error does not show the gateway's last lines: %v", err)
	}
}
