package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable testOnlyNow.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func caWithClock(t *testing.T, now time.Time) (*CA, *clock) {
	t.Helper()
	ca := mustCreate(t, now)
	clk := &clock{now}
	ca.testOnlyNow = clk.now
	return ca, clk
}

func currentLeaf(t *testing.T, cfg *tls.Config) *x509.Certificate {
	t.Helper()
	c, err := cfg.GetCertificate(&tls.ClientHelloInfo{ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf
}

func TestLeafShape(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	ca, _ := caWithClock(t, now)
	cache := t.TempDir()
	cfg, err := ca.ServerTLSConfig(cache, []string{"App.Localhost", "*.app.localhost", "10.1.2.3", "app.localhost:8443", "[::1]:8080"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion: got %x, want TLS 1.2", cfg.MinVersion)
	}
	if got, want := cfg.NextProtos, []string{"h2", "http/1.1"}; !slices.Equal(got, want) {
		t.Errorf("NextProtos: got %q, want %q", got, want)
	}
	leaf := currentLeaf(t, cfg)

	if got, want := leaf.DNSNames, []string{"*.app.localhost", "app.localhost", "localhost"}; !slices.Equal(got, want) {
		t.Errorf("DNS SANs: got %q, want %q", got, want)
	}
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	if want := []string{"10.1.2.3", "127.0.0.1", "::1"}; !slices.Equal(ips, want) {
		t.Errorf("IP SANs: got %q, want %q", ips, want)
	}
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("leaf key: got %T, want ECDSA P-256", leaf.PublicKey)
	}
	if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("EKU: got %v, want serverAuth", leaf.ExtKeyUsage)
	}
	if leaf.IsCA {
		t.Error("leaf is a CA")
	}
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d > 397*24*time.Hour {
		t.Errorf("validity %v exceeds 397 days", d)
	}
	if !leaf.NotBefore.Before(now) {
		t.Errorf("NotBefore %v is not in the past of %v", leaf.NotBefore, now)
	}
	for _, name := range []string{"localhost", "app.localhost", "api.app.localhost", "127.0.0.1", "::1", "10.1.2.3"} {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: name, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			t.Errorf("leaf does not verify for %s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "example.com", CurrentTime: now}); err == nil {
		t.Error("leaf verifies for example.com")
	}

	info, err := os.Stat(filepath.Join(cache, LeafKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("leaf key mode: got %v, want 0600", got)
	}
}

func TestLeafLongCAStaysWithinCA(t *testing.T) {
	now := time.Now()
	ca, clk := caWithClock(t, now)
	clk.t = ca.Cert.NotAfter.Add(-100 * 24 * time.Hour)
	leaf := currentLeaf(t, mustConfig(t, ca, t.TempDir(), nil))
	if leaf.NotAfter.After(ca.Cert.NotAfter) {
		t.Errorf("leaf NotAfter %v is after the CA's %v", leaf.NotAfter, ca.Cert.NotAfter)
	}
}

func mustConfig(t *testing.T, ca *CA, cache string, hosts []string) *tls.Config {
	t.Helper()
	cfg, err := ca.ServerTLSConfig(cache, hosts)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestLeafReuseAndRenewal(t *testing.T) {
	start := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	ca, clk := caWithClock(t, start)
	cache := t.TempDir()
	hosts := []string{"app.localhost"}
	first := currentLeaf(t, mustConfig(t, ca, cache, hosts))

	t.Run("reused from disk", func(t *testing.T) {
		clk.t = start.Add(300 * 24 * time.Hour)
		again := currentLeaf(t, mustConfig(t, ca, cache, []string{"APP.localhost", "localhost"}))
		if again.SerialNumber.Cmp(first.SerialNumber) != 0 {
			t.Error("a good cached leaf was re-minted")
		}
	})

	t.Run("near expiry on use", func(t *testing.T) {
		clk.t = start
		cfg := mustConfig(t, ca, cache, hosts)
		if l := currentLeaf(t, cfg); l.SerialNumber.Cmp(first.SerialNumber) != 0 {
			t.Fatal("leaf changed before renewal time")
		}
		// The same long-running config, 29 days before the leaf expires.
		clk.t = first.NotAfter.Add(-29 * 24 * time.Hour)
		renewed := currentLeaf(t, cfg)
		if renewed.SerialNumber.Cmp(first.SerialNumber) == 0 {
			t.Fatal("leaf within 30 days of expiry was not re-minted")
		}
		if !renewed.NotAfter.After(first.NotAfter) {
			t.Errorf("renewed leaf expires %v, not after the old %v", renewed.NotAfter, first.NotAfter)
		}
		if disk := readCert(t, filepath.Join(cache, LeafCertFile)); disk.SerialNumber.Cmp(renewed.SerialNumber) != 0 {
			t.Error("renewed leaf was not written to the cache")
		}
		if again := currentLeaf(t, cfg); again.SerialNumber.Cmp(renewed.SerialNumber) != 0 {
			t.Error("leaf re-minted again right after renewal")
		}
		first = renewed
	})

	t.Run("near expiry at start", func(t *testing.T) {
		clk.t = first.NotAfter.Add(-10 * 24 * time.Hour)
		l := currentLeaf(t, mustConfig(t, ca, cache, hosts))
		if l.SerialNumber.Cmp(first.SerialNumber) == 0 {
			t.Fatal("cached leaf near expiry was loaded instead of re-minted")
		}
		first = l
	})

	t.Run("hosts changed", func(t *testing.T) {
		l := currentLeaf(t, mustConfig(t, ca, cache, []string{"app.localhost", "api.localhost"}))
		if l.SerialNumber.Cmp(first.SerialNumber) == 0 {
			t.Fatal("leaf not re-minted for a new host list")
		}
		if !slices.Contains(l.DNSNames, "api.localhost") {
			t.Errorf("new leaf lacks api.localhost: %q", l.DNSNames)
		}
		first = l
	})

	t.Run("CA changed", func(t *testing.T) {
		other, _ := caWithClock(t, clk.t)
		other.testOnlyNow = clk.now
		l := currentLeaf(t, mustConfig(t, other, cache, []string{"app.localhost", "api.localhost"}))
		if l.SerialNumber.Cmp(first.SerialNumber) == 0 {
			t.Fatal("leaf of the old CA reused with a new CA")
		}
		if err := l.CheckSignatureFrom(other.Cert); err != nil {
			t.Errorf("new leaf not signed by the new CA: %v", err)
		}
	})
}

func TestLeafCorruptCacheIsReplaced(t *testing.T) {
	ca := mustCreate(t, time.Now())
	cache := t.TempDir()
	writeFile(t, filepath.Join(cache, LeafCertFile), []byte("garbage"), 0o644)
	writeFile(t, filepath.Join(cache, LeafKeyFile), []byte("garbage"), 0o600)
	leaf := currentLeaf(t, mustConfig(t, ca, cache, nil))
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "localhost"}); err != nil {
		t.Errorf("replacement leaf does not verify: %v", err)
	}
}

func TestLeafInvalidHosts(t *testing.T) {
	ca := mustCreate(t, time.Now())
	for _, h := range []string{"", "bad host", "a..b", "-a.localhost", "foo.*.localhost", "*", "exa$mple.com", strings.Repeat("a", 64) + ".localhost"} {
		_, err := ca.ServerTLSConfig(t.TempDir(), []string{h})
		wantErr(t, err, "use a host name", "invalid host")
	}
}

func TestLeafExpiredCACannotIssue(t *testing.T) {
	ca, clk := caWithClock(t, time.Now())
	clk.t = ca.Cert.NotAfter.Add(time.Hour)
	_, err := ca.ServerTLSConfig(t.TempDir(), nil)
	wantErr(t, err, "devstack ca install", "expired on")
}

func TestNormalizeHostsAddsDefaults(t *testing.T) {
	got, err := normalizeHosts([]string{"127.0.0.1", "App.localhost."})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"127.0.0.1", "::1", "app.localhost", "localhost"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if ip := net.ParseIP(got[1]); ip == nil {
		t.Errorf("%q is not an IP", got[1])
	}
}

// Concurrent handshakes that all find the leaf due get one renewal, not one
// each, and never a torn certificate (run with -race).
func TestLeafConcurrentRenewal(t *testing.T) {
	start := time.Now()
	ca, clk := caWithClock(t, start)
	cache := t.TempDir()
	cfg := mustConfig(t, ca, cache, nil)
	old := currentLeaf(t, cfg)
	clk.t = old.NotAfter.Add(-time.Hour) // set before the goroutines start

	serials := make(chan string, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := cfg.GetCertificate(&tls.ClientHelloInfo{ServerName: "localhost"})
			if err != nil {
				t.Error(err)
				return
			}
			serials <- c.Leaf.SerialNumber.String()
		}()
	}
	wg.Wait()
	close(serials)
	seen := map[string]bool{}
	for s := range serials {
		seen[s] = true
	}
	if len(seen) != 1 || seen[old.SerialNumber.String()] {
		t.Errorf("got serials %v, want exactly one new leaf", seen)
	}
}

// Issue 9: a cache directory that cannot be written stopped devstack up.
// The leaf is served from memory instead, and CacheError says why it was
// not kept.
func TestLeafUnwritableCacheServesFromMemory(t *testing.T) {
	ca := mustCreate(t, time.Now())
	notADir := filepath.Join(t.TempDir(), "file")
	writeFile(t, notADir, []byte("a file where the cache directory should be"), 0o644)
	l, err := ca.NewLeaf(filepath.Join(notADir, "certs"), nil)
	if err != nil {
		t.Fatalf("NewLeaf with an unwritable cache: %v", err)
	}
	if l.CacheError() == nil {
		t.Error("CacheError is nil although nothing could be written")
	}
	leaf := currentLeaf(t, l.TLSConfig())
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "localhost"}); err != nil {
		t.Errorf("the leaf served from memory does not verify: %v", err)
	}

	cache := t.TempDir()
	if l, err = ca.NewLeaf(cache, nil); err != nil || l.CacheError() != nil {
		t.Errorf("a writable cache: %v, CacheError %v", err, l.CacheError())
	}
}
