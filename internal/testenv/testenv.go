// Package testenv lets tests that need real external programs (gunicorn,
// curl, certutil, Chromium…) say so. Locally a missing program skips the
// test with the command that installs it; under CI (CI=true) it fails, so a
// CI run can never pass by skipping the real thing.
package testenv

import (
	"os"
	"os/exec"
	"testing"
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
