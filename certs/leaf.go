package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/devstack-dev/devstack/internal/hint"
)

// Leaf certificate policy.
const (
	// leafValidity keeps leaves under the 398-day limit browsers enforce for
	// publicly trusted certificates (CA/B Forum ballot SC22, Apple's rule);
	// Chrome and Safari apply it to locally trusted roots too.
	leafValidity = 396 * 24 * time.Hour
	// leafBackdate covers clocks that are a little behind (VMs, containers).
	leafBackdate = time.Hour
	// leafRenewBefore re-mints a leaf this long before it expires.
	leafRenewBefore = 30 * 24 * time.Hour
)

// The cached leaf's file names in the cache directory.
const (
	LeafCertFile = "localhost.pem"
	LeafKeyFile  = "localhost-key.pem"
)

// defaultHosts are always in the leaf, whatever else is configured.
var defaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// Leaf is the proxy's server certificate, cached in a directory and renewed
// when it is used close to its expiry.
type Leaf struct {
	ca       *CA
	cacheDir string
	hosts    []string // normalized, sorted, with defaultHosts

	mu       sync.Mutex
	cert     *tls.Certificate
	renewAt  time.Time
	cacheErr error // why the last minted leaf could not be cached; nil when it was
}

// NewLeaf validates hosts and returns the leaf for them, loading it from
// cacheDir when the cached one is still good and minting it otherwise.
func (ca *CA) NewLeaf(cacheDir string, hosts []string) (*Leaf, error) {
	if ca.key == nil {
		return nil, hint.Wrap(
			fmt.Errorf("cannot issue the HTTPS certificate: %w (%s is missing)", ErrKeyless, filepath.Join(ca.Dir, RootKeyFile)),
			fmt.Sprintf("put the CA's rootCA-key.pem back into %s, or set CAROOT to a directory holding both files", ca.Dir))
	}
	names, err := normalizeHosts(hosts)
	if err != nil {
		return nil, err
	}
	l := &Leaf{ca: ca, cacheDir: cacheDir, hosts: names}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.refresh(); err != nil {
		return nil, err
	}
	return l, nil
}

// ServerTLSConfig returns a TLS server configuration serving the leaf for
// hosts (plus localhost, 127.0.0.1 and ::1), cached in cacheDir. The leaf is
// re-minted on use when it comes within 30 days of expiry, so a long-running
// proxy never serves an expired certificate.
func (ca *CA) ServerTLSConfig(cacheDir string, hosts []string) (*tls.Config, error) {
	l, err := ca.NewLeaf(cacheDir, hosts)
	if err != nil {
		return nil, err
	}
	return l.TLSConfig(), nil
}

// TLSConfig returns a TLS server configuration serving the leaf.
func (l *Leaf) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2", "http/1.1"},
		GetCertificate: l.GetCertificate,
	}
}

// CacheError says why the leaf could not be written to its cache directory
// (a read-only or full disk, say), or is nil when it was, or was loaded
// from there. The leaf is served from memory all the same; it is minted
// again at the next start.
func (l *Leaf) CacheError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cacheErr
}

// GetCertificate is tls.Config.GetCertificate: the current leaf, renewed
// first when due. The check is a time comparison under a mutex.
func (l *Leaf) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ca.now().Before(l.renewAt) {
		if err := l.refresh(); err != nil {
			return nil, err
		}
	}
	return l.cert, nil
}

// Certificate returns the current leaf certificate (renewing it if due).
func (l *Leaf) Certificate() (*x509.Certificate, error) {
	c, err := l.GetCertificate(nil)
	if err != nil {
		return nil, err
	}
	return c.Leaf, nil
}

// Hosts is the sorted list of names and addresses the leaf is valid for.
func (l *Leaf) Hosts() []string { return slices.Clone(l.hosts) }

// refresh loads the cached leaf if it is still good, else mints and caches a
// new one. l.mu must be held.
func (l *Leaf) refresh() error {
	now := l.ca.now()
	if c, err := l.loadCached(now); err == nil {
		l.set(c)
		l.cacheErr = nil
		return nil
	}
	c, err := l.mint(now)
	if err != nil {
		return err
	}
	l.set(c)
	return nil
}

func (l *Leaf) set(c *tls.Certificate) {
	l.cert = c
	l.renewAt = l.renewalTime(c.Leaf)
}

// renewalTime is when the leaf should be replaced: 30 days before it expires,
// unless it already ends with the CA, when a new one would be no better.
func (l *Leaf) renewalTime(leaf *x509.Certificate) time.Time {
	if !leaf.NotAfter.Before(l.ca.Cert.NotAfter) {
		return leaf.NotAfter
	}
	return leaf.NotAfter.Add(-leafRenewBefore)
}

// loadCached returns the cached leaf when it was issued by this CA for exactly
// these hosts and is not due for renewal.
func (l *Leaf) loadCached(now time.Time) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(filepath.Join(l.cacheDir, LeafCertFile))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(l.cacheDir, LeafKeyFile))
	if err != nil {
		return nil, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	leaf := c.Leaf
	if !bytes.Equal(leaf.RawIssuer, l.ca.Cert.RawSubject) {
		return nil, errors.New("issued by another CA")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:       l.ca.Pool(),
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}); err != nil {
		return nil, err
	}
	if !slices.Equal(leafHosts(leaf), l.hosts) {
		return nil, errors.New("host list changed")
	}
	if !now.Before(l.renewalTime(leaf)) {
		return nil, errors.New("due for renewal")
	}
	return &c, nil
}

// mint issues a new leaf and writes it to the cache directory.
func (l *Leaf) mint(now time.Time) (*tls.Certificate, error) {
	if now.After(l.ca.Cert.NotAfter) {
		return nil, hint.Wrap(fmt.Errorf("cannot issue the HTTPS certificate: the CA in %s expired on %s", l.ca.Dir, l.ca.Cert.NotAfter.UTC().Format(time.DateOnly)),
			fmt.Sprintf("run \"devstack ca uninstall\", move %s aside, then run \"devstack ca install\"", l.ca.Dir))
	}
	notAfter := now.Add(leafValidity)
	if notAfter.After(l.ca.Cert.NotAfter) {
		notAfter = l.ca.Cert.NotAfter
	}
	tpl := &x509.Certificate{
		Subject:     pkix.Name{Organization: []string{"devstack development certificate"}},
		NotBefore:   now.Add(-leafBackdate),
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range l.hosts {
		if ip := net.ParseIP(h); ip != nil {
			tpl.IPAddresses = append(tpl.IPAddresses, ip)
		} else {
			tpl.DNSNames = append(tpl.DNSNames, h)
		}
	}
	leaf, err := issue(tpl, l.ca.Cert, l.ca.key, "HTTPS")
	if err != nil {
		return nil, err
	}
	// A cache that cannot be written costs the next start a new leaf,
	// nothing more: this one is served from memory.
	l.cacheErr = l.save(leaf.certPEM, leaf.keyPEM)
	c, err := tls.X509KeyPair(leaf.certPEM, leaf.keyPEM)
	if err != nil {
		return nil, fmt.Errorf("loading the new certificate: %w", err)
	}
	return &c, nil
}

// save writes the leaf to the cache. The key goes first so that a crash in
// between leaves a pair that does not match, which the next load re-mints.
func (l *Leaf) save(certPEM, keyPEM []byte) error {
	if err := os.MkdirAll(l.cacheDir, 0o700); err != nil {
		return hint.Wrap(fmt.Errorf("creating the certificate cache: %w", err),
			fmt.Sprintf("make %s writable by this user", l.cacheDir))
	}
	if err := writeReplace(filepath.Join(l.cacheDir, LeafKeyFile), keyPEM, 0o600); err != nil {
		return err
	}
	return writeReplace(filepath.Join(l.cacheDir, LeafCertFile), certPEM, 0o644)
}

// leafHosts lists the SANs of a leaf in the normalized form of normalizeHosts.
func leafHosts(c *x509.Certificate) []string {
	var hosts []string
	hosts = append(hosts, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		hosts = append(hosts, ip.String())
	}
	slices.Sort(hosts)
	return slices.Compact(hosts)
}

// normalizeHosts validates the configured hosts and returns them with the
// defaults, lowercased, deduplicated and sorted. A host may carry a port
// ("app.localhost:8080"), which is dropped, and may be a wildcard
// ("*.app.localhost").
func normalizeHosts(hosts []string) ([]string, error) {
	out := slices.Clone(defaultHosts)
	for _, h := range hosts {
		name, err := normalizeHost(h)
		if err != nil {
			return nil, hint.Wrap(fmt.Errorf("invalid host %q for the HTTPS certificate: %w", h, err),
				"use a host name (app.localhost), a wildcard (*.app.localhost) or an IP address")
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func normalizeHost(h string) (string, error) {
	h = strings.ToLower(strings.TrimSpace(h))
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
	if ip := net.ParseIP(h); ip != nil {
		return ip.String(), nil
	}
	if h == "" {
		return "", errors.New("empty name")
	}
	if len(h) > 253 {
		return "", errors.New("longer than 253 characters")
	}
	labels := strings.Split(h, ".")
	for i, label := range labels {
		if label == "*" && i == 0 && len(labels) > 1 {
			continue
		}
		if err := checkLabel(label); err != nil {
			return "", err
		}
	}
	return h, nil
}

func checkLabel(label string) error {
	if label == "" {
		return errors.New("empty label")
	}
	if len(label) > 63 {
		return fmt.Errorf("label %q is longer than 63 characters", label)
	}
	for _, r := range label {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
		if !ok {
			return fmt.Errorf("%q is not allowed in a host name", r)
		}
	}
	if label[0] == '-' || label[len(label)-1] == '-' {
		return fmt.Errorf("label %q starts or ends with a hyphen", label)
	}
	return nil
}
