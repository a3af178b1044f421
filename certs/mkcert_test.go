package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
)

var (
	mkcertOnce sync.Once
	mkcertBin  string
	mkcertErr  error
	mkcertDir  string // removed by TestMain
)

// buildMkcert builds the real mkcert (a tool dependency in go.mod) once per
// test run. Call it before a test changes HOME: the go command finds its
// build and module caches through HOME.
func buildMkcert(t *testing.T) string {
	t.Helper()
	gocmd := testenv.LookPath(t, "go", "https://go.dev/dl/")
	mkcertOnce.Do(func() {
		if mkcertDir, mkcertErr = os.MkdirTemp("", "devstack-mkcert"); mkcertErr != nil {
			return
		}
		bin := filepath.Join(mkcertDir, "mkcert")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, gocmd, "build", "-o", bin, "filippo.io/mkcert").CombinedOutput()
		if err != nil {
			mkcertErr = fmt.Errorf("building mkcert: %v\n%s", err, out)
			return
		}
		mkcertBin = bin
	})
	if mkcertErr != nil {
		t.Fatal(mkcertErr)
	}
	return mkcertBin
}

// runMkcert runs mkcert with CAROOT=caroot and a throwaway HOME, limited to
// the NSS store so it never looks at the system store.
func runMkcert(t *testing.T, bin, caroot, home string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "CAROOT="+caroot, "HOME="+home, "TRUST_STORES=nss", "JAVA_HOME=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mkcert %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return cmd.Dir
}

// poolFromFile builds a pool from a PEM file, independently of this package.
func poolFromFile(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		t.Fatalf("%s holds no certificate", path)
	}
	return pool
}

func TestMkcertInterop(t *testing.T) {
	mkcert := buildMkcert(t)

	t.Run("devstack reuses a CA minted by mkcert", func(t *testing.T) {
		caroot := filepath.Join(t.TempDir(), "caroot")
		out := runMkcert(t, mkcert, caroot, t.TempDir(), "-cert-file", "leaf.pem", "-key-file", "leaf-key.pem", "localhost")
		snap := takeSnapshot(t, caroot)

		ca, created, err := LoadOrCreate(caroot)
		if err != nil || created {
			t.Fatalf("LoadOrCreate on mkcert's CA: created=%v err=%v", created, err)
		}
		if ca.Keyless() {
			t.Fatal("mkcert's key was not loaded")
		}
		if !strings.HasPrefix(ca.Cert.Subject.CommonName, "mkcert ") {
			t.Errorf("loaded CA %q is not mkcert's", ca.Cert.Subject)
		}
		leaf := currentLeaf(t, mustConfig(t, ca, t.TempDir(), []string{"app.localhost"}))
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: poolFromFile(t, filepath.Join(caroot, RootCertFile)), DNSName: "app.localhost"}); err != nil {
			t.Errorf("devstack leaf does not verify against mkcert's rootCA.pem: %v", err)
		}
		mk, err := tls.LoadX509KeyPair(filepath.Join(out, "leaf.pem"), filepath.Join(out, "leaf-key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mk.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "localhost"}); err != nil {
			t.Errorf("mkcert's leaf does not verify against the loaded CA: %v", err)
		}
		snap.assertUnchanged(t, caroot)
	})

	t.Run("mkcert issues from a CA minted by devstack", func(t *testing.T) {
		caroot := filepath.Join(t.TempDir(), "caroot")
		ca, created, err := LoadOrCreate(caroot)
		if err != nil || !created {
			t.Fatalf("LoadOrCreate: created=%v err=%v", created, err)
		}
		snap := takeSnapshot(t, caroot)
		out := runMkcert(t, mkcert, caroot, t.TempDir(), "-cert-file", "leaf.pem", "-key-file", "leaf-key.pem", "example.localhost")
		mk, err := tls.LoadX509KeyPair(filepath.Join(out, "leaf.pem"), filepath.Join(out, "leaf-key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mk.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "example.localhost"}); err != nil {
			t.Errorf("mkcert's leaf does not verify against the devstack CA: %v", err)
		}
		snap.assertUnchanged(t, caroot) // mkcert used the CA, did not replace it
	})
}
