package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// systemRootFiles are where operating systems keep their trusted roots as
// one PEM file, the first that exists wins: Debian, Ubuntu, Alpine and
// Gentoo; Fedora and RHEL; openSUSE; OpenELEC; CentOS and RHEL 7; then
// macOS, FreeBSD and OpenBSD (the same list Go's crypto/x509 reads).
var systemRootFiles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/pki/tls/cacert.pem",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/cert.pem",
	"/usr/local/etc/ssl/cert.pem",
	"/usr/local/share/certs/ca-root-nss.crt",
}

// SystemRootsFile is the file holding the system's trusted roots, "" when
// none of the known places has one.
func SystemRootsFile() string {
	for _, f := range systemRootFiles {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			return f
		}
	}
	return ""
}

// Bundle is a PEM file of roots for the app's own TLS clients: the
// system's roots, then the PEM files in extra (certifi's cacert.pem, which
// Python's requests and httpx use instead of the system's), then ca's
// certificate, each certificate once. ca may be nil while the CA is not
// minted yet. An extra file that cannot be read is skipped: the bundle is
// a convenience and must not stop the stack.
func Bundle(ca *x509.Certificate, extra ...string) []byte {
	var out bytes.Buffer
	seen := map[string]bool{}
	add := func(der []byte) {
		if seen[string(der)] {
			return
		}
		seen[string(der)] = true
		pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	files := extra
	if sys := SystemRootsFile(); sys != "" {
		files = append([]string{sys}, extra...)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for {
			var block *pem.Block
			block, data = pem.Decode(data)
			if block == nil {
				break
			}
			if block.Type == "CERTIFICATE" {
				add(block.Bytes)
			}
		}
	}
	if ca != nil {
		add(ca.Raw)
	}
	return out.Bytes()
}

// WriteBundle writes Bundle(ca, extra...) to path, replacing it in one
// rename so that a client never reads half of it.
func WriteBundle(path string, ca *x509.Certificate, extra ...string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ca-bundle-*")
	if err != nil {
		return fmt.Errorf("writing the CA bundle: %w", err)
	}
	_, werr := tmp.Write(Bundle(ca, extra...))
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing the CA bundle: %w", werr)
	}
	return nil
}
