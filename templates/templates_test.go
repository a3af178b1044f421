package templates

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

func TestWriteTo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	// A stale, read-only copy from an earlier run is replaced.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, Probe), []byte("stale"), 0o400); err != nil {
		t.Fatal(err)
	}
	if err := WriteTo(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range Names() {
		want, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: content differs from the embedded file", name)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fi.Mode().Perm(), os.FileMode(0o644); got != want {
			t.Errorf("%s: mode %v, want %v", name, got, want)
		}
	}
}

func TestWriteToUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteTo(filepath.Join(file, "run")); err == nil {
		t.Error("WriteTo under a regular file: no error")
	}
}

func TestNamesAreEmbedded(t *testing.T) {
	entries, err := files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	// Every file is written, but the interpreter inspection, which
	// project runs with -c (InterpreterScript).
	if got, want := len(entries), len(Names())+1; got != want {
		t.Errorf("%d embedded files, Names lists %d and InterpreterScript is one", got, len(Names()))
	}
}

func TestParseMarker(t *testing.T) {
	tests := []struct {
		line string
		want Marker
		ok   bool
	}{
		{"devstack-gateway: ready pid=10 generation=1 gunicorn=20.1.0", Marker{MarkerReady, 10, 1, "", 0}, true},
		{"devstack-gateway: ready pid=10 generation=1 gunicorn=23.0.0 reload=standby", Marker{MarkerReady, 10, 1, ReloadStandby, 0}, true},
		{"devstack-gateway: reloading pid=10 generation=3\n", Marker{MarkerReloading, 10, 3, "", 0}, true},
		{"devstack-gateway: reloading pid=10 generation=3 via=standby reload=hup", Marker{MarkerReloading, 10, 3, "", 0}, true},
		{"devstack-gateway: worker booted pid=4242 generation=2", Marker{MarkerWorkerBooted, 4242, 2, "", 0}, true},
		{"devstack-gateway: ready pid=10 generation=1 gunicorn=20.1.0 reload=restart graceful_timeout=2.5", Marker{MarkerReady, 10, 1, ReloadRestart, 2500 * time.Millisecond}, true},
		{"devstack-gateway: ready pid=10 generation=1 reload=hup graceful_timeout=-1", Marker{MarkerReady, 10, 1, ReloadHUP, 0}, true},
		{"devstack-gateway: retired pid=10 generation=3", Marker{MarkerRetired, 10, 3, "", 0}, true},
		{"devstack-gateway: preimported 11 modules in 0.25s", Marker{}, false},
		{"devstack-gateway: worker booted pid=x generation=2", Marker{}, false},
		{"devstack-gateway: worker booted pid=12", Marker{}, false},
		{"[INFO] devstack-gateway: ready pid=10 generation=1", Marker{}, false},
		{"", Marker{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseMarker(tt.line)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseMarker(%q) = %+v, %v; want %+v, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMarkerKindString(t *testing.T) {
	if got, want := MarkerWorkerBooted.String(), "worker booted"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := MarkerKind(0).String(), "MarkerKind(0)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNewProbePath(t *testing.T) {
	a, err := NewProbePath()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewProbePath()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^/\.devstack/probe/[0-9a-f]{32}$`).MatchString(a) {
		t.Errorf("probe path %q has the wrong shape", a)
	}
	if a == b {
		t.Errorf("two probe paths are equal: %q", a)
	}
}
