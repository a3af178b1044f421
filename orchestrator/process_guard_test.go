package orchestrator

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A child, and what it started in its group, do not outlive a devstack
// killed with SIGKILL: through Pdeathsig and the guard on Linux, and through
// the guard alone — all that macOS has — with Pdeathsig switched off.
func TestChildrenDieWithDevstack(t *testing.T) {
	requireLinux(t) // groupMembers reads /proc
	for _, tc := range []struct {
		name      string
		pdeathsig bool
	}{
		{name: "with Pdeathsig", pdeathsig: true},
		{name: "guard only, as on macOS", pdeathsig: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			helper, child := startSupervisorHelper(t, !tc.pdeathsig)
			if n := len(groupMembers(child)); n != 2 {
				t.Fatalf("the child's group has %d live processes before its parent was killed, want 2", n)
			}
			killed := time.Now()
			if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			// The guard's SIGTERM ends sleep at once; its SIGKILL follows
			// after guardGrace at the latest.
			deadline := killed.Add(guardGrace + 3*time.Second)
			for len(groupMembers(child)) > 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%s after devstack was killed, its child's group still has %v", time.Since(killed).Round(time.Millisecond), groupMembers(child))
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// startSupervisorHelper starts the test binary as a small devstack (see
// testOnlySupervisorHelper) and returns it with its child's pid.
func startSupervisorHelper(t *testing.T, noPdeathsig bool) (*exec.Cmd, int) {
	t.Helper()
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), testOnlyHelperEnv+"=1")
	if noPdeathsig {
		helper.Env = append(helper.Env, "DEVSTACK_TESTONLY_NO_PDEATHSIG=1")
	}
	helper.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-helper.Process.Pid, syscall.SIGKILL)
		helper.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- strings.TrimSpace(line)
	}()
	select {
	case line := <-lines:
		child, err := strconv.Atoi(line)
		if err != nil {
			t.Fatalf("helper printed %q, want the child's pid", line)
		}
		t.Cleanup(func() { syscall.Kill(-child, syscall.SIGKILL) })
		return helper, child
	case <-time.After(testTimeout):
		t.Fatal("helper did not report its child")
	}
	return nil, 0
}

func TestGuardStopsOnlyWhatIsStillListed(t *testing.T) {
	var lastOut io.Reader // the last started command's output
	start := func(argv ...string) *exec.Cmd {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		lastOut = out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
		return cmd
	}
	listed := start("sleep", "60")
	forgotten := start("sleep", "60")
	// Ignores SIGTERM: needs the SIGKILL that follows the grace.
	stubborn := start("sh", "-c", "trap '' TERM; echo trapped; while :; do sleep 0.05; done")
	if line, err := bufio.NewReader(lastOut).ReadString('\n'); err != nil || line != "trapped\n" {
		t.Fatalf("the group ignoring SIGTERM did not start: %q, %v", line, err)
	}
	reused := start("sleep", "60") // stands for a pid reused by another program

	token := func(pid int) string {
		s, ok := processStart(pid)
		if !ok {
			t.Fatalf("no start time for pid %d", pid)
		}
		return s
	}
	list := "+ " + strconv.Itoa(listed.Process.Pid) + " " + token(listed.Process.Pid) + "\n" +
		"+ " + strconv.Itoa(forgotten.Process.Pid) + " " + token(forgotten.Process.Pid) + "\n" +
		"+ " + strconv.Itoa(stubborn.Process.Pid) + " " + token(stubborn.Process.Pid) + "\n" +
		"+ " + strconv.Itoa(reused.Process.Pid) + " 1\n" + // a start time that is not this process's
		"- " + strconv.Itoa(forgotten.Process.Pid) + "\n" +
		"garbage line\n"
	began := time.Now()
	if code := runGuard(strings.NewReader(list)); code != 0 {
		t.Fatalf("runGuard: exit code %d", code)
	}
	took := time.Since(began)

	exited := func(cmd *exec.Cmd) (string, bool) {
		done := make(chan string, 1)
		go func() {
			st, err := cmd.Process.Wait()
			if err != nil {
				done <- err.Error()
				return
			}
			done <- st.String()
		}()
		select {
		case how := <-done:
			return how, true
		case <-time.After(500 * time.Millisecond):
			return "", false
		}
	}
	if how, ok := exited(listed); !ok || !strings.Contains(how, "terminated") {
		t.Errorf("the listed group: %q, want it ended by SIGTERM", how)
	}
	if how, ok := exited(stubborn); !ok || !strings.Contains(how, "killed") {
		t.Errorf("the group ignoring SIGTERM: %q, want it ended by SIGKILL", how)
	}
	if took < guardGrace {
		t.Errorf("the guard returned after %s, before the grace for the stubborn group (%s)", took, guardGrace)
	}
	if _, ok := exited(forgotten); ok {
		t.Error("a group devstack said had ended was signalled")
	}
	if _, ok := exited(reused); ok {
		t.Error("a group whose leader's start time differs (a reused pid) was signalled")
	}
}
