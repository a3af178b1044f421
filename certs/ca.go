// Package certs is devstack's local certificate authority: it loads or mints
// a CA in mkcert's directory and file layout, issues and renews the proxy's
// leaf certificate, and reports or changes whether the CA is trusted by the
// system, NSS (Firefox/Chromium) and Java trust stores.
package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/devstack-dev/devstack/internal/hint"
)

// CA is a loaded certificate authority.
type CA struct {
	// Dir is the directory holding rootCA.pem and rootCA-key.pem.
	Dir string
	// Cert is the CA certificate.
	Cert *x509.Certificate

	// key signs leaves; nil when the directory holds no key (keyless mode).
	key crypto.Signer

	// testOnlyNow replaces time.Now for leaf issuance and renewal; nil means
	// time.Now.
	testOnlyNow func() time.Time
}

// Keyless reports whether the CA has no private key, so it can be trusted
// but cannot issue certificates.
func (ca *CA) Keyless() bool { return ca.key == nil }

// CertPath is the path of the CA certificate file (rootCA.pem).
func (ca *CA) CertPath() string { return filepath.Join(ca.Dir, RootCertFile) }

// Pool returns a certificate pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
}

// Fingerprint is the SHA-256 of the CA certificate's DER encoding, lowercase hex.
func (ca *CA) Fingerprint() string {
	sum := sha256.Sum256(ca.Cert.Raw)
	return hex.EncodeToString(sum[:])
}

func (ca *CA) now() time.Time {
	if ca.testOnlyNow != nil {
		return ca.testOnlyNow()
	}
	return time.Now()
}

// hintMoveAside is the fix for a CA directory whose contents cannot be used:
// devstack never replaces them itself, because the old CA may be trusted.
func hintMoveAside(dir string) string {
	return fmt.Sprintf("restore the file from a backup, or move %s aside and run \"devstack ca install\" to mint and trust a new CA", dir)
}

// Load reads the CA in dir. It returns an error wrapping ErrNoCA when the
// directory (or rootCA.pem in it) does not exist; any other problem — a
// corrupt file, a key that does not match, an expired CA — is an error with a
// hint, and nothing is changed on disk.
func Load(dir string) (*CA, error) {
	return load(dir, time.Now())
}

func load(dir string, now time.Time) (*CA, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	certPath := filepath.Join(dir, RootCertFile)
	keyPath := filepath.Join(dir, RootKeyFile)

	certPEM, err := os.ReadFile(certPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, kerr := os.Lstat(keyPath); kerr == nil {
			return nil, hint.Wrap(
				fmt.Errorf("%s exists but %s does not: %w", keyPath, RootCertFile, errKeyWithoutCert),
				hintMoveAside(dir))
		}
		return nil, hint.Wrap(fmt.Errorf("%w in %s", ErrNoCA, dir),
			"run \"devstack ca install\" to create one and trust it")
	case errors.Is(err, fs.ErrPermission):
		return nil, hint.Wrap(fmt.Errorf("reading the CA certificate: %w", err),
			fmt.Sprintf("make %s readable by this user (it is mkcert's and devstack's CA file)", certPath))
	case err != nil:
		return nil, fmt.Errorf("reading the CA certificate: %w", err)
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, hint.Wrap(fmt.Errorf("%s is not a valid CA certificate: %w", certPath, err), hintMoveAside(dir))
	}
	if !cert.IsCA || !cert.BasicConstraintsValid {
		return nil, hint.Wrap(fmt.Errorf("%s is not a CA certificate (basic constraints CA:FALSE)", certPath), hintMoveAside(dir))
	}
	if now.After(cert.NotAfter) {
		return nil, hint.Wrap(
			fmt.Errorf("the CA in %s expired on %s", dir, cert.NotAfter.UTC().Format(time.DateOnly)),
			fmt.Sprintf("run \"devstack ca uninstall\", move %s aside, then run \"devstack ca install\" to mint and trust a new CA", dir))
	}

	ca := &CA{Dir: dir, Cert: cert}
	keyPEM, err := os.ReadFile(keyPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ca, nil // keyless: trust works, issuing leaves does not
	case errors.Is(err, fs.ErrPermission):
		return nil, hint.Wrap(fmt.Errorf("reading the CA key: %w", err),
			fmt.Sprintf("run devstack as the user who owns %s", keyPath))
	case err != nil:
		return nil, fmt.Errorf("reading the CA key: %w", err)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, hint.Wrap(fmt.Errorf("%s is not a valid private key: %w", keyPath, err), hintMoveAside(dir))
	}
	if !publicKeysEqual(key.Public(), cert.PublicKey) {
		return nil, hint.Wrap(
			fmt.Errorf("%s does not belong to %s (the key does not match the certificate)", keyPath, certPath),
			fmt.Sprintf("put the matching rootCA-key.pem back, or move %s aside and run \"devstack ca install\" to mint and trust a new CA", dir))
	}
	ca.key = key
	return ca, nil
}

// checkDir fails with a precise error when dir exists but cannot hold a CA.
// A missing directory is ErrNoCA.
func checkDir(dir string) error {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return hint.Wrap(fmt.Errorf("%w: %s does not exist", ErrNoCA, dir),
			"run \"devstack ca install\" to create one and trust it")
	case err != nil:
		return hint.Wrap(fmt.Errorf("opening the CA directory: %w", err),
			fmt.Sprintf("make %s accessible to this user, or set CAROOT to another directory", dir))
	case !info.IsDir():
		return hint.Wrap(fmt.Errorf("the CA directory %s is a file, not a directory", dir),
			"point CAROOT at a directory (or unset it to use the default location)")
	}
	f, err := os.Open(dir)
	if err != nil {
		return hint.Wrap(fmt.Errorf("opening the CA directory: %w", err),
			fmt.Sprintf("make %s readable by this user (chmod u+rx), or set CAROOT to another directory", dir))
	}
	_, err = f.Readdirnames(1)
	f.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		return hint.Wrap(fmt.Errorf("reading the CA directory: %w", err),
			fmt.Sprintf("make %s readable by this user (chmod u+rx), or set CAROOT to another directory", dir))
	}
	return nil
}

// LoadOrCreate loads the CA in dir, or mints a new one when there is none.
// created reports whether it minted. Any CA already there is used as it is or
// reported as an error; it is never replaced.
func LoadOrCreate(dir string) (ca *CA, created bool, err error) {
	ca, err = loadSettled(dir)
	if !errors.Is(err, ErrNoCA) {
		return ca, false, err
	}
	ca, err = create(dir, time.Now())
	if errors.Is(err, fs.ErrExist) {
		// Another process minted at the same moment: use its CA.
		ca, err = loadSettled(dir)
		return ca, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return ca, true, nil
}

// mintWindow is how long a key without its certificate is taken for a CA
// another process is still writing (the key is written first).
const mintWindow = 5 * time.Second

// loadSettled is Load, except that it waits (at most mintWindow) while the
// directory shows a CA that another process is in the middle of writing.
func loadSettled(dir string) (*CA, error) {
	deadline := time.Now().Add(mintWindow)
	for {
		ca, err := Load(dir)
		if !errors.Is(err, errKeyWithoutCert) || time.Now().After(deadline) {
			return ca, err
		}
		info, serr := os.Stat(filepath.Join(dir, RootKeyFile))
		if serr != nil || time.Since(info.ModTime()) > mintWindow {
			return ca, err // an old lone key: report it
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found (the file is empty, truncated or not PEM)")
	}
	if block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("the PEM block is %q, want \"CERTIFICATE\"", block.Type)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing the certificate (the file may be truncated): %w", err)
	}
	return cert, nil
}

// parseKeyPEM accepts mkcert's PKCS#8 "PRIVATE KEY" and, for keys made by
// hand with openssl, SEC 1 "EC PRIVATE KEY" and PKCS#1 "RSA PRIVATE KEY".
func parseKeyPEM(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found (the file is empty, truncated or not PEM)")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("the PEM block is %q, want \"PRIVATE KEY\"", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing the key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported key type %T", key)
	}
	return signer, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	switch a := a.(type) {
	case *ecdsa.PublicKey:
		return a.Equal(b)
	case *rsa.PublicKey:
		return a.Equal(b)
	case ed25519.PublicKey:
		return a.Equal(b)
	}
	return false
}
