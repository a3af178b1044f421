package certs

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// snapshot records every file under dir (bytes and mode) so a test can prove
// that a failing call changed nothing.
type snapshot map[string]string

func takeSnapshot(t *testing.T, dir string) snapshot {
	t.Helper()
	s := snapshot{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var data []byte
		if d.Type().IsRegular() {
			if data, err = os.ReadFile(p); err != nil {
				return err
			}
		}
		s[p] = info.Mode().String() + "\n" + string(data)
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot of %s: %v", dir, err)
	}
	return s
}

func (s snapshot) assertUnchanged(t *testing.T, dir string) {
	t.Helper()
	now := takeSnapshot(t, dir)
	for p, v := range s {
		if w, ok := now[p]; !ok {
			t.Errorf("%s was removed", p)
		} else if w != v {
			t.Errorf("%s was changed", p)
		}
	}
	for p := range now {
		if _, ok := s[p]; !ok {
			t.Errorf("%s was created", p)
		}
	}
}

// mustCreate mints a CA in a new directory as of now.
func mustCreate(t *testing.T, now time.Time) *CA {
	t.Helper()
	ca, err := create(filepath.Join(t.TempDir(), "caroot"), now)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// wantErr fails unless err is non-nil, its message contains every part, and
// it carries a hint containing hintPart.
func wantErr(t *testing.T, err error, hintPart string, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
	var h interface{ Hint() string }
	if !errors.As(err, &h) {
		t.Fatalf("error %q has no hint", err)
	}
	if !strings.Contains(h.Hint(), hintPart) {
		t.Errorf("hint %q does not contain %q", h.Hint(), hintPart)
	}
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCertPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pemBytes(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func writeFile(t *testing.T, path string, data []byte, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatal(err)
	}
}
