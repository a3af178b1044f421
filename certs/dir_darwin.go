package certs

import "path/filepath"

// mkcert's default CAROOT on macOS is below ~/Library/Application Support.
var (
	systemDataEnv = ""
	homeDataDir   = filepath.Join("Library", "Application Support")
)
