//go:build unix

package certs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestUnreadableCADirectory runs Load as a user who cannot read the CA
// directory or the key. As root (who can read anything) it re-runs this
// test binary as nobody.
func TestUnreadableCADirectory(t *testing.T) {
	base, err := os.MkdirTemp("", "devstack-unreadable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)

	noDir := mustCreateIn(t, filepath.Join(base, "nodir"))
	noKey := mustCreateIn(t, filepath.Join(base, "nokey"))
	os.Chmod(noKey.Dir, 0o755)
	snaps := []snapshot{takeSnapshot(t, noDir.Dir), takeSnapshot(t, noKey.Dir)}
	if err := os.Chmod(noDir.Dir, 0o000); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(noDir.Dir, 0o755) })

	var out string
	if os.Geteuid() == 0 {
		out = runAsNobody(t, base, noDir.Dir, noKey.Dir)
	} else {
		out = describeLoads(noDir.Dir, noKey.Dir)
	}
	for _, want := range []string{
		"opening the CA directory", "permission denied", "make " + noDir.Dir + " readable by this user",
		"reading the CA key", "run devstack as the user who owns " + filepath.Join(noKey.Dir, RootKeyFile),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not contain %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "created=true") {
		t.Errorf("a CA was minted:\n%s", out)
	}
	os.Chmod(noDir.Dir, 0o755)
	snaps[0].assertUnchanged(t, noDir.Dir)
	snaps[1].assertUnchanged(t, noKey.Dir)
}

func mustCreateIn(t *testing.T, dir string) *CA {
	t.Helper()
	ca, err := create(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// describeLoads runs LoadOrCreate on each dir and describes the outcomes.
func describeLoads(dirs ...string) string {
	var b strings.Builder
	for _, d := range dirs {
		_, created, err := LoadOrCreate(d)
		fmt.Fprintf(&b, "%s: created=%v err=%v\n", d, created, err)
		var h interface{ Hint() string }
		if errors.As(err, &h) {
			fmt.Fprintf(&b, "hint: %s\n", h.Hint())
		}
	}
	return b.String()
}

const helperEnv = "DEVSTACK_CERTS_TEST_LOAD_DIRS"

// TestLoadHelper is not a test: runAsNobody runs it in a child process.
func TestLoadHelper(t *testing.T) {
	dirs := os.Getenv(helperEnv)
	if dirs == "" {
		t.Skip("helper process for TestUnreadableCADirectory")
	}
	fmt.Print(describeLoads(strings.Split(dirs, string(os.PathListSeparator))...))
}

func runAsNobody(t *testing.T, base string, dirs ...string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary lives in a directory only root can enter: copy it.
	bin := filepath.Join(base, "certs.test")
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()

	cmd := exec.Command(bin, "-test.run=^TestLoadHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+strings.Join(dirs, string(os.PathListSeparator)))
	cmd.Dir = base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as nobody: %v\n%s", err, out)
	}
	return string(out)
}
