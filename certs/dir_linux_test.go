package certs

import "testing"

func TestDirLinuxDefault(t *testing.T) {
	t.Setenv("CAROOT", "")
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/u")
	if got, err := Dir(); err != nil || got != "/home/u/.local/share/mkcert" {
		t.Errorf("Dir: got %q, %v; want mkcert's Linux default", got, err)
	}
	t.Setenv("HOME", "")
	if _, err := Dir(); err == nil {
		t.Error("Dir without HOME, CAROOT or XDG_DATA_HOME: got no error")
	}
}
