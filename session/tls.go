package session

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/devstack-dev/devstack/certs"
	"github.com/devstack-dev/devstack/internal/cachedir"
	"github.com/devstack-dev/devstack/internal/hint"
)

// ServerTLS loads the local CA (minting one on first use, and saying so
// through notify) and returns the proxy's TLS configuration, with a leaf
// for localhost, the loopback addresses and hosts, and the pool that
// verifies it. Leaves are cached per project directory; projectDir ""
// shares one cache for proxies that serve no project.
func ServerTLS(projectDir string, hosts []string, notify func(Notice)) (*tls.Config, *x509.CertPool, error) {
	tlsConfig, ca, err := serverTLS(nil, projectDir, hosts, notify)
	if err != nil {
		return nil, nil, err
	}
	return tlsConfig, ca.Pool(), nil
}

// serverTLS is ServerTLS with the CA already loaded, when ca is not nil,
// returning the CA itself.
func serverTLS(ca *certs.CA, projectDir string, hosts []string, notify func(Notice)) (*tls.Config, *certs.CA, error) {
	if ca == nil {
		caDir, err := certs.Dir()
		if err != nil {
			return nil, nil, err
		}
		var created bool
		if ca, created, err = certs.LoadOrCreate(caDir); err != nil {
			return nil, nil, err
		}
		if created && notify != nil {
			notify(Notice{Text: "created a local certificate authority in " + caDir,
				Hint: `run "devstack ca install" so browsers trust https://localhost`})
		}
	}
	cacheDir, err := leafCacheDir()
	if err != nil {
		return nil, nil, err
	}
	if projectDir != "" {
		cacheDir = filepath.Join(cacheDir, projectKey(projectDir))
	}
	leaf, err := ca.NewLeaf(cacheDir, hosts)
	if err != nil {
		return nil, nil, err
	}
	if err := leaf.CacheError(); err != nil && notify != nil {
		// A read-only cache must not stop the stack: the leaf works from
		// memory.
		notify(Notice{Warning: true,
			Text: fmt.Sprintf("the HTTPS certificate could not be kept in %s (%v); it is served from memory and made again at the next start", cacheDir, err),
			Hint: fmt.Sprintf("make %s writable, or set %s to a writable directory", cacheDir, cachedir.Env)})
	}
	return leaf.TLSConfig(), ca, nil
}

// checkCA reports a CA that is there but unusable (corrupt, expired, a key
// that does not match) before anything starts, and returns it. A missing
// CA is fine (nil): it is minted when the certificates are loaded.
func checkCA() (*certs.CA, error) {
	caDir, err := certs.Dir()
	if err != nil {
		return nil, err
	}
	ca, err := certs.Load(caDir)
	if err != nil && !errors.Is(err, certs.ErrNoCA) {
		return nil, err
	}
	return ca, nil
}

// leafCacheDir is where the proxy's leaf certificates are kept between runs.
func leafCacheDir() (string, error) {
	dir, err := cachedir.Dir()
	if err != nil {
		return "", hint.Wrap(fmt.Errorf("finding the cache directory: %w", err), "set HOME, or DEVSTACK_CACHE_DIR to an absolute path")
	}
	return filepath.Join(dir, "certs"), nil
}

// projectKey names a project directory in devstack's cache directories.
func projectKey(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return hex.EncodeToString(sum[:6])
}
