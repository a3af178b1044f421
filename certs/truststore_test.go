package certs

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// nssHome makes a throwaway HOME holding empty NSS databases at the given
// relative paths, and limits the trust stores to NSS: tests never touch the
// machine's system or Java store.
func nssHome(t *testing.T, dbs ...string) (home string, certutil string) {
	t.Helper()
	certutil = testenv.LookPath(t, "certutil", "apt-get install libnss3-tools")
	home = t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("TRUST_STORES", "nss")
	for _, db := range dbs {
		dir := filepath.Join(home, db)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		certutilRun(t, certutil, "-N", "-d", "sql:"+dir, "--empty-password")
	}
	return home, certutil
}

func certutilRun(t *testing.T, certutil string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, certutil, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("certutil %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func states(results []StoreResult) []string {
	var s []string
	for _, r := range results {
		s = append(s, r.Store+" "+r.State.String())
	}
	return s
}

func wantStates(t *testing.T, what string, results []StoreResult, want ...string) {
	t.Helper()
	if got := states(results); !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q (%+v)", what, got, want, results)
	}
}

func TestNSSInstallStatusUninstall(t *testing.T) {
	home, certutil := nssHome(t, ".pki/nssdb", ".mozilla/firefox/abcd.default-release")
	ca := mustCreate(t, time.Now())
	chromium := "sql:" + filepath.Join(home, ".pki/nssdb")
	firefox := "sql:" + filepath.Join(home, ".mozilla/firefox/abcd.default-release")
	nick := "devstack development CA " + ca.Cert.SerialNumber.String()

	results, err := Status(ca)
	if err != nil {
		t.Fatal(err)
	}
	wantStates(t, "status before install", results, "nss not trusted", "nss not trusted")

	results, err = Install(ca)
	if err != nil {
		t.Fatalf("Install: %v (%+v)", err, results)
	}
	wantStates(t, "install", results, "nss added", "nss added")
	if locs := []string{results[0].Location, results[1].Location}; !slices.Contains(locs, chromium) || !slices.Contains(locs, firefox) {
		t.Errorf("install locations: got %q, want %s and %s", locs, chromium, firefox)
	}
	for _, db := range []string{chromium, firefox} {
		list := certutilRun(t, certutil, "-L", "-d", db)
		if !strings.Contains(list, nick) || !strings.Contains(list, "C,,") {
			t.Errorf("certutil -L -d %s does not list %q with trust C,,:\n%s", db, nick, list)
		}
	}

	results, _ = Status(ca)
	wantStates(t, "status after install", results, "nss trusted", "nss trusted")
	results, err = Install(ca)
	if err != nil {
		t.Fatal(err)
	}
	wantStates(t, "second install", results, "nss trusted", "nss trusted")

	results, err = Uninstall(ca)
	if err != nil {
		t.Fatalf("Uninstall: %v (%+v)", err, results)
	}
	wantStates(t, "uninstall", results, "nss removed", "nss removed")
	if list := certutilRun(t, certutil, "-L", "-d", chromium); strings.Contains(list, nick) {
		t.Errorf("CA still listed after uninstall:\n%s", list)
	}
	results, _ = Status(ca)
	wantStates(t, "status after uninstall", results, "nss not trusted", "nss not trusted")
	results, err = Uninstall(ca)
	if err != nil {
		t.Fatal(err)
	}
	wantStates(t, "second uninstall", results, "nss not trusted", "nss not trusted")
}

func TestNSSKeylessCAInstalls(t *testing.T) {
	nssHome(t, ".pki/nssdb")
	ca := mustCreate(t, time.Now())
	os.Remove(filepath.Join(ca.Dir, RootKeyFile))
	keyless, err := Load(ca.Dir)
	if err != nil || !keyless.Keyless() {
		t.Fatalf("Load keyless: %v", err)
	}
	results, err := Install(keyless)
	if err != nil {
		t.Fatal(err)
	}
	wantStates(t, "install keyless", results, "nss added")
}

func TestNSSSkipsSayWhy(t *testing.T) {
	ca := mustCreate(t, time.Now())

	t.Run("no database", func(t *testing.T) {
		nssHome(t)
		results, err := Install(ca)
		wantStates(t, "install", results, "nss skipped")
		if len(results) == 1 && (!strings.Contains(results[0].Reason, "no NSS database found") || !strings.Contains(results[0].Fix, "start Firefox or Chromium")) {
			t.Errorf("reason %q / fix %q", results[0].Reason, results[0].Fix)
		}
		wantErr(t, err, "fix the skipped stores", "no trust store could be changed")
	})

	t.Run("no certutil", func(t *testing.T) {
		nssHome(t, ".pki/nssdb")
		t.Setenv("PATH", t.TempDir())
		for name, run := range map[string]func(*CA) ([]StoreResult, error){"status": Status, "install": Install, "uninstall": Uninstall} {
			results, _ := run(ca)
			wantStates(t, name, results, "nss skipped")
			if len(results) == 1 && (!strings.Contains(results[0].Reason, "certutil is not installed") || !strings.Contains(results[0].Fix, "libnss3-tools")) {
				t.Errorf("%s: reason %q / fix %q", name, results[0].Reason, results[0].Fix)
			}
		}
	})
}

// A CA that "mkcert -install" put into NSS (under mkcert's nickname) is seen
// as trusted, and uninstall removes it.
func TestNSSSeesMkcertInstall(t *testing.T) {
	mkcert := buildMkcert(t) // before HOME changes
	home, certutil := nssHome(t, ".pki/nssdb")
	ca := mustCreate(t, time.Now())
	runMkcert(t, mkcert, ca.Dir, home, "-install")
	db := "sql:" + filepath.Join(home, ".pki/nssdb")
	if list := certutilRun(t, certutil, "-L", "-d", db); !strings.Contains(list, mkcertName(ca.Cert)) {
		t.Fatalf("mkcert -install did not add %q:\n%s", mkcertName(ca.Cert), list)
	}
	results, _ := Status(ca)
	wantStates(t, "status", results, "nss trusted")
	results, err := Uninstall(ca)
	if err != nil {
		t.Fatal(err)
	}
	wantStates(t, "uninstall", results, "nss removed")
	if list := certutilRun(t, certutil, "-L", "-d", db); strings.Contains(list, mkcertName(ca.Cert)) {
		t.Errorf("mkcert's entry survived uninstall:\n%s", list)
	}
}

func TestStores(t *testing.T) {
	for env, want := range map[string][]string{
		"":                  {"system", "nss", "java"},
		"nss":               {"nss"},
		"nss, system,nss,,": {"nss", "system"},
	} {
		t.Setenv("TRUST_STORES", env)
		got, err := Stores()
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("TRUST_STORES=%q: got %q, %v; want %q", env, got, err, want)
		}
	}
	t.Setenv("TRUST_STORES", "nss,firefox")
	_, err := Stores()
	wantErr(t, err, "system, nss and java", `unknown trust store "firefox"`)
}

func TestParseCertutilList(t *testing.T) {
	out := `
Certificate Nickname                                         Trust Attributes
                                                             SSL,S/MIME,JAR/XPI

devstack development CA 132208242624935354824275763842089726038 C,,  
mkcert development CA 1                                      CT,C,C
My Server                                                    u,u,u
`
	got := parseCertutilList([]byte(out))
	want := map[string]string{
		"devstack development CA 132208242624935354824275763842089726038": "C,,",
		"mkcert development CA 1": "CT,C,C",
		"My Server":               "u,u,u",
	}
	if len(got) != len(want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%q: got flags %q, want %q", k, got[k], v)
		}
	}
}

func TestAsRootKeepsTheCADirectory(t *testing.T) {
	for dir, want := range map[string]string{
		"/home/ana/.local/share/mkcert":                 "sudo CAROOT=/home/ana/.local/share/mkcert TRUST_STORES=system devstack ca install",
		"/Users/ana/Library/Application Support/mkcert": "sudo CAROOT='/Users/ana/Library/Application Support/mkcert' TRUST_STORES=system devstack ca install",
		"/tmp/it's here":                                `sudo CAROOT='/tmp/it'\''s here' TRUST_STORES=system devstack ca install`,
	} {
		if got := asRoot(&CA{Dir: dir}, StoreSystem, "install"); got != want {
			t.Errorf("asRoot(%q): got %s, want %s", dir, got, want)
		}
	}
}
