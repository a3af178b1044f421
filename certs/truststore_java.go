package certs

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/smallstep/truststore"
)

// The Java store is the JDK's cacerts keystore, changed with keytool through
// the truststore library's Trust interface. It is only looked at when a JDK
// is present: $JAVA_HOME, or a keytool on PATH.

// javaStorePass is the default cacerts password, as the JDK ships it.
const javaStorePass = "changeit"

type javaStore struct {
	keytool string
	cacerts string
	result  StoreResult // filled by Install and Uninstall
	done    bool
}

var _ truststore.Trust = (*javaStore)(nil)

// findJava finds keytool and the cacerts keystore of the JDK in $JAVA_HOME,
// else of the keytool on PATH.
func findJava() (*javaStore, bool) {
	exe := "keytool"
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	var home, keytool string
	if h := os.Getenv("JAVA_HOME"); h != "" {
		home, keytool = h, filepath.Join(h, "bin", exe)
	} else if p, err := exec.LookPath(exe); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		home, keytool = filepath.Dir(filepath.Dir(p)), p
	}
	if home == "" || !fileExists(keytool) {
		return nil, false
	}
	for _, rel := range []string{"lib/security/cacerts", "jre/lib/security/cacerts"} {
		if p := filepath.Join(home, filepath.FromSlash(rel)); fileExists(p) {
			return &javaStore{keytool: keytool, cacerts: p}, true
		}
	}
	return nil, false
}

func (j *javaStore) run(args ...string) ([]byte, error) {
	args = append(args, "-keystore", j.cacerts, "-storepass", javaStorePass)
	out, err := exec.Command(j.keytool, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("keytool %s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// trusted reports whether the keystore holds the CA, found by its SHA-256
// fingerprint (keytool prints it in uppercase hex with colons).
func (j *javaStore) trusted(cert *x509.Certificate) (bool, error) {
	out, err := j.run("-list")
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256(cert.Raw)
	fp := strings.ToUpper(hex.EncodeToString(sum[:]))
	return bytes.Contains(bytes.ReplaceAll(out, []byte(":"), nil), []byte(fp)), nil
}

func (j *javaStore) status(cert *x509.Certificate) StoreResult {
	r := StoreResult{Store: StoreJava, Location: j.cacerts, State: StateNotTrusted}
	ok, err := j.trusted(cert)
	switch {
	case err != nil:
		r.State, r.Reason, r.Fix = StateSkipped, err.Error(), "check that this user can read "+j.cacerts
	case ok:
		r.State = StateTrusted
	}
	return r
}

func (j *javaStore) install(ca *CA) StoreResult {
	err := truststore.InstallFile(ca.CertPath(), truststore.WithNoSystem(), truststore.WithTrust(j))
	return j.outcome(ca, err, "install")
}

func (j *javaStore) uninstall(ca *CA) StoreResult {
	err := truststore.UninstallFile(ca.CertPath(), truststore.WithNoSystem(), truststore.WithTrust(j))
	return j.outcome(ca, err, "uninstall")
}

func (j *javaStore) outcome(ca *CA, err error, op string) StoreResult {
	if !j.done {
		// Nothing to do: the library found it already in place.
		return j.status(ca.Cert)
	}
	r := j.result
	if err != nil && r.State != StateFailed {
		r.State, r.Reason = StateFailed, err.Error()
	}
	if r.State == StateFailed {
		r.Fix = asRoot(ca, StoreJava, op) + " (cacerts is usually owned by root)"
	}
	return r
}

// Name implements truststore.Trust.
func (j *javaStore) Name() string { return StoreJava }

// PreCheck implements truststore.Trust.
func (j *javaStore) PreCheck() error { return nil }

// Exists implements truststore.Trust.
func (j *javaStore) Exists(cert *x509.Certificate) bool {
	ok, _ := j.trusted(cert)
	return ok
}

// Install implements truststore.Trust.
func (j *javaStore) Install(filename string, cert *x509.Certificate) error {
	j.done = true
	j.result = StoreResult{Store: StoreJava, Location: j.cacerts, State: StateAdded}
	_, err := j.run("-importcert", "-noprompt", "-file", filename, "-alias", truststoreName(cert))
	if err == nil {
		if ok, _ := j.trusted(cert); !ok {
			err = errors.New("keytool succeeded but the keystore does not list the CA afterwards")
		}
	}
	if err != nil {
		j.result.State, j.result.Reason = StateFailed, err.Error()
	}
	return err
}

// Uninstall implements truststore.Trust.
func (j *javaStore) Uninstall(_ string, cert *x509.Certificate) error {
	j.done = true
	j.result = StoreResult{Store: StoreJava, Location: j.cacerts, State: StateNotTrusted}
	if ok, err := j.trusted(cert); err != nil || !ok {
		if err != nil {
			j.result.State, j.result.Reason = StateFailed, err.Error()
		}
		return err
	}
	for _, alias := range storeNames(cert) {
		if _, err := j.run("-delete", "-alias", alias); err == nil {
			j.result.State = StateRemoved
		}
	}
	if ok, _ := j.trusted(cert); ok {
		j.result.State, j.result.Reason = StateFailed, "the keystore still lists the CA after keytool -delete"
		return errStoreFailed
	}
	return nil
}
