//go:build !linux && !darwin

package certs

import "crypto/x509"

// Other systems: devstack does not manage their system store.

const systemUnsupported = "devstack does not manage the system trust store on this operating system"

func systemStatus(*x509.Certificate) StoreResult {
	return StoreResult{Store: StoreSystem, State: StateSkipped, Reason: systemUnsupported,
		Fix: "import " + RootCertFile + " into the system store by hand"}
}

func systemInstall(ca *CA) StoreResult   { return systemStatus(ca.Cert) }
func systemUninstall(ca *CA) StoreResult { return systemStatus(ca.Cert) }
