package project

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/devstack-dev/devstack/internal/testenv"
)

func TestDeclaredRequirements(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"requirements.txt": "# the app\nDjango>=4.2,<5  # LTS\n-r requirements/base.txt\ncelery[redis]==5.3 ; python_version >= '3.8'\n" +
			"-e git+https://example.invalid/x.git#egg=x\nhttps://example.invalid/pkg.whl\nmy-lib @ https://example.invalid/my-lib.zip\n--hash=sha256:abc\n",
		"requirements/base.txt": "python-dateutil\n",
		"requirements-dev.txt":  "pytest\n-r requirements.txt\n",
		"pyproject.toml": "[project]\nname = \"site\"\ndependencies = [\"Pillow>=10\", \"zope.interface\"]\n" +
			"[tool.poetry.dependencies]\npython = \"^3.11\"\nGunicorn = \"*\"\n",
	})
	all, runtime := declaredRequirements(dir, dir)
	want := []requirement{{"celery", "==5.3"}, {"django", ">=4.2,<5"}, {"gunicorn", ""}, {"my-lib", ""}, {"pillow", ">=10"},
		{"pytest", ""}, {"python-dateutil", ""}, {"zope-interface", ""}}
	if !slices.Equal(all, want) {
		t.Errorf("all: got %q, want %q", all, want)
	}
	if slices.Contains(runtime, "pytest") || !slices.Contains(runtime, "python-dateutil") {
		t.Errorf("runtime: got %q, want requirements.txt's and pyproject's only", runtime)
	}
}

func TestLackingReadsMetadata(t *testing.T) {
	site := writeTree(t, map[string]string{
		"Django-4.2.1.dist-info/METADATA":     "Name: Django\n",
		"python_dateutil-2.8.2.egg-info":      "",
		"requests/__init__.py":                "", // a module without metadata is no distribution
		"zope.interface-6.0.dist-info/RECORD": "",
	})
	reqs := []requirement{{"django", ">=4.2"}, {"python-dateutil", "~=2.8"}, {"requests", ""}, {"zope-interface", "==5.*"}, {"psycopg2", ""}}
	var got []string
	for _, g := range lacking(reqs, []string{site, "/nonexistent"}) {
		got = append(got, g.String())
	}
	want := []string{"requests", "zope-interface (==5.*; 6.0 installed)", "psycopg2"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, tt := range []struct {
		g    requirementGap
		want bool
	}{
		{requirementGap{name: "celery"}, true},
		{requirementGap{"django", "==5.1.15", "3.2.25"}, true},
		{requirementGap{"django", "==3.1.4", "3.2.25"}, false},
		{requirementGap{"django", ">=3.1,<3.2", "3.2.25"}, false},
	} {
		if got := tt.g.breaking(); got != tt.want {
			t.Errorf("%s: breaking %v, want %v", tt.g, got, tt.want)
		}
	}
	if r, _ := parseRequirement("psycopg2-binary==2.9.9"); r != (requirement{"psycopg2", "==2.9.9"}) {
		t.Errorf("psycopg2-binary: got %+v, want Debian's psycopg2 to fulfil it", r)
	}
}

func TestVersionMatches(t *testing.T) {
	tests := []struct {
		version, spec string
		want          bool
	}{
		{"3.2.19", "==5.1.15", false},
		{"5.1.15", "==5.1.15", true},
		{"5.1", "==5.1.0", true},
		{"4.2.7", ">=4.2,<5", true},
		{"5.0", ">=4.2,<5", false},
		{"3.2.19", "~=3.2.0", true},
		{"3.3", "~=3.2.0", false},
		{"3.3", "~=3.2", true},
		{"5.1.3", "==5.1.*", true},
		{"5.10", "==5.1.*", false},
		{"20.1.0", "!=20.1.0", false},
		{"2.0.0rc1", ">=2", true},
		{"1.0", "bogus", true},
	}
	for _, tt := range tests {
		if got := versionMatches(tt.version, tt.spec); got != tt.want {
			t.Errorf("versionMatches(%q, %q) = %v, want %v", tt.version, tt.spec, got, tt.want)
		}
	}
}

// Of two interpreters that can both run the app, the one that also has the
// project's declared requirements wins, even when it comes later in the
// search; and when the app cannot import a module, the other candidates
// that have it are named.
func TestInterpreterPrefersTheProjectsRequirements(t *testing.T) {
	py := systemPython(t)
	dir := djangoTree(t)
	venvs := map[string]string{}
	for _, name := range []string{".venv", "venv"} {
		v := filepath.Join(dir, name)
		if out, err := exec.Command(py, "-m", "venv", "--system-site-packages", "--without-pip", v).CombinedOutput(); err != nil {
			testenv.Missing(t, "python3 -m venv: %s (install: apt-get install python3-venv)", out)
		}
		venvs[name] = v
	}
	site, err := filepath.Glob(filepath.Join(venvs["venv"], "lib", "python3*", "site-packages"))
	if err != nil || len(site) != 1 {
		t.Fatalf("site-packages of venv: %q, %v", site, err)
	}
	// Only venv/ has the project's requirement installed, as pip leaves it.
	for _, f := range []string{"invoice_tools-1.0.dist-info/METADATA", "invoice_tools/__init__.py"} {
		full := filepath.Join(site[0], f)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("Name: invoice-tools\nVersion: 1.0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	environ := []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"}

	p, err := Detect(dir, Overrides{Environ: environ})
	if err != nil {
		t.Fatal(err)
	}
	if p.Interpreter.Source != ".venv" {
		t.Fatalf("without requirements: got %s (%s), want .venv, first in the search", p.Interpreter.Path, p.Interpreter.Source)
	}
	if got := CandidatesWithModule(p, "invoice_tools"); len(got) != 1 || got[0].Source != "venv" {
		t.Errorf("candidates with invoice_tools: got %+v, want venv's alone", got)
	}
	// A missing submodule is looked for as itself: having the package is
	// not enough (pydantic 1 has no pydantic.v1).
	if got := CandidatesWithModule(p, "invoice_tools.pdf"); len(got) != 0 {
		t.Errorf("candidates with invoice_tools.pdf: got %+v, want none", got)
	}

	if err := os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("django\ngunicorn\ninvoice-tools\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err = Detect(dir, Overrides{Environ: environ})
	if err != nil {
		t.Fatal(err)
	}
	if p.Interpreter.Source != "venv" || len(p.Interpreter.gaps) != 0 {
		t.Errorf("with requirements: got %s (%s), lacking %q; want venv, which has invoice-tools", p.Interpreter.Path, p.Interpreter.Source, p.Interpreter.gaps)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings: %q", p.Warnings)
	}

	// Nobody has it: the chosen one is named with what it lacks.
	if err := os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("django\nnot-installed-anywhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err = Detect(dir, Overrides{Environ: environ})
	if err != nil {
		t.Fatal(err)
	}
	if p.Interpreter.Source != ".venv" || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "not-installed-anywhere") {
		t.Errorf("got %s, warnings %q", p.Interpreter.Source, p.Warnings)
	}
}

// A requirements.txt written by pip freeze can lack sixty distributions:
// the start warning names the framework and the gateway first, then a few
// others and how many more, and installs the file rather than listing
// sixty names.
func TestRequirementsWarningIsCapped(t *testing.T) {
	py := systemPython(t)
	dir := djangoTree(t)
	lines := []string{"Django==99.0", "gunicorn==99.0"}
	for i := range 60 {
		lines = append(lines, fmt.Sprintf("aaa-frozen-%02d==1.0", i))
	}
	if err := os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Detect(dir, Overrides{Python: py, Environ: testEnviron()})
	if err != nil {
		t.Fatal(err)
	}
	var w string
	for _, x := range p.Warnings {
		if strings.Contains(x, "does not have what the project requires") {
			w = x
		}
	}
	want := regexp.MustCompile(`requires: django \(==99\.0; [0-9.]+ installed\), gunicorn \(==99\.0; [0-9.]+ installed\), aaa-frozen-00, aaa-frozen-01, aaa-frozen-02 and 57 more;.*\(install: \S+ -m pip install -r requirements\.txt\)$`)
	if !want.MatchString(w) {
		t.Errorf("warning %q, want it to match %s", w, want)
	}
	if len(p.Interpreter.gaps) != 62 {
		t.Errorf("gaps has %d, want all 62", len(p.Interpreter.gaps))
	}
	// A few are all named, and so installed.
	gaps := []requirementGap{{name: "celery"}, {name: "redis"}, {name: "flask", spec: "==9.0", installed: "2.2.2"}}
	if got, want := requirementsWarning("py", gaps, "", "requirements.txt"),
		"py does not have what the project requires: flask (==9.0; 2.2.2 installed), celery, redis; the app may fail to start (install: py -m pip install flask celery redis)"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// pip reads requirements files saved with a byte order mark: UTF-8 with
// one (Windows editors), and UTF-16 (pip freeze > requirements.txt in
// Windows PowerShell 5).
func TestDeclaredRequirementsWithAByteOrderMark(t *testing.T) {
	encode16 := func(bigEndian bool, s string) string {
		var b []byte
		if bigEndian {
			b = append(b, 0xFE, 0xFF)
		} else {
			b = append(b, 0xFF, 0xFE)
		}
		for _, u := range utf16.Encode([]rune(s)) {
			if bigEndian {
				b = append(b, byte(u>>8), byte(u))
			} else {
				b = append(b, byte(u), byte(u>>8))
			}
		}
		return string(b)
	}
	for _, tt := range []struct {
		name, data string
	}{
		{"utf-8", "\ufeffDjango==5.2.5\r\nwhitenoise\r\n"},
		{"utf-16le", encode16(false, "Django==5.2.5\r\nwhitenoise\r\n")},
		{"utf-16be", encode16(true, "Django==5.2.5\r\nwhitenoise\r\n")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"requirements.txt": tt.data})
			all, _ := declaredRequirements(dir)
			if want := []requirement{{"django", "==5.2.5"}, {"whitenoise", ""}}; !slices.Equal(all, want) {
				t.Errorf("got %q, want %q", all, want)
			}
		})
	}
}
