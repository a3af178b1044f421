//go:build !linux && !darwin

package certs

import (
	"path/filepath"
	"runtime"
)

// mkcert's default CAROOT is in %LocalAppData% on Windows, and in the XDG
// data directory on other Unix systems.
var (
	systemDataEnv = map[bool]string{true: "LocalAppData"}[runtime.GOOS == "windows"]
	homeDataDir   = filepath.Join(".local", "share")
)
