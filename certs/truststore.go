package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/devstack-dev/devstack/internal/hint"
)

// The trust stores, named as in mkcert's TRUST_STORES variable.
const (
	StoreSystem = "system"
	StoreNSS    = "nss"
	StoreJava   = "java"
)

// allStores is the order stores are checked and reported in.
var allStores = []string{StoreSystem, StoreNSS, StoreJava}

// State is what happened to, or was found in, one trust store.
type State int

const (
	// StateTrusted: the CA is in the store and trusted for TLS servers.
	StateTrusted State = iota
	// StateNotTrusted: the store exists and does not trust the CA.
	StateNotTrusted
	// StateAdded: install added the CA to the store.
	StateAdded
	// StateRemoved: uninstall removed the CA from the store.
	StateRemoved
	// StateSkipped: the store could not be checked or changed here; Reason
	// says why and Fix how to make it possible.
	StateSkipped
	// StateFailed: changing the store was tried and failed; Reason has the
	// tool's output.
	StateFailed
)

func (s State) String() string {
	switch s {
	case StateTrusted:
		return "trusted"
	case StateNotTrusted:
		return "not trusted"
	case StateAdded:
		return "added"
	case StateRemoved:
		return "removed"
	case StateSkipped:
		return "skipped"
	case StateFailed:
		return "failed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// StoreResult is the state of the CA in one trust store (for NSS, one
// database).
type StoreResult struct {
	Store    string // StoreSystem, StoreNSS or StoreJava
	Location string // the anchor file, NSS database ("sql:/…") or keystore; may be empty
	State    State
	Reason   string // why it was skipped or failed; empty otherwise
	Fix      string // the command that fixes a skip or failure; may be empty
}

// Stores returns the trust stores devstack looks at and changes: all of them,
// or those listed in TRUST_STORES (comma-separated "system,nss,java", as
// mkcert reads it). Tests set TRUST_STORES=nss to leave the machine's system
// store alone.
func Stores() ([]string, error) {
	env := os.Getenv("TRUST_STORES")
	if env == "" {
		return slices.Clone(allStores), nil
	}
	var stores []string
	for _, s := range strings.Split(env, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(allStores, s) {
			return nil, hint.Wrap(fmt.Errorf("TRUST_STORES names an unknown trust store %q", s),
				"set TRUST_STORES to a comma-separated list of system, nss and java, or unset it")
		}
		if !slices.Contains(stores, s) {
			stores = append(stores, s)
		}
	}
	return stores, nil
}

// Status reports, for every store in Stores(), whether it trusts the CA. It
// only reads: nothing is installed and no CA is minted.
func Status(ca *CA) ([]StoreResult, error) {
	return forEachStore(ca, trustStore.status)
}

// Install adds the CA to every store in Stores(). Stores that cannot take it
// are reported as skipped with the reason and fix. The error is non-nil when a
// change failed, or when no store trusts the CA afterwards.
func Install(ca *CA) ([]StoreResult, error) {
	results, err := forEachStore(ca, trustStore.install)
	if err != nil {
		return nil, err
	}
	return results, outcomeError("install", results, StateTrusted, StateAdded)
}

// Uninstall removes the CA from every store in Stores(). The CA files are
// kept. The error is non-nil when a removal failed.
func Uninstall(ca *CA) ([]StoreResult, error) {
	results, err := forEachStore(ca, trustStore.uninstall)
	if err != nil {
		return nil, err
	}
	return results, outcomeError("uninstall", results, StateNotTrusted, StateRemoved)
}

// trustStore is one kind of store holding ca: reading whether it trusts it,
// adding it, removing it. NSS gives one result per database.
type trustStore interface {
	status() []StoreResult
	install() []StoreResult
	uninstall() []StoreResult
}

// forEachStore runs op on every store in Stores(), in order. Java's store is
// left out where no Java is installed.
func forEachStore(ca *CA, op func(trustStore) []StoreResult) ([]StoreResult, error) {
	names, err := Stores()
	if err != nil {
		return nil, err
	}
	var results []StoreResult
	for _, name := range names {
		var store trustStore
		switch name {
		case StoreSystem:
			store = systemTrust{ca}
		case StoreNSS:
			store = nssTrust{newNSSStore(ca), ca}
		case StoreJava:
			j, ok := findJava()
			if !ok {
				continue
			}
			store = javaTrust{j, ca}
		}
		results = append(results, op(store)...)
	}
	return results, nil
}

type systemTrust struct{ ca *CA }

func (t systemTrust) status() []StoreResult    { return []StoreResult{systemStatus(t.ca.Cert)} }
func (t systemTrust) install() []StoreResult   { return []StoreResult{systemInstall(t.ca)} }
func (t systemTrust) uninstall() []StoreResult { return []StoreResult{systemUninstall(t.ca)} }

type nssTrust struct {
	s  *nssStore
	ca *CA
}

func (t nssTrust) status() []StoreResult    { return t.s.status() }
func (t nssTrust) install() []StoreResult   { return t.s.install(t.ca.CertPath()) }
func (t nssTrust) uninstall() []StoreResult { return t.s.uninstall() }

type javaTrust struct {
	j  *javaStore
	ca *CA
}

func (t javaTrust) status() []StoreResult    { return []StoreResult{t.j.status(t.ca.Cert)} }
func (t javaTrust) install() []StoreResult   { return []StoreResult{t.j.install(t.ca)} }
func (t javaTrust) uninstall() []StoreResult { return []StoreResult{t.j.uninstall(t.ca)} }

// errStoreFailed is the error of an install or uninstall that did not reach
// its goal; the per-store results carry the details.
var errStoreFailed = errors.New("trust store change failed")

// outcomeError fails when a store failed, or when no store reached one of
// the goal states.
func outcomeError(op string, results []StoreResult, goals ...State) error {
	reached := false
	for _, r := range results {
		if r.State == StateFailed {
			return hint.Wrap(fmt.Errorf("%s: %w for %s %s", op, errStoreFailed, r.Store, r.Location), r.Fix)
		}
		if slices.Contains(goals, r.State) {
			reached = true
		}
	}
	if !reached {
		return hint.Wrap(fmt.Errorf("%s: %w: no trust store could be changed", op, errStoreFailed),
			"fix the skipped stores above, or set TRUST_STORES to the stores you use")
	}
	return nil
}

// truststoreName is the name the truststore library gives the CA: the NSS
// nickname and Java alias, and (with "_" for " ") the system anchor file.
func truststoreName(cert *x509.Certificate) string {
	if cert.Subject.CommonName != "" {
		return cert.Subject.CommonName + " " + cert.SerialNumber.String()
	}
	return "Truststore Development CA " + cert.SerialNumber.String()
}

// mkcertName is the name mkcert gives a CA it installs ("mkcert -install"),
// whoever minted it.
func mkcertName(cert *x509.Certificate) string {
	return "mkcert development CA " + cert.SerialNumber.String()
}

// storeNames are the names under which the CA may already be installed.
func storeNames(cert *x509.Certificate) []string {
	return []string{truststoreName(cert), mkcertName(cert)}
}

// asRoot is the command that repeats op for one store as root. CAROOT is
// spelled out because sudo may reset HOME, which would otherwise point
// devstack at root's CA directory and mint a second CA there.
func asRoot(ca *CA, store, op string) string {
	return fmt.Sprintf("sudo CAROOT=%s TRUST_STORES=%s devstack ca %s", shellQuote(ca.Dir), store, op)
}

// shellQuote quotes s for a POSIX shell when it needs it (macOS's default
// CA directory has a space in it).
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
