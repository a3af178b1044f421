package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"testing"

	"github.com/devstack-dev/devstack/certs"
)

// testTLS mints a devstack CA in a temporary directory and returns the
// proxy's server configuration from it (leaf for localhost, 127.0.0.1, ::1)
// and the pool that trusts it, as a browser with the CA installed would.
func testTLS(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	dir := t.TempDir()
	ca, _, err := certs.LoadOrCreate(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatalf("creating the CA: %v", err)
	}
	cfg, err := ca.ServerTLSConfig(filepath.Join(dir, "leaves"), nil)
	if err != nil {
		t.Fatalf("server TLS config: %v", err)
	}
	return cfg, ca.Pool()
}
