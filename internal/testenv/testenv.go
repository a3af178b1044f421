// Package testenv lets tests that need real external programs (gunicorn,
// curl, certutil, Chromium…) say so. Locally a missing program skips the
// test with the command that installs it; under CI (CI=true) it fails, so a
// CI run can never pass by skipping the real thing.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/repo"
)

// InCI reports whether the tests run under CI, where every dependency that
// .ci/run installs must be present.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test (locally) or fails it (in CI) with the reason.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("missing test dependency: "+format, args...)
	}
	t.Skipf("missing test dependency: "+format, args...)
}

// LookPath returns the path of program or skips/fails the test when it is not
// installed; install names what provides it (e.g. "apt-get install curl").
func LookPath(t testing.TB, program, install string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		Missing(t, "%s not found on PATH (install: %s)", program, install)
	}
	return p
}

// CaddyVersion is the Caddy scripts/setup.sh builds into .cache/.
const CaddyVersion = "v2.11.9"

// Caddy returns a Caddy of version 2.7 or later (the one scripts/setup.sh
// builds, else one on PATH), or skips/fails the test.
func Caddy(t testing.TB) string {
	t.Helper()
	if root, err := repo.Root(); err == nil {
		p := filepath.Join(root, ".cache", "caddy-"+CaddyVersion, "caddy")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("caddy"); err == nil {
		out, _ := exec.Command(p, "version").Output()
		var major, minor int
		if _, err := fmt.Sscanf(strings.TrimPrefix(string(out), "v"), "%d.%d", &major, &minor); err == nil && (major > 2 || (major == 2 && minor >= 7)) {
			return p
		}
	}
	Missing(t, "Caddy 2.7 or later (run: scripts/setup.sh, which builds Caddy %s into .cache/)", CaddyVersion)
	return ""
}

// StartGroup starts cmd in a process group of its own (unless cmd already
// has SysProcAttr) and stops the whole group when the test ends: SIGTERM,
// then SIGKILL after grace. The returned channel is closed once cmd has
// exited.
func StartGroup(t testing.TB, cmd *exec.Cmd, grace time.Duration) <-chan struct{} {
	t.Helper()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", cmd.Args, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(grace):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	return exited
}

// CopyProject copies the sample project testdata/<name> of the repository
// into a temporary directory, so a test can edit its files. Symbolic links
// (samples share apps) are copied as the files they point to.
func CopyProject(t testing.TB, name string) string {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-RL", filepath.Join(root, "testdata", name), dst).CombinedOutput(); err != nil {
		t.Fatalf("copying testdata/%s: %v\n%s", name, err, out)
	}
	return dst
}
