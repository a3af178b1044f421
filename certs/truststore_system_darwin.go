package certs

import (
	"crypto/x509"

	"github.com/smallstep/truststore"
)

// systemLocation is how the macOS store is named in results.
const systemLocation = "macOS System keychain"

func inSystemPool(cert *x509.Certificate) bool {
	// On macOS, crypto/x509 asks the platform verifier, which honours the
	// keychain's trust settings.
	_, err := cert.Verify(x509.VerifyOptions{})
	return err == nil
}

func systemStatus(cert *x509.Certificate) StoreResult {
	r := StoreResult{Store: StoreSystem, Location: systemLocation, State: StateNotTrusted}
	if inSystemPool(cert) {
		r.State = StateTrusted
	}
	return r
}

func systemInstall(ca *CA) StoreResult {
	if inSystemPool(ca.Cert) {
		return systemStatus(ca.Cert)
	}
	r := StoreResult{Store: StoreSystem, Location: systemLocation, State: StateAdded}
	// The library runs "security add-trusted-cert" through sudo, which asks
	// for the password on the terminal.
	if err := truststore.InstallFile(ca.CertPath()); err != nil {
		r.State = StateFailed
		r.Reason = err.Error()
		r.Fix = "run \"devstack ca install\" from a terminal as an administrator"
	}
	return r
}

func systemUninstall(ca *CA) StoreResult {
	r := StoreResult{Store: StoreSystem, Location: systemLocation, State: StateRemoved}
	if !inSystemPool(ca.Cert) {
		r.State = StateNotTrusted
		return r
	}
	if err := truststore.UninstallFile(ca.CertPath()); err != nil {
		r.State = StateFailed
		r.Reason = err.Error()
		r.Fix = "run \"devstack ca uninstall\" from a terminal as an administrator"
	}
	return r
}
