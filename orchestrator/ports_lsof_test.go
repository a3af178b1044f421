//go:build unix

package orchestrator

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// The lsof lookup, which macOS uses, runs here too: it names the same
// holder as /proc does.
func TestPortHolderThroughLsof(t *testing.T) {
	if _, err := exec.LookPath("lsof"); err != nil {
		testenv.Missing(t, "lsof (apt-get install lsof)")
	}
	p, port := startPortHolder(t)

	h, ok := findPortHolderLsof("127.0.0.1", port)
	if !ok {
		t.Fatalf("lsof found no holder of port %d", port)
	}
	if h.PID != p.Status().PID || h.Command != "python3" {
		t.Errorf("holder: got %q (pid %d), want python3 (pid %d)", h.Command, h.PID, p.Status().PID)
	}
	if !strings.Contains(h.Cmdline, "import socket") {
		t.Errorf("command line %q is not the holder's", h.Cmdline)
	}
	if _, ok := findPortHolderLsof("127.0.0.1", port+1); ok && !listening(port+1) {
		t.Errorf("lsof found a holder of port %d, where nothing listens", port+1)
	}
}

func TestPortInUseHintNamesALookupCommand(t *testing.T) {
	hint := (&PortInUseError{Host: "127.0.0.1", Port: 8080}).Hint()
	for _, want := range []string{"8080", portLookupHint(8080), "--app-port"} {
		if !strings.Contains(hint, want) {
			t.Errorf("hint %q does not contain %q", hint, want)
		}
	}
}

func listening(port int) bool {
	return CheckPortFree("127.0.0.1", port) != nil
}
