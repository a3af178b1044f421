package certs

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/smallstep/truststore"
)

// NSS databases (Firefox, Chromium and other NSS programs on Linux; Firefox
// on macOS) are changed with certutil, through the truststore library's Trust
// interface. The library's own NSS support silently skips when certutil or a
// database is missing, reads HOME once at start-up and misses snap installs,
// so devstack finds the databases itself, says why it skips, and checks every
// database with "certutil -L" after changing it.

// nssDBCandidates are the NSS database directories and Firefox profile globs
// looked at, relative to home. A database is a directory holding cert9.db
// (sql:) or cert8.db (dbm:, old Firefox).
func nssDBCandidates(home string) []string {
	var c []string
	if home != "" {
		c = append(c,
			filepath.Join(home, ".pki", "nssdb"),                                // Chromium, Chrome
			filepath.Join(home, "snap", "chromium", "current", ".pki", "nssdb"), // Chromium as a snap
			filepath.Join(home, ".mozilla", "firefox", "*"),                     // Firefox profiles
			filepath.Join(home, "snap", "firefox", "common", ".mozilla", "firefox", "*"),
			filepath.Join(home, "Library", "Application Support", "Firefox", "Profiles", "*"), // macOS
		)
	}
	return append(c, "/etc/pki/nssdb") // system-wide NSS database (Fedora, RHEL)
}

// findNSSDBs returns the NSS databases under home, as certutil -d arguments.
func findNSSDBs(home string) []string {
	var dbs []string
	for _, pattern := range nssDBCandidates(home) {
		matches, _ := filepath.Glob(pattern)
		for _, dir := range matches {
			switch {
			case fileExists(filepath.Join(dir, "cert9.db")):
				dbs = append(dbs, "sql:"+dir)
			case fileExists(filepath.Join(dir, "cert8.db")):
				dbs = append(dbs, "dbm:"+dir)
			}
		}
	}
	return dbs
}

func fileExists(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.Mode().IsRegular()
}

// findCertutil locates NSS's certutil; Homebrew does not link it on macOS.
func findCertutil() (string, bool) {
	if p, err := exec.LookPath("certutil"); err == nil {
		return p, true
	}
	if runtime.GOOS == "darwin" {
		for _, p := range []string{"/opt/homebrew/opt/nss/bin/certutil", "/usr/local/opt/nss/bin/certutil"} {
			if fileExists(p) {
				return p, true
			}
		}
	}
	return "", false
}

func certutilInstallCommand() string {
	if runtime.GOOS == "darwin" {
		return "brew install nss"
	}
	return "apt-get install libnss3-tools (Fedora: dnf install nss-tools)"
}

// nssStore is the NSS side of one status, install or uninstall run.
type nssStore struct {
	ca       *CA
	cert     *x509.Certificate
	certutil string
	dbs      []string
	results  []StoreResult // filled by Install and Uninstall
}

var _ truststore.Trust = (*nssStore)(nil)

func newNSSStore(ca *CA) *nssStore {
	s := &nssStore{ca: ca, cert: ca.Cert, dbs: findNSSDBs(os.Getenv("HOME"))}
	s.certutil, _ = findCertutil()
	return s
}

// skip says why the NSS store cannot be used here.
func (s *nssStore) skip() (StoreResult, bool) {
	r := StoreResult{Store: StoreNSS, State: StateSkipped}
	switch {
	case s.certutil == "":
		r.Location = strings.Join(s.dbs, " ")
		r.Reason = "certutil is not installed, so Firefox and Chromium cannot be checked or changed"
		r.Fix = certutilInstallCommand()
		return r, true
	case len(s.dbs) == 0:
		r.Reason = "no NSS database found (looked for ~/.pki/nssdb and Firefox profiles): Firefox and Chromium were never started as this user"
		r.Fix = "start Firefox or Chromium once, then run \"devstack ca install\" again"
		return r, true
	}
	return StoreResult{}, false
}

// lookup reports whether db holds this CA (under devstack's or mkcert's
// nickname) and whether it is trusted to issue server certificates.
func (s *nssStore) lookup(db string) (nickname string, trusted bool, err error) {
	out, err := s.run("-L", "-d", db)
	if err != nil {
		return "", false, err
	}
	listed := parseCertutilList(out)
	for _, nick := range storeNames(s.cert) {
		flags, ok := listed[nick]
		if !ok {
			continue
		}
		// A nickname can be reused by a different certificate: compare bytes.
		pemOut, err := s.run("-L", "-d", db, "-n", nick, "-a")
		if err != nil {
			return "", false, err
		}
		c, err := parseCertPEM(pemOut)
		if err != nil || !bytes.Equal(c.Raw, s.cert.Raw) {
			continue
		}
		ssl, _, _ := strings.Cut(flags, ",")
		return nick, strings.ContainsAny(ssl, "C"), nil
	}
	return "", false, nil
}

// parseCertutilList maps nicknames to trust flags ("C,,") in the table
// "certutil -L" prints.
func parseCertutilList(out []byte) map[string]string {
	listed := make(map[string]string)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t")
		i := strings.LastIndexAny(line, " \t")
		if i < 0 {
			continue
		}
		flags := line[i+1:]
		if strings.Count(flags, ",") != 2 {
			continue
		}
		if nick := strings.TrimSpace(line[:i]); nick != "" {
			listed[nick] = flags
		}
	}
	return listed
}

func (s *nssStore) run(args ...string) ([]byte, error) {
	cmd := exec.Command(s.certutil, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("certutil %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

func (s *nssStore) status() []StoreResult {
	if r, skip := s.skip(); skip {
		return []StoreResult{r}
	}
	var results []StoreResult
	for _, db := range s.dbs {
		r := StoreResult{Store: StoreNSS, Location: db, State: StateNotTrusted}
		if _, trusted, err := s.lookup(db); err != nil {
			r.State, r.Reason, r.Fix = StateSkipped, err.Error(), "check that this user can read "+strings.TrimPrefix(db, "sql:")
		} else if trusted {
			r.State = StateTrusted
		}
		results = append(results, r)
	}
	return results
}

func (s *nssStore) install(certPath string) []StoreResult {
	if r, skip := s.skip(); skip {
		return []StoreResult{r}
	}
	err := truststore.InstallFile(certPath, truststore.WithNoSystem(), truststore.WithTrust(s))
	if s.results == nil {
		// The library found the CA everywhere and changed nothing.
		if err != nil {
			return []StoreResult{{Store: StoreNSS, State: StateFailed, Reason: err.Error(), Fix: "devstack ca install"}}
		}
		return s.status()
	}
	return s.results
}

func (s *nssStore) uninstall() []StoreResult {
	if r, skip := s.skip(); skip {
		return []StoreResult{r}
	}
	err := truststore.Uninstall(s.cert, truststore.WithNoSystem(), truststore.WithTrust(s))
	if s.results == nil {
		return []StoreResult{{Store: StoreNSS, State: StateFailed, Reason: fmt.Sprint(err), Fix: "devstack ca uninstall"}}
	}
	return s.results
}

// Name implements truststore.Trust.
func (s *nssStore) Name() string { return StoreNSS }

// PreCheck implements truststore.Trust.
func (s *nssStore) PreCheck() error {
	if r, skip := s.skip(); skip {
		return errors.New(r.Reason)
	}
	return nil
}

// Exists implements truststore.Trust: the CA is trusted in every database.
func (s *nssStore) Exists(*x509.Certificate) bool {
	for _, db := range s.dbs {
		if _, trusted, err := s.lookup(db); err != nil || !trusted {
			return false
		}
	}
	return true
}

// Install implements truststore.Trust: add the CA to every database that
// does not trust it yet, then check each one.
func (s *nssStore) Install(filename string, _ *x509.Certificate) error {
	return s.eachDB("install", func(db string) (State, string) {
		_, trusted, err := s.lookup(db)
		switch {
		case err != nil:
			return StateFailed, err.Error()
		case trusted:
			return StateTrusted, ""
		}
		// "C,,": a trusted CA for TLS servers, as mkcert installs it.
		if _, err := s.run("-A", "-d", db, "-t", "C,,", "-n", truststoreName(s.cert), "-i", filename); err != nil {
			return StateFailed, err.Error()
		}
		if _, trusted, err := s.lookup(db); err != nil || !trusted {
			return StateFailed, fmt.Sprintf("certutil -A succeeded but %s does not list the CA as trusted afterwards", db)
		}
		return StateAdded, ""
	})
}

// Uninstall implements truststore.Trust: remove the CA, under any of its
// nicknames, from every database, then check each one.
func (s *nssStore) Uninstall(string, *x509.Certificate) error {
	return s.eachDB("uninstall", func(db string) (State, string) {
		state := StateNotTrusted
		for i := 0; i < len(storeNames(s.cert)); i++ { // at most one delete per nickname
			nick, _, err := s.lookup(db)
			if err != nil {
				return StateFailed, err.Error()
			}
			if nick == "" {
				break
			}
			if _, err := s.run("-D", "-d", db, "-n", nick); err != nil {
				return StateFailed, err.Error()
			}
			state = StateRemoved
		}
		if state == StateRemoved {
			if nick, _, _ := s.lookup(db); nick != "" {
				return StateFailed, fmt.Sprintf("certutil -D succeeded but %s still lists the CA", db)
			}
		}
		return state, ""
	})
}

// eachDB applies change to every database and records the outcome of each;
// a database it failed in gets the fix for op, and fails the whole run.
func (s *nssStore) eachDB(op string, change func(db string) (State, string)) error {
	var failed error
	for _, db := range s.dbs {
		r := StoreResult{Store: StoreNSS, Location: db}
		r.State, r.Reason = change(db)
		if r.State == StateFailed {
			r.Fix = s.fix(db, op)
			failed = errStoreFailed
		}
		s.results = append(s.results, r)
	}
	return failed
}

func (s *nssStore) fix(db, op string) string {
	dir := strings.TrimPrefix(strings.TrimPrefix(db, "sql:"), "dbm:")
	if os.Geteuid() != 0 && !strings.HasPrefix(dir, os.Getenv("HOME")+string(filepath.Separator)) {
		return asRoot(s.ca, StoreNSS, op) // a system-wide database such as /etc/pki/nssdb
	}
	return fmt.Sprintf("close Firefox and Chromium, make sure this user can write %s, and run \"devstack ca %s\" again", dir, op)
}
