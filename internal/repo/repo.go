// Package repo finds devstack's source tree from inside it, for tests and
// benchmarks that need its testdata, scripts or .cache directory.
package repo

import (
	"errors"
	"os"
	"path/filepath"
)

// Root returns the directory holding go.mod, searched upwards from the
// working directory (a package directory under `go test`, the tree for a
// benchmark started from it).
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
