//go:build !linux

package tui

import (
	"os"
	"testing"
)

func openPTY(t *testing.T) *os.File {
	t.Skip("opening a pseudo-terminal is only done on Linux in these tests")
	return nil
}
