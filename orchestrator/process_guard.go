package orchestrator

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The guard keeps devstack's children from outliving it on every OS.
//
// Linux's Pdeathsig kills a child when devstack dies, but only the child
// itself (not the workers or the pipeline it started), and macOS has no
// Pdeathsig at all: there, a devstack killed with SIGKILL or crashing would
// leave gunicorn and the Procfile processes running, holding their ports.
//
// So the first child devstack starts also starts a guard: devstack's own
// binary again, in a session of its own, reading a pipe whose only writer is
// devstack. devstack tells it each process group it starts ("+ PGID START")
// and each one that has ended ("- PGID"). The pipe reaches end-of-file when
// devstack exits, however it exits — the kernel closes its descriptors — and
// the guard then stops every group still listed (SIGTERM, then SIGKILL after
// guardGrace) and exits. After a clean stop the list is empty.

// guardEnv marks the process started as the guard.
const guardEnv = "DEVSTACK_INTERNAL_GUARD"

// guardGrace is how long the guard waits after SIGTERM before SIGKILL.
const guardGrace = 2 * time.Second

// testOnlyNoGuard starts no guard, so that tests can leave children behind
// on purpose (with Pdeathsig off too) and show the next up reaping them.
var testOnlyNoGuard = os.Getenv("DEVSTACK_TESTONLY_NO_GUARD") == "1"

var guard struct {
	mu      sync.Mutex
	enabled bool     // GuardMain was called: this binary can run the guard
	w       *os.File // the pipe to the guard; nil until the first child
	broken  bool     // starting or writing to the guard failed; not retried
}

// GuardMain must be called first thing in main, and in the TestMain of a
// test binary whose tests start processes: when this process was started as
// devstack's guard it runs the guard and exits; otherwise it lets this
// process start a guard for its children. A binary that never calls it
// starts none (and keeps only Pdeathsig, on Linux).
func GuardMain() {
	if os.Getenv(guardEnv) != "1" {
		guard.mu.Lock()
		guard.enabled = !testOnlyNoGuard
		guard.mu.Unlock()
		return
	}
	// Only end-of-file on the pipe ends the guard. (Not in runGuard: an
	// ignored signal is inherited by every program a process starts.)
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)
	os.Exit(runGuard(os.Stdin))
}

// guardWatch tells the guard about a new process group led by pid, whose
// start token is start, starting the guard first if there is none yet. A
// guard that cannot be started is not an error for the child: it runs
// unguarded, as it would without this.
func guardWatch(pid int, start string) {
	guardSend(fmt.Sprintf("+ %d %s\n", pid, start), true)
}

// guardForget tells the guard that the group led by pid has ended.
func guardForget(pid int) {
	guardSend(fmt.Sprintf("- %d\n", pid), false)
}

func guardSend(line string, start bool) {
	guard.mu.Lock()
	defer guard.mu.Unlock()
	if !guard.enabled || guard.broken {
		return
	}
	if guard.w == nil {
		if !start {
			return
		}
		w, err := startGuard()
		if err != nil {
			guard.broken = true
			return
		}
		guard.w = w
	}
	if _, err := io.WriteString(guard.w, line); err != nil {
		guard.broken = true
	}
}

// startGuard starts the guard process and returns the write end of its pipe.
func startGuard() (*os.File, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe() // close-on-exec: no child but the guard gets an end
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// "guard" names it in ps; the environment, not the argument, makes it
	// one (GuardMain runs before any argument is parsed).
	cmd := exec.Command(exe, "guard")
	cmd.Env = append(os.Environ(), guardEnv+"=1")
	cmd.Dir = "/"
	cmd.Stdin = r
	// Its own session: a Ctrl-C or a hang-up on devstack's terminal, or a
	// kill of devstack's process group, must not take the guard with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, err
	}
	// The guard outlives devstack by design; it is never waited for, and
	// when devstack exits first it is reparented and reaped by the system.
	go cmd.Wait()
	return w, nil
}

// runGuard reads the list of process groups from r until end-of-file, then
// stops those still listed. It returns the exit code.
func runGuard(r io.Reader) int {
	groups := map[int]string{} // pgid → the leader's start token
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		pgid, err := strconv.Atoi(f[1])
		if err != nil || pgid <= 1 {
			continue
		}
		switch {
		case f[0] == "+" && len(f) == 3:
			groups[pgid] = f[2]
		case f[0] == "-":
			delete(groups, pgid)
		}
	}
	var ours []int
	for pgid, start := range groups {
		if ownedGroup(pgid, start) {
			ours = append(ours, pgid)
		}
	}
	stopGroups(ours, guardGrace)
	return 0
}

// stopGroups sends SIGTERM to every group of ours (groups ownedGroup
// vouched for), waits up to grace for them to go, and sends SIGKILL to
// what is left.
func stopGroups(ours []int, grace time.Duration) {
	for _, pgid := range ours {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(grace)
	for len(ours) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		ours = stillRunning(ours)
	}
	for _, pgid := range ours {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// stillRunning returns the groups of pgids that still have a process.
func stillRunning(pgids []int) []int {
	left := pgids[:0]
	for _, pgid := range pgids {
		if groupExists(pgid) {
			left = append(left, pgid)
		}
	}
	return left
}

// groupExists reports whether any process is in group pgid.
func groupExists(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ownedGroup reports whether group pgid is still the one devstack started,
// whose leader began at start ("-" when that could not be read): the leader
// is alive with the same start time, or it is gone and members of its group
// remain (a process ID is not reused while a group still carries it).
func ownedGroup(pgid int, start string) bool {
	if !groupExists(pgid) {
		return false
	}
	now, alive := processStart(pgid)
	if !alive || start == "-" {
		return true
	}
	return now == start
}
