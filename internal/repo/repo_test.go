package repo

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Only tests may depend on package testing: code that ships, and the
// benchmarks, must build without it (issue 10). internal/testenv is the
// tests' own helper package, imported by tests only.
func TestOnlyTestsImportTesting(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const testenv = "github.com/devstack-dev/devstack/internal/testenv"
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		deps := strings.Fields(imports)
		if pkg != testenv && (slices.Contains(deps, "testing") || slices.Contains(deps, testenv)) {
			t.Errorf("%s imports testing or internal/testenv outside its tests", pkg)
		}
	}
}
