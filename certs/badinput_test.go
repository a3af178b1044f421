package certs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Every case: a clear error with a hint, and not one byte changed on disk —
// by Load, and by LoadOrCreate, which must never mint over what is there.

func TestBadCADirectories(t *testing.T) {
	good := mustCreate(t, time.Now())
	other := mustCreate(t, time.Now())
	goodCert, _ := os.ReadFile(filepath.Join(good.Dir, RootCertFile))
	goodKey, _ := os.ReadFile(filepath.Join(good.Dir, RootKeyFile))
	otherKey, _ := os.ReadFile(filepath.Join(other.Dir, RootKeyFile))

	leafDir := t.TempDir()
	if _, err := good.NewLeaf(leafDir, nil); err != nil {
		t.Fatal(err)
	}
	leafCert, _ := os.ReadFile(filepath.Join(leafDir, LeafCertFile))

	expired := mustCreate(t, time.Now().AddDate(-11, 0, 0))
	expiredCert, _ := os.ReadFile(filepath.Join(expired.Dir, RootCertFile))
	expiredKey, _ := os.ReadFile(filepath.Join(expired.Dir, RootKeyFile))

	tests := []struct {
		name      string
		cert, key []byte // nil: file absent
		wantErr   []string
		wantHint  string
	}{
		{"corrupt certificate", []byte("this is not a certificate\n"), goodKey,
			[]string{RootCertFile, "not a valid CA certificate", "no PEM block"}, "aside"},
		{"truncated PEM", goodCert[:len(goodCert)/2], goodKey,
			[]string{RootCertFile, "not a valid CA certificate"}, "aside"},
		{"truncated DER", truncatedDER(t, goodCert), goodKey,
			[]string{RootCertFile, "may be truncated"}, "aside"},
		{"key in the certificate file", goodKey, goodKey,
			[]string{RootCertFile, `"PRIVATE KEY", want "CERTIFICATE"`}, "aside"},
		{"leaf certificate as CA", leafCert, goodKey,
			[]string{"is not a CA certificate"}, "aside"},
		{"key does not match", goodCert, otherKey,
			[]string{RootKeyFile, "does not match the certificate"}, "matching rootCA-key.pem"},
		{"corrupt key", goodCert, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
			[]string{RootKeyFile, "not a valid private key"}, "aside"},
		{"key without certificate", nil, goodKey,
			[]string{RootKeyFile, "exists but rootCA.pem does not"}, "aside"},
		{"expired CA", expiredCert, expiredKey,
			[]string{"expired on " + expired.Cert.NotAfter.UTC().Format(time.DateOnly)}, "devstack ca uninstall"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "caroot")
			if tt.cert != nil {
				writeFile(t, filepath.Join(dir, RootCertFile), tt.cert, 0o644)
			}
			if tt.key != nil {
				writeFile(t, filepath.Join(dir, RootKeyFile), tt.key, 0o400)
				old := time.Now().Add(-time.Hour) // not a mint in progress
				os.Chtimes(filepath.Join(dir, RootKeyFile), old, old)
			}
			snap := takeSnapshot(t, dir)

			_, err := Load(dir)
			wantErr(t, err, tt.wantHint, tt.wantErr...)
			if errors.Is(err, ErrNoCA) {
				t.Errorf("Load: %v is ErrNoCA; callers would mint over it", err)
			}
			_, created, err := LoadOrCreate(dir)
			wantErr(t, err, tt.wantHint, tt.wantErr...)
			if created {
				t.Error("LoadOrCreate minted a CA over a bad one")
			}
			snap.assertUnchanged(t, dir)
		})
	}
}

// truncatedDER keeps the PEM armour but drops half of the certificate body.
func truncatedDER(t *testing.T, certPEM []byte) []byte {
	c, err := parseCertPEM(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pemBytes("CERTIFICATE", c.Raw[:len(c.Raw)/2])
}

func TestCAROOTIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "caroot")
	writeFile(t, file, []byte("not a directory"), 0o644)
	snap := takeSnapshot(t, filepath.Dir(file))
	for name, load := range map[string]func(string) error{
		"Load":         func(d string) error { _, err := Load(d); return err },
		"LoadOrCreate": func(d string) error { _, _, err := LoadOrCreate(d); return err },
	} {
		err := load(file)
		wantErr(t, err, "point CAROOT at a directory", file, "is a file, not a directory")
		if errors.Is(err, ErrNoCA) {
			t.Errorf("%s: a file is reported as ErrNoCA", name)
		}
	}
	snap.assertUnchanged(t, filepath.Dir(file))
}

func TestKeylessCA(t *testing.T) {
	ca := mustCreate(t, time.Now())
	if err := os.Remove(filepath.Join(ca.Dir, RootKeyFile)); err != nil {
		t.Fatal(err)
	}
	snap := takeSnapshot(t, ca.Dir)

	loaded, created, err := LoadOrCreate(ca.Dir)
	if err != nil || created {
		t.Fatalf("LoadOrCreate of a keyless CA: created=%v err=%v", created, err)
	}
	if !loaded.Keyless() {
		t.Fatal("Keyless() = false for a CA without rootCA-key.pem")
	}
	if loaded.Fingerprint() != ca.Fingerprint() {
		t.Error("keyless load returned another CA")
	}
	cache := filepath.Join(t.TempDir(), "leaf")
	_, err = loaded.ServerTLSConfig(cache, nil)
	if !errors.Is(err, ErrKeyless) {
		t.Errorf("ServerTLSConfig on a keyless CA: got %v, want ErrKeyless", err)
	}
	wantErr(t, err, "put the CA's rootCA-key.pem back", "cannot issue the HTTPS certificate", RootKeyFile+" is missing")
	if _, err := os.Stat(cache); err == nil {
		t.Error("a leaf cache was created for a keyless CA")
	}
	snap.assertUnchanged(t, ca.Dir)
}
