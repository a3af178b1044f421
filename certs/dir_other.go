//go:build !linux && !darwin

package certs

import (
	"os"
	"path/filepath"
	"runtime"
)

// defaultDir is the parent of mkcert's default CAROOT elsewhere: LocalAppData
// on Windows, the XDG data directory on other Unix systems.
func defaultDir() (string, error) {
	if runtime.GOOS == "windows" {
		if dir := os.Getenv("LocalAppData"); dir != "" {
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
	return filepath.Join(home, ".local", "share"), nil
}
