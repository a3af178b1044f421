package certs

import (
	"crypto/tls"
	"testing"
	"time"
)

// BenchmarkGetCertificate is the per-handshake cost of the renewal check.
func BenchmarkGetCertificate(b *testing.B) {
	ca, err := create(b.TempDir(), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := ca.ServerTLSConfig(b.TempDir(), []string{"app.localhost"})
	if err != nil {
		b.Fatal(err)
	}
	hello := &tls.ClientHelloInfo{ServerName: "localhost"}
	for b.Loop() {
		if _, err := cfg.GetCertificate(hello); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMintLeaf is the cost of issuing and caching a new leaf.
func BenchmarkMintLeaf(b *testing.B) {
	ca, err := create(b.TempDir(), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	l := &Leaf{ca: ca, cacheDir: b.TempDir(), hosts: defaultHosts}
	for b.Loop() {
		if _, err := l.mint(time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadCachedLeaf is the start-up cost when the cached leaf is good.
func BenchmarkLoadCachedLeaf(b *testing.B) {
	ca, err := create(b.TempDir(), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	cache := b.TempDir()
	if _, err := ca.NewLeaf(cache, nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ca.NewLeaf(cache, nil); err != nil {
			b.Fatal(err)
		}
	}
}
