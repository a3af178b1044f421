package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCreateMintsAnMkcertShapedCA(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ca := mustCreate(t, now)
	c := ca.Cert

	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("CA key: got %T, want ECDSA P-256", c.PublicKey)
	}
	if !c.IsCA || !c.BasicConstraintsValid {
		t.Error("CA certificate is not CA:TRUE")
	}
	if c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Errorf("MaxPathLen: got %d (zero=%v), want 0", c.MaxPathLen, c.MaxPathLenZero)
	}
	if c.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("KeyUsage %v lacks CertSign", c.KeyUsage)
	}
	if got, want := c.Subject.CommonName, "devstack development CA"; got != want {
		t.Errorf("CN: got %q, want %q", got, want)
	}
	if len(c.Subject.OrganizationalUnit) != 1 || !strings.Contains(c.Subject.OrganizationalUnit[0], "@") {
		t.Errorf("OU: got %q, want user@host", c.Subject.OrganizationalUnit)
	}
	if got, want := c.NotAfter, now.AddDate(10, 0, 0); !got.Equal(want) {
		t.Errorf("NotAfter: got %v, want %v", got, want)
	}
	if !c.NotBefore.Before(now) {
		t.Errorf("NotBefore %v is not before %v", c.NotBefore, now)
	}
	if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() < 64 {
		t.Errorf("serial %v is not a large positive random number", c.SerialNumber)
	}
	if other := mustCreate(t, now); other.Cert.SerialNumber.Cmp(c.SerialNumber) == 0 {
		t.Error("two CAs got the same serial number")
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Errorf("CA is not self-signed: %v", err)
	}
}

func TestCreateWritesMkcertFiles(t *testing.T) {
	ca := mustCreate(t, time.Now())
	for _, f := range []struct {
		name  string
		mode  os.FileMode
		block string
	}{
		{RootCertFile, 0o644, "-----BEGIN CERTIFICATE-----"},
		{RootKeyFile, 0o400, "-----BEGIN PRIVATE KEY-----"}, // PKCS#8, as mkcert
	} {
		p := filepath.Join(ca.Dir, f.name)
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != f.mode {
			t.Errorf("%s mode: got %v, want %v", f.name, got, f.mode)
		}
		data, _ := os.ReadFile(p)
		if !strings.HasPrefix(string(data), f.block) {
			t.Errorf("%s does not start with %q", f.name, f.block)
		}
	}
	entries, _ := os.ReadDir(ca.Dir)
	if len(entries) != 2 {
		t.Errorf("CA directory holds %d entries, want only the two files (no temp files left)", len(entries))
	}
}

func TestLoadOrCreateReusesTheCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "caroot")
	first, created, err := LoadOrCreate(dir)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreate: created=%v err=%v", created, err)
	}
	snap := takeSnapshot(t, dir)
	second, created, err := LoadOrCreate(dir)
	if err != nil || created {
		t.Fatalf("second LoadOrCreate: created=%v err=%v", created, err)
	}
	if first.Fingerprint() != second.Fingerprint() {
		t.Error("second LoadOrCreate returned a different CA")
	}
	if second.Keyless() {
		t.Error("loaded CA has no key")
	}
	snap.assertUnchanged(t, dir)
}

func TestLoadOrCreateConcurrentMintsOneCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "caroot")
	var wg sync.WaitGroup
	fps := make([]string, 8)
	errs := make([]error, 8)
	for i := range fps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ca, _, err := LoadOrCreate(dir)
			errs[i] = err
			if err == nil {
				fps[i] = ca.Fingerprint()
			}
		}()
	}
	wg.Wait()
	for i := range fps {
		if errs[i] != nil {
			t.Errorf("LoadOrCreate %d: %v", i, errs[i])
			continue
		}
		if disk := readCert(t, filepath.Join(dir, RootCertFile)); fingerprint(disk) != fps[i] {
			t.Errorf("LoadOrCreate %d returned a CA that is not the one on disk", i)
		}
	}
}

func fingerprint(c *x509.Certificate) string { return (&CA{Cert: c}).Fingerprint() }

func TestLoadMissingIsErrNoCA(t *testing.T) {
	for _, dir := range []string{
		filepath.Join(t.TempDir(), "absent"),
		t.TempDir(), // exists, empty
	} {
		_, err := Load(dir)
		if !errors.Is(err, ErrNoCA) {
			t.Errorf("Load(%s): got %v, want ErrNoCA", dir, err)
		}
		wantErr(t, err, "devstack ca install", dir)
	}
}

func TestPoolAndFingerprint(t *testing.T) {
	ca := mustCreate(t, time.Now())
	if _, err := ca.Cert.Verify(x509.VerifyOptions{Roots: ca.Pool()}); err != nil {
		t.Errorf("CA does not verify against its own pool: %v", err)
	}
	fp := ca.Fingerprint()
	if len(fp) != 64 || strings.Trim(fp, "0123456789abcdef") != "" {
		t.Errorf("fingerprint %q is not 64 lowercase hex digits", fp)
	}
}

func TestWriteNewNeverOverwrites(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	writeFile(t, p, []byte("original"), 0o600)
	err := writeNew(p, []byte("new"), 0o600)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("writeNew over an existing file: got %v, want ErrExist", err)
	}
	if data, _ := os.ReadFile(p); string(data) != "original" {
		t.Errorf("file content: got %q, want the original", data)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("%d entries left, want 1 (temp file removed)", len(entries))
	}
}

func TestDir(t *testing.T) {
	t.Setenv("CAROOT", "/some/where/")
	if got, err := Dir(); err != nil || got != "/some/where" {
		t.Errorf("Dir with CAROOT: got %q, %v", got, err)
	}
	t.Setenv("CAROOT", "")
	t.Setenv("XDG_DATA_HOME", "/xdg")
	if got, err := Dir(); err != nil || got != "/xdg/mkcert" {
		t.Errorf("Dir with XDG_DATA_HOME: got %q, %v", got, err)
	}
}
