package certs

import (
	"os"
	"strings"
	"testing"
	"time"
)

// Status only reads, so it can look at this machine's real system and Java
// stores: a fresh CA is in neither, and nothing may change.
func TestSystemAndJavaStatusOfAFreshCA(t *testing.T) {
	t.Setenv("TRUST_STORES", "system,java")
	ca := mustCreate(t, time.Now())
	anchor := systemAnchorFile(ca.Cert)
	results, err := Status(ca)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) == 0 || results[0].Store != StoreSystem {
		t.Fatalf("results %+v: want the system store first", results)
	}
	sys := results[0]
	if sys.State != StateNotTrusted {
		t.Errorf("system: got %v, want not trusted (%+v)", sys.State, sys)
	}
	if anchor != "" {
		if sys.Location != anchor {
			t.Errorf("system location: got %q, want %q", sys.Location, anchor)
		}
		if !strings.Contains(anchor, "devstack_development_CA_"+ca.Cert.SerialNumber.String()) {
			t.Errorf("anchor %q does not use the truststore library's name", anchor)
		}
		if _, err := os.Stat(anchor); err == nil {
			t.Errorf("status created %s", anchor)
		}
	}
	if j, ok := findJava(); ok {
		if len(results) != 2 || results[1].Store != StoreJava || results[1].State != StateNotTrusted {
			t.Errorf("java (%s): got %+v, want not trusted", j.cacerts, results[1:])
		}
	} else if len(results) != 1 {
		t.Errorf("no JDK here, but got %+v", results[1:])
	}
}

func TestSystemAnchorsCoverMkcertNames(t *testing.T) {
	ca := mustCreate(t, time.Now())
	var mkcert, devstack bool
	for _, p := range systemAnchors(ca.Cert) {
		mkcert = mkcert || strings.HasSuffix(p, "/mkcert_development_CA_"+ca.Cert.SerialNumber.String()+".crt")
		devstack = devstack || strings.HasSuffix(p, "/devstack_development_CA_"+ca.Cert.SerialNumber.String()+".crt")
	}
	if !mkcert || !devstack {
		t.Errorf("anchors %q miss mkcert's (%v) or devstack's (%v) file name", systemAnchors(ca.Cert), mkcert, devstack)
	}
}
