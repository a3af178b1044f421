package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func pemCerts(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			t.Fatalf("the bundle holds a certificate that does not parse: %v", err)
		}
		out = append(out, b.Bytes)
	}
}

// The bundle holds every root the system trusts, the extra files' roots
// and devstack's CA, each once.
func TestBundleHoldsEverySystemRoot(t *testing.T) {
	sys := SystemRootsFile()
	if sys == "" {
		t.Skip("no system roots file on this machine")
	}
	sysData, err := os.ReadFile(sys)
	if err != nil {
		t.Fatal(err)
	}
	system := pemCerts(t, sysData)
	if len(system) == 0 {
		t.Fatalf("%s holds no certificate", sys)
	}
	ca := mustCreate(t, time.Now())
	other := mustCreate(t, time.Now())
	extra := filepath.Join(t.TempDir(), "cacert.pem")
	// certifi's file repeats system roots; the bundle keeps each once.
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Cert.Raw}), sysData...)
	if err := os.WriteFile(extra, data, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bundle.pem")
	if err := WriteBundle(path, ca.Cert, extra, filepath.Join(t.TempDir(), "missing.pem")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	certs := pemCerts(t, got)
	has := func(der []byte) bool {
		for _, c := range certs {
			if bytes.Equal(c, der) {
				return true
			}
		}
		return false
	}
	uniqueSystem := map[string]bool{}
	for _, der := range system {
		uniqueSystem[string(der)] = true
		if !has(der) {
			cert, _ := x509.ParseCertificate(der)
			t.Errorf("the bundle lacks the system root %q", cert.Subject)
		}
	}
	if !has(ca.Cert.Raw) || !has(other.Cert.Raw) {
		t.Error("the bundle lacks devstack's CA or the extra file's root")
	}
	if want := len(uniqueSystem) + 2; len(certs) != want {
		t.Errorf("the bundle holds %d certificates, want %d (each once)", len(certs), want)
	}
}
