// Package cachedir says where devstack keeps what it reuses between runs:
// leaf certificates, the interpreter checks, learned pre-imports and the
// records of running stacks.
package cachedir

import (
	"errors"
	"os"
	"path/filepath"
)

// Env names the variable that puts devstack's cache somewhere else. Tests
// set it: os.UserCacheDir follows XDG_CACHE_HOME on Linux only (macOS has
// ~/Library/Caches), so that variable alone would send a test on macOS to
// the user's real cache.
const Env = "DEVSTACK_CACHE_DIR"

// Dir returns devstack's cache directory: $DEVSTACK_CACHE_DIR when set,
// else "devstack" in the user's cache directory ($XDG_CACHE_HOME or
// ~/.cache on Linux, ~/Library/Caches on macOS). It is not created here.
func Dir() (string, error) {
	if dir := os.Getenv(Env); dir != "" {
		if !filepath.IsAbs(dir) {
			return "", errors.New(Env + " must be an absolute path")
		}
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "devstack"), nil
}
