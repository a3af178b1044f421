package cachedir

import (
	"path/filepath"
	"runtime"
	"testing"
)

func TestDir(t *testing.T) {
	t.Setenv(Env, "/tmp/elsewhere")
	if got, err := Dir(); err != nil || got != "/tmp/elsewhere" {
		t.Errorf("with %s set: got %q, %v", Env, got, err)
	}
	t.Setenv(Env, "relative")
	if _, err := Dir(); err == nil {
		t.Errorf("a relative %s was accepted", Env)
	}
	t.Setenv(Env, "")
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", "")
	want := filepath.Join(home, ".cache", "devstack")
	if runtime.GOOS == "darwin" {
		want = filepath.Join(home, "Library", "Caches", "devstack")
	}
	if got, err := Dir(); err != nil || got != want {
		t.Errorf("by default: got %q, %v; want %q", got, err, want)
	}
}
