package certs

import "testing"

func TestDirDarwinDefault(t *testing.T) {
	t.Setenv("CAROOT", "")
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/Users/u")
	if got, err := Dir(); err != nil || got != "/Users/u/Library/Application Support/mkcert" {
		t.Errorf("Dir: got %q, %v; want mkcert's macOS default", got, err)
	}
}
