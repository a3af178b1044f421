package repo

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/devstack-dev/devstack"

// The package table in docs/architecture.md is the map a new contributor
// reads: every package is in it, and each imports only what its row
// allows (issue 10).
func TestArchitectureTableMatchesTheCode(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	allowed := packageTable(t, string(doc))
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		path, imports, _ := strings.Cut(line, " ")
		pkg := shortName(path)
		may, ok := rowFor(allowed, pkg)
		if !ok {
			t.Errorf("docs/architecture.md has no row for %s", pkg)
			continue
		}
		for _, imp := range strings.Fields(imports) {
			if dep := shortName(imp); strings.HasPrefix(imp, module) && !slices.Contains(may, dep) {
				t.Errorf("%s imports %s, which its row in docs/architecture.md does not allow", pkg, dep)
			}
		}
	}
}

// shortName is a package's path in the tree ("orchestrator/watch"), or
// "main" for the command.
func shortName(importPath string) string {
	if importPath == module {
		return "main"
	}
	return strings.TrimPrefix(importPath, module+"/")
}

// rowFor finds pkg's row; a row "dir/..." covers every package below dir.
func rowFor(rows map[string][]string, pkg string) ([]string, bool) {
	if may, ok := rows[pkg]; ok {
		return may, true
	}
	for name, may := range rows {
		if dir, ok := strings.CutSuffix(name, "/..."); ok && strings.HasPrefix(pkg, dir+"/") {
			return may, true
		}
	}
	return nil, false
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// packageTable reads the table's rows: package → the packages it may import.
func packageTable(t *testing.T, doc string) map[string][]string {
	rows := map[string][]string{}
	for line := range strings.SplitSeq(doc, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		name := codeSpan.FindStringSubmatch(cells[1])[1]
		var may []string
		for _, m := range codeSpan.FindAllStringSubmatch(cells[3], -1) {
			may = append(may, m[1])
		}
		rows[name] = may
	}
	if len(rows) < 10 {
		t.Fatalf("docs/architecture.md: found %d package rows, want the whole table", len(rows))
	}
	return rows
}
