package main

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/devstack-dev/devstack/certs"
)

// loadServerTLS loads the local CA (minting one on first use, and saying so)
// and returns the proxy's TLS configuration with a leaf for localhost, the
// loopback addresses and hosts, cached per project directory.
func loadServerTLS(stderr io.Writer, projectDir string, hosts []string) (*tls.Config, *certs.CA, error) {
	caDir, err := certs.Dir()
	if err != nil {
		return nil, nil, err
	}
	ca, created, err := certs.LoadOrCreate(caDir)
	if err != nil {
		return nil, nil, err
	}
	if created {
		fmt.Fprintf(stderr, "devstack: created a local certificate authority in %s\n", caDir)
		fmt.Fprintln(stderr, `devstack: hint: run "devstack ca install" so browsers trust https://localhost`)
	}
	cacheDir, err := leafCacheDir()
	if err != nil {
		return nil, nil, err
	}
	if projectDir != "" {
		cacheDir = filepath.Join(cacheDir, projectKey(projectDir))
	}
	tlsConfig, err := ca.ServerTLSConfig(cacheDir, hosts)
	if err != nil {
		return nil, nil, err
	}
	return tlsConfig, ca, nil
}

// checkCA reports a CA that is there but unusable (corrupt, expired, a key
// that does not match) before anything starts. A missing CA is fine: it is
// minted when the certificates are loaded.
func checkCA() error {
	caDir, err := certs.Dir()
	if err != nil {
		return err
	}
	if _, err := certs.Load(caDir); err != nil && !errors.Is(err, certs.ErrNoCA) {
		return err
	}
	return nil
}

// leafCacheDir is where the proxy's leaf certificates are kept between runs.
func leafCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", hintError{fmt.Errorf("finding the cache directory: %w", err), "set HOME or XDG_CACHE_HOME"}
	}
	return filepath.Join(dir, "devstack", "certs"), nil
}

// projectKey names a project directory in devstack's cache directories.
func projectKey(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return hex.EncodeToString(sum[:6])
}
