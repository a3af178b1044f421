package certs

import (
	"os"
	"path/filepath"
)

// defaultDir is the parent of mkcert's default CAROOT on macOS. Like mkcert,
// an explicit XDG_DATA_HOME wins.
func defaultDir() (string, error) {
	if dir := os.Getenv("XDG_DATA_HOME"); dir != "" {
		return dir, nil
	}
	home := os.Getenv("HOME")
	if home == "" {
		return "", errNoHome
	}
	return filepath.Join(home, "Library", "Application Support"), nil
}
