package templates

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// standbyEnv is gunicornEnv with the control FIFO devstack asks for.
func standbyEnv(t *testing.T, projectConf string) ([]string, string) {
	control := filepath.Join(t.TempDir(), "control")
	return append(gunicornEnv(projectConf, DjangoPreimport), EnvGatewayControl+"="+control), control
}

// requestReload does what devstack does: a line on the control FIFO, then
// SIGWINCH to the master.
func (g *gateway) requestReload(control string) {
	g.t.Helper()
	f, err := os.OpenFile(control, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		g.t.Fatalf("opening the control FIFO: %v", err)
	}
	_, err = f.WriteString("reload\n")
	f.Close()
	if err != nil {
		g.t.Fatal(err)
	}
	if err := g.cmd.Process.Signal(syscall.SIGWINCH); err != nil {
		g.t.Fatal(err)
	}
}

var bootingRE = regexp.MustCompile(`Booting worker with pid: (\d+)`)

// waitForked waits for gunicorn's "Booting worker" line (printed at every
// fork, standby or not) from line from and returns the pid and line.
func (g *gateway) waitForked(from int) (int, int) {
	g.t.Helper()
	var pid int
	i := g.waitLine(from, "a forked worker", func(l string) bool {
		m := bootingRE.FindStringSubmatch(l)
		if m != nil {
			pid, _ = strconv.Atoi(m[1])
		}
		return m != nil
	})
	return pid, i
}

// waitForks waits for gunicorn to have forked n workers in all.
func (g *gateway) waitForks(n int) {
	g.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(bootingRE.FindAllString(g.output(), -1)) < n {
		if time.Now().After(deadline) {
			g.t.Fatalf("gunicorn forked fewer than %d workers in 30 s", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitGone waits up to 10 s for a worker to have exited and been reaped.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
	}
	t.Errorf("worker %d still there 10 s after a newer generation booted", pid)
}

// waitReloading waits for the master's reloading marker of generation gen
// and checks how the generation came: via standby, fork or hup.
func (g *gateway) waitReloading(from, gen int, via string) int {
	g.t.Helper()
	m, i := g.waitMarker(from, MarkerReloading, gen)
	line := g.line(i)
	if m.Generation != gen || !strings.Contains(line, " via="+via) {
		g.t.Errorf("reload: %q, want generation %d via=%s", line, gen, via)
	}
	return i
}

func (g *gateway) line(i int) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lines[i]
}

// probeGeneration asks the probe until it answers from generation gen
// (old workers may finish a last request) and fails after 50 tries.
func (g *gateway) probeGeneration(gen int) {
	g.t.Helper()
	var r ProbeReport
	for i := 0; i < 50; i++ {
		if r = g.probe(testProbePath, browserHeaders(nil)); r.Generation == gen {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	g.t.Errorf("the probe still answers from generation %d, want %d", r.Generation, gen)
}

// A reload request is served by the standby worker: forked ahead of time,
// it is the one that boots the new generation; the older generation is
// stopped once it has, and the configured number of workers plus a new
// standby come back. Under each Django/gunicorn pair, with the project's own
// config (two workers, its post_worker_init hook). A SIGHUP is gunicorn's
// own reload, which must not be held up by the standby (gunicorn 23+ waits
// for every older worker to exit before it goes on).
func TestGunicornStandbyReload(t *testing.T) {
	python := testenv.SystemPython(t)
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			site := testdataDir(t, "django-site-gunicornconf")
			projectConf := filepath.Join(site, "gunicorn.conf.py")
			env, control := standbyEnv(t, projectConf)
			g := startGateway(t, gatewaySpec{
				python: python, pythonpath: s.pythonpath(t), dir: site, env: env,
				args: gunicornArgs(runDir(t), "mysite.wsgi"),
			})
			ready, _ := g.waitMarker(0, MarkerReady, 1)
			if ready.Reload != ReloadStandby {
				t.Fatalf("ready marker: reload=%q, want %q", ready.Reload, ReloadStandby)
			}
			first, i := g.waitMarker(0, MarkerWorkerBooted, 1)
			second, _ := g.waitMarker(i+1, MarkerWorkerBooted, 1)
			// The standby forks once a worker has booted.
			_, j := g.waitForked(0)
			_, j = g.waitForked(j + 1)
			standby, _ := g.waitForked(j + 1)

			mark := g.lineCount()
			g.requestReload(control)
			g.waitReloading(mark, 2, "standby")
			booted, i := g.waitMarker(mark, MarkerWorkerBooted, 2)
			if booted.PID != standby {
				t.Errorf("generation 2 booted in worker %d, want the standby %d", booted.PID, standby)
			}
			waitGone(t, first.PID)
			waitGone(t, second.PID)
			g.probeGeneration(2)
			// workers = 2: one more of generation 2, then a new standby.
			g.waitMarker(i+1, MarkerWorkerBooted, 2)
			// Counted in the whole output: the sample's print() writes its
			// line and newline apart, so two workers' lines can share one.
			if hooks := strings.Count(g.output(), "sample gunicorn.conf.py: post_worker_init pid="); hooks != 4 {
				t.Errorf("the project's post_worker_init ran %d times, want 4 (two workers, two generations)", hooks)
			}

			// A SIGHUP: gunicorn's own reload; generation 3 forks afresh.
			mark = g.lineCount()
			if err := g.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			hupAt := time.Now()
			g.waitReloading(mark, 3, "hup")
			g.waitMarker(mark, MarkerWorkerBooted, 3)
			g.probeGeneration(3)

			// A new standby forks beside generation 3 (forks so far: two
			// workers and a standby, the second worker of generation 2
			// and a standby, two workers of generation 3, a standby),
			// and serves generation 4.
			g.waitForks(8)
			mark = g.lineCount()
			g.requestReload(control)
			g.waitReloading(mark, 4, "standby")
			g.waitMarker(mark, MarkerWorkerBooted, 4)
			g.probeGeneration(4)
			if d := time.Since(hupAt); d > 10*time.Second {
				t.Errorf("a SIGHUP then a reload request took %s: the master was held up", d.Round(time.Second))
			}
			if t.Failed() {
				return
			}

			// Two requests in a row, once the standby beside generation 4
			// has forked: the second finds no standby yet and forks its
			// workers; the newest generation wins.
			g.waitForks(10)
			mark = g.lineCount()
			g.requestReload(control)
			g.waitReloading(mark, 5, "standby")
			g.requestReload(control)
			g.waitReloading(mark, 6, "fork")
			g.waitMarker(mark, MarkerWorkerBooted, 6)
			g.probeGeneration(6)
		})
	}
}

// The standby keeps its heartbeat up: with a 2 s worker timeout it is still
// there, and is the one used, after twice that.
func TestGunicornStandbyOutlivesTimeout(t *testing.T) {
	python := testenv.SystemPython(t)
	env, control := standbyEnv(t, "")
	g := startGateway(t, gatewaySpec{
		python: python, dir: testdataDir(t, "django-site"), env: env,
		args: append(gunicornArgs(runDir(t), "mysite.wsgi"), "--timeout", "2"),
	})
	// One worker, then the standby: gunicorn's second "Booting worker".
	// (Counted on stderr alone: markers come on a pipe of their own, so a
	// marker line may be read before or after a fork line.)
	_, j := g.waitForked(0)
	standby, _ := g.waitForked(j + 1)
	time.Sleep(5 * time.Second)
	if _, found := g.find(0, func(l string) bool { return strings.Contains(l, "WORKER TIMEOUT") }); found {
		t.Fatal("gunicorn timed a worker out")
	}
	mark := g.lineCount()
	g.requestReload(control)
	g.waitReloading(mark, 2, "standby")
	if booted, _ := g.waitMarker(mark, MarkerWorkerBooted, 2); booted.PID != standby {
		t.Errorf("generation 2 booted in %d, want the standby %d", booted.PID, standby)
	}
}

// With preload_app the app lives in the master, where a SIGHUP keeps the
// old modules: the master says only a restart brings new code, and keeps
// no standby.
func TestGunicornPreloadWantsRestart(t *testing.T) {
	python := testenv.SystemPython(t)
	env, control := standbyEnv(t, "")
	g := startGateway(t, gatewaySpec{
		python: python, dir: testdataDir(t, "django-site"), env: env,
		args: append(gunicornArgs(runDir(t), "mysite.wsgi"), "--preload"),
	})
	ready, _ := g.waitMarker(0, MarkerReady, 1)
	if ready.Reload != ReloadRestart {
		t.Errorf("ready marker with --preload: reload=%q, want %q", ready.Reload, ReloadRestart)
	}
	if _, err := os.Stat(control); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("control FIFO with --preload: %v, want none", err)
	}
}

// Without the control FIFO's path, reloads stay SIGHUPs.
func TestGunicornWithoutControlSaysHUP(t *testing.T) {
	python := testenv.SystemPython(t)
	g := startGateway(t, gatewaySpec{
		python: python, dir: testdataDir(t, "django-site"), env: gunicornEnv("", DjangoPreimport),
		args: gunicornArgs(runDir(t), "mysite.wsgi"),
	})
	if ready, _ := g.waitMarker(0, MarkerReady, 1); ready.Reload != ReloadHUP {
		t.Errorf("ready marker without %s: reload=%q, want %q", EnvGatewayControl, ready.Reload, ReloadHUP)
	}
}
