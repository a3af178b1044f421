package watch

import (
	"fmt"
	"os"
	"testing"
)

// TestMain points HOME and git's config lookup at an empty directory, so no
// test reads the real user's git config or global excludes file (a global
// "*.log" or "build/" there would change what these tests see). Tests of
// the global excludes file set their own with t.Setenv.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "watch-home-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": "", "GIT_CONFIG_NOSYSTEM": "1",
	} {
		os.Setenv(k, v)
	}
	os.Unsetenv("GIT_CONFIG_GLOBAL")
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}
