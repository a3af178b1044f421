package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/devstack-dev/devstack/certs"
	"github.com/devstack-dev/devstack/orchestrator"
	"github.com/devstack-dev/devstack/project"
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

// startStack starts p's stack in a new run directory, with the CA and the
// proxy's certificate loaded (or minted, on first use) while the gateway
// starts. pool returns the CA's pool once Start has returned; cleanup
// removes the run directory and must run after the stack has stopped.
func startStack(ctx context.Context, p *project.Project, stderr io.Writer, opts orchestrator.Options) (
	stack *orchestrator.Stack, pool func() *x509.CertPool, cleanup func(), err error) {
	existing, err := checkCA()
	if err != nil {
		return nil, nil, nil, err
	}
	runDir, err := os.MkdirTemp("", "devstack-run-")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("creating a run directory: %w", err)
	}
	var caPool atomic.Pointer[x509.CertPool]
	opts.Project, opts.RunDir = p, runDir
	var certifi []string
	if f := p.Interpreter.CertifiBundle; f != "" {
		certifi = append(certifi, f)
	}
	if p.CABundle {
		// Written before the gateway starts, so that a client the app
		// makes at import time reads it whole; with a CA minted only now,
		// it is written again, with the CA, before the proxy answers.
		opts.CABundle = filepath.Join(runDir, "ca-bundle.pem")
		var caCert *x509.Certificate
		if existing != nil {
			caCert = existing.Cert
		}
		if err := certs.WriteBundle(opts.CABundle, caCert, certifi...); err != nil {
			os.RemoveAll(runDir)
			return nil, nil, nil, err
		}
	}
	opts.LoadTLS = func() (*tls.Config, *x509.CertPool, error) {
		tlsConfig, ca, err := loadServerTLS(stderr, p.Dir, p.Hosts)
		if err != nil {
			return nil, nil, err
		}
		if opts.CABundle != "" && existing == nil {
			if err := certs.WriteBundle(opts.CABundle, ca.Cert, certifi...); err != nil {
				return nil, nil, err
			}
		}
		caPool.Store(ca.Pool())
		return tlsConfig, ca.Pool(), nil
	}
	cleanup = func() { os.RemoveAll(runDir) }
	if stack, err = orchestrator.Start(ctx, opts); err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	return stack, caPool.Load, cleanup, nil
}
