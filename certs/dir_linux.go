package certs

import "path/filepath"

// mkcert's default CAROOT on Linux is in the XDG data directory.
var (
	systemDataEnv = ""
	homeDataDir   = filepath.Join(".local", "share")
)
