//go:build unix

package orchestrator

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
)

// psCommandLine returns pid's command line as ps shows it, "" when it
// cannot be read (or ctx ends first).
func psCommandLine(ctx context.Context, pid int) string {
	out, err := exec.CommandContext(ctx, "ps", "-o", "command=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
