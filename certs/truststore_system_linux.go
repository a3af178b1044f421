package certs

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"

	"github.com/smallstep/truststore"
)

// systemAnchorPatterns are the anchor directories the truststore library
// (and mkcert) write to, per distribution family. A CA installed by either
// tool, under either name, is found here.
var systemAnchorPatterns = []string{
	"/etc/pki/ca-trust/source/anchors/%s.pem",          // Fedora, RHEL
	"/usr/local/share/ca-certificates/%s.crt",          // Debian, Ubuntu, Alpine
	"/usr/share/pki/trust/anchors/%s.crt",              // openSUSE
	"/etc/ca-certificates/trust-source/anchors/%s.crt", // Arch
	"/etc/ssl/certs/%s.crt",
}

// systemAnchors lists the anchor files the CA may have been installed as.
func systemAnchors(cert *x509.Certificate) []string {
	var paths []string
	for _, pattern := range systemAnchorPatterns {
		for _, name := range storeNames(cert) {
			paths = append(paths, fmt.Sprintf(pattern, strings.ReplaceAll(name, " ", "_")))
		}
	}
	return paths
}

// installedAnchor returns the anchor file holding exactly this certificate.
func installedAnchor(cert *x509.Certificate) (string, bool) {
	for _, p := range systemAnchors(cert) {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if c, err := parseCertPEM(data); err == nil && bytes.Equal(c.Raw, cert.Raw) {
			return p, true
		}
	}
	return "", false
}

// inSystemPool reports whether Go's view of the system roots (the bundle
// update-ca-certificates writes, or SSL_CERT_FILE/SSL_CERT_DIR) trusts cert.
func inSystemPool(cert *x509.Certificate) bool {
	_, err := cert.Verify(x509.VerifyOptions{})
	return err == nil
}

func systemStatus(cert *x509.Certificate) StoreResult {
	r := StoreResult{Store: StoreSystem, State: StateNotTrusted}
	anchor, hasAnchor := installedAnchor(cert)
	r.Location = anchor
	switch inPool := inSystemPool(cert); {
	case inPool:
		r.State = StateTrusted
		if !hasAnchor {
			r.Location = "system certificate bundle"
		}
	case hasAnchor:
		// The anchor is there but the bundle was not regenerated.
		r.Reason = "the anchor file exists but the system bundle does not include it"
		r.Fix = strings.Join(truststore.SystemTrustCommand, " ")
	default:
		r.Location = systemAnchorFile(cert)
	}
	return r
}

// systemAnchorFile is where the truststore library installs the CA on this
// distribution, or "" when it knows none.
func systemAnchorFile(cert *x509.Certificate) string {
	if truststore.SystemTrustFilename == "" {
		return ""
	}
	return fmt.Sprintf(truststore.SystemTrustFilename, strings.ReplaceAll(truststoreName(cert), " ", "_"))
}

// systemSkip says why the system store cannot be changed by this process, or
// returns ok.
func systemSkip(ca *CA) (StoreResult, bool) {
	r := StoreResult{Store: StoreSystem, State: StateSkipped, Location: systemAnchorFile(ca.Cert)}
	if truststore.SystemTrustCommand == nil {
		r.Reason = "no known CA anchor directory on this Linux distribution"
		r.Fix = "add " + RootCertFile + " to your distribution's trusted CA anchors by hand"
		return r, true
	}
	if _, err := exec.LookPath(truststore.SystemTrustCommand[0]); err != nil {
		r.Reason = fmt.Sprintf("%q is not installed", truststore.SystemTrustCommand[0])
		r.Fix = "apt-get install ca-certificates (or your distribution's ca-certificates package)"
		return r, true
	}
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("sudo"); err != nil {
			r.Reason = "changing the system store needs root and sudo is not installed"
			r.Fix = "as root: CAROOT=" + shellQuote(ca.Dir) + " TRUST_STORES=system devstack ca install"
			return r, true
		}
	}
	return StoreResult{}, false
}

func systemInstall(ca *CA) StoreResult {
	if _, ok := installedAnchor(ca.Cert); ok && inSystemPool(ca.Cert) {
		return systemStatus(ca.Cert)
	}
	if r, skip := systemSkip(ca); skip {
		return r
	}
	r := StoreResult{Store: StoreSystem, Location: systemAnchorFile(ca.Cert)}
	if err := truststore.InstallFile(ca.CertPath()); err != nil {
		return systemFailure(r, err, asRoot(ca, StoreSystem, "install"))
	}
	// Verify: the library reports success from the commands it ran, which
	// says nothing about the file being there.
	if _, ok := installedAnchor(ca.Cert); !ok {
		r.State = StateFailed
		r.Reason = fmt.Sprintf("%s is missing after the install", r.Location)
		r.Fix = asRoot(ca, StoreSystem, "install")
		return r
	}
	r.State = StateAdded
	return r
}

func systemUninstall(ca *CA) StoreResult {
	anchor, ok := installedAnchor(ca.Cert)
	if !ok {
		return StoreResult{Store: StoreSystem, Location: systemAnchorFile(ca.Cert), State: StateNotTrusted}
	}
	if r, skip := systemSkip(ca); skip {
		r.Location = anchor
		return r
	}
	r := StoreResult{Store: StoreSystem, Location: anchor}
	if anchor != systemAnchorFile(ca.Cert) {
		// Installed by mkcert, under its name: remove that file ourselves,
		// then let the library refresh the bundle.
		if err := os.Remove(anchor); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return systemFailure(r, err, asRoot(ca, StoreSystem, "uninstall"))
		}
	}
	if err := truststore.UninstallFile(ca.CertPath()); err != nil {
		return systemFailure(r, err, asRoot(ca, StoreSystem, "uninstall"))
	}
	if _, still := installedAnchor(ca.Cert); still {
		r.State = StateFailed
		r.Reason = fmt.Sprintf("%s is still there after the uninstall", anchor)
		r.Fix = asRoot(ca, StoreSystem, "uninstall")
		return r
	}
	r.State = StateRemoved
	return r
}

// systemFailure fills r with what the failed command said; retry is the
// command that fixes it.
func systemFailure(r StoreResult, err error, retry string) StoreResult {
	r.State = StateFailed
	r.Reason = err.Error()
	var ce *truststore.CmdError
	if errors.As(err, &ce) {
		if out := strings.TrimSpace(string(ce.Out())); out != "" {
			r.Reason += ": " + out
		}
	}
	r.Fix = retry
	if errors.Is(err, fs.ErrPermission) || strings.Contains(r.Reason, "ermission denied") {
		r.Reason = "no permission to change the system store: " + r.Reason
	}
	return r
}
