package certs

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/devstack-dev/devstack/internal/hint"
)

// The file names mkcert uses, so either tool can use the other's CA.
const (
	RootCertFile = "rootCA.pem"
	RootKeyFile  = "rootCA-key.pem"
)

// Dir returns the CA directory: $CAROOT when set, else mkcert's default
// location for this operating system (see dir_*.go).
func Dir() (string, error) {
	if dir := os.Getenv("CAROOT"); dir != "" {
		return filepath.Clean(dir), nil
	}
	dir, err := defaultDir()
	if err != nil {
		return "", hint.Wrap(err, "set CAROOT to the directory that should hold the CA (mkcert uses the same variable)")
	}
	return filepath.Join(dir, "mkcert"), nil
}

// defaultDir is the parent of mkcert's default CAROOT: the directory the
// system names in systemDataEnv (Windows), else XDG_DATA_HOME (mkcert
// honours it on every Unix system, macOS too), else homeDataDir in HOME.
// Each dir_*.go sets the two for its system.
func defaultDir() (string, error) {
	if systemDataEnv != "" {
		if dir := os.Getenv(systemDataEnv); dir != "" {
			return dir, nil
		}
	}
	if dir := os.Getenv("XDG_DATA_HOME"); dir != "" {
		return dir, nil
	}
	home := os.Getenv("HOME")
	if home == "" {
		return "", errNoHome
	}
	return filepath.Join(home, homeDataDir), nil
}

var errNoHome = errors.New("cannot find the CA directory: HOME is not set")
