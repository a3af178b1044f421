package certs

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/devstack-dev/devstack/internal/hint"
)

// caCommonName is the CA's subject CN. Trust stores show it, and smallstep's
// truststore derives the NSS nickname and system file name from it.
const caCommonName = "devstack development CA"

// caValidity matches mkcert's ten years: the CA is trusted by hand once and
// should outlive the project.
const caValidity = 10

// create mints a new CA in dir. It never overwrites: when either file already
// exists the error wraps fs.ErrExist.
func create(dir string, now time.Time) (*CA, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, hint.Wrap(fmt.Errorf("creating the CA directory: %w", err),
			"set CAROOT to a directory this user can write to")
	}
	tpl := &x509.Certificate{
		Subject: pkix.Name{
			Organization: []string{caCommonName},
			// iOS and most trust-store UIs list a CA by its CN.
			CommonName: caCommonName,
		},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(caValidity, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	ca, err := issue(tpl, nil, nil, "CA")
	if err != nil {
		return nil, err
	}
	// The key goes first: a directory with rootCA.pem is then always
	// complete, and a lone key left by a crash is reported, never replaced.
	if err := writeNew(filepath.Join(dir, RootKeyFile), ca.keyPEM, 0o400); err != nil {
		return nil, err
	}
	if err := writeNew(filepath.Join(dir, RootCertFile), ca.certPEM, 0o644); err != nil {
		return nil, err
	}
	return &CA{Dir: dir, Cert: ca.cert, key: ca.key}, nil
}

// writeNew writes data to path atomically and only if path does not exist:
// the bytes go to a temporary file that is then hard-linked into place, which
// fails (fs.ErrExist) instead of replacing a file someone else wrote.
func writeNew(path string, data []byte, perm os.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("refusing to overwrite %s: %w", path, fs.ErrExist)
		}
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// writeReplace writes data to path atomically, replacing any previous file.
// It is for caches only (the leaf), never for the CA.
func writeReplace(path string, data []byte, perm os.FileMode) error {
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func writeTemp(path string, data []byte, perm os.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	name := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(name)
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return name, nil
}

// randomSerial is a random positive 128-bit serial number.
func randomSerial() *big.Int {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+).
		panic(err)
	}
	return n.Add(n, big.NewInt(1))
}

// userAndHost names who minted the CA, as mkcert does, so a user looking at
// a trust store can tell whose it is.
func userAndHost() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}
