package project

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParsePythonSpecifier(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{">=3.11", ">=3.11", true},
		{"~=3.12", "~=3.12", true},
		{">=3.10, <3.13", ">=3.10,<3.13", true},
		{"!=3.11.*,>=3.9", "!=3.11.*,>=3.9", true},
		{"==3.12.*", "==3.12.*", true},
		{"3.12", "==3.12.*", true},
		{"3.12.4", "==3.12.*", true},
		{"3", "==3.*", true},
		{"", "", false},
		{"python3.12", "", false},
		{">=three", "", false},
		{">=3.11,", "", false},
		{"^3.12", "", false},
	} {
		got, ok := parseSpecifier(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseSpecifier(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDeclarationMatches(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		alts    []string
		version string
		want    bool
	}{
		{">=3.12", nil, "3.11.2", false},
		{">=3.12", nil, "3.12.0", true},
		{">=3.10,<3.13", nil, "3.13.1", false},
		{">=3.10,<3.13", nil, "3.11.7", true},
		{"~=3.12", nil, "3.13.0", true},
		{"~=3.12", nil, "3.11.9", false},
		{"~=3.12.1", nil, "3.13.0", false},
		{"!=3.11.*", nil, "3.11.2", false},
		{"!=3.11.*", nil, "3.12.2", true},
		{"==3.12.*", nil, "3.12.7", true},
		{"==3.12.*", nil, "3.11.7", false},
		{"==3.12.*", []string{"==3.11.*"}, "3.11.7", true},
		{">=3.10", nil, "", false}, // an interpreter that did not run
	} {
		d := pythonDeclaration{Spec: tc.spec, Alternatives: tc.alts}
		if got := d.matches(tc.version); got != tc.want {
			t.Errorf("%q %q matches %s: got %v, want %v", tc.spec, tc.alts, tc.version, got, tc.want)
		}
	}
}

func TestDeclaredPython(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []pythonDeclaration
		warn  string // a substring of the one warning, "" for none
	}{
		{"none", map[string]string{"manage.py": ""}, nil, ""},
		{"requires-python",
			map[string]string{"pyproject.toml": "[build-system]\nrequires = []\n\n[project]\nname = \"x\"\nrequires-python = \">=3.12\"\n"},
			[]pythonDeclaration{{Where: "pyproject.toml:6", Text: ">=3.12", Spec: ">=3.12"}}, ""},
		{"requires-python range",
			map[string]string{"pyproject.toml": "[project]\nname = \"x\"\nrequires-python = \">=3.10, <3.13\"\n"},
			[]pythonDeclaration{{Where: "pyproject.toml:3", Text: ">=3.10, <3.13", Spec: ">=3.10,<3.13"}}, ""},
		{"requires-python elsewhere is not it",
			map[string]string{"pyproject.toml": "[tool.other]\nrequires-python = \">=3.12\"\n"}, nil, ""},
		{"requires-python garbage",
			map[string]string{"pyproject.toml": "[project]\nrequires-python = \"python 3\"\n"},
			nil, `pyproject.toml:2: cannot read the Python version "python 3"`},
		{"requires-python not a string",
			map[string]string{"pyproject.toml": "[project]\nrequires-python = 3.12\n"},
			nil, "pyproject.toml:2: cannot read the Python version"},
		{".python-version",
			map[string]string{".python-version": "3.12.4\n"},
			[]pythonDeclaration{{Where: ".python-version:1", Text: "3.12.4", Spec: "==3.12.*"}}, ""},
		{".python-version several",
			map[string]string{".python-version": "# comment\n3.12\n3.11.7\nsystem\n"},
			[]pythonDeclaration{{Where: ".python-version:2", Text: "3.12, 3.11.7", Spec: "==3.12.*", Alternatives: []string{"==3.11.*"}}}, ""},
		{".python-version uv forms",
			map[string]string{".python-version": "cpython@3.13\n"},
			[]pythonDeclaration{{Where: ".python-version:1", Text: "cpython@3.13", Spec: "==3.13.*"}}, ""},
		{".python-version uv build",
			map[string]string{".python-version": "cpython-3.12.4-linux-x86_64-gnu\n"},
			[]pythonDeclaration{{Where: ".python-version:1", Text: "cpython-3.12.4-linux-x86_64-gnu", Spec: "==3.12.*"}}, ""},
		{".python-version specifier",
			map[string]string{".python-version": ">=3.11\n"},
			[]pythonDeclaration{{Where: ".python-version:1", Text: ">=3.11", Spec: ">=3.11"}}, ""},
		{".python-version pyenv virtualenv name", map[string]string{".python-version": "myproject-env\n"}, nil, ""},
		{".python-version any cpython", map[string]string{".python-version": "cpython\n"}, nil, ""},
		{".python-version system only", map[string]string{".python-version": "system\n"}, nil, ""},
		{".python-version garbage",
			map[string]string{".python-version": "3.x\n"}, nil, `.python-version: cannot read the Python version "3.x"`},
		{"runtime.txt",
			map[string]string{"runtime.txt": "python-3.12.4\n"},
			[]pythonDeclaration{{Where: "runtime.txt:1", Text: "python-3.12.4", Spec: "==3.12.*"}}, ""},
		{"runtime.txt garbage",
			map[string]string{"runtime.txt": "ruby-3.3\n"}, nil, `runtime.txt: cannot read the Python version "ruby-3.3"`},
		{"Pipfile python_version",
			map[string]string{"Pipfile": "[packages]\ndjango = \"*\"\n\n[requires]\npython_version = \"3.12\"\n"},
			[]pythonDeclaration{{Where: "Pipfile:5", Text: "3.12", Spec: "==3.12.*"}}, ""},
		{"Pipfile full version wins",
			map[string]string{"Pipfile": "[requires]\npython_version = \"3.11\"\npython_full_version = \"3.12.4\"\n"},
			[]pythonDeclaration{{Where: "Pipfile:3", Text: "3.12.4", Spec: "==3.12.*"}}, ""},
		{"Pipfile wildcard",
			map[string]string{"Pipfile": "[requires]\npython_version = \"3.12.*\"\n"},
			nil, `Pipfile:2: cannot read the Python version "3.12.*"`},
		{"Pipfile broken",
			map[string]string{"Pipfile": "[requires\n"}, nil, "Pipfile: cannot read the Python version"},
		{"every file",
			map[string]string{
				"pyproject.toml":  "[project]\nrequires-python = \">=3.10\"\n",
				".python-version": "3.12\n",
				"runtime.txt":     "python-3.12.4",
				"Pipfile":         "[requires]\npython_version = \"3.12\"\n",
			},
			[]pythonDeclaration{
				{Where: "pyproject.toml:2", Text: ">=3.10", Spec: ">=3.10"},
				{Where: ".python-version:1", Text: "3.12", Spec: "==3.12.*"},
				{Where: "runtime.txt:1", Text: "python-3.12.4", Spec: "==3.12.*"},
				{Where: "Pipfile:2", Text: "3.12", Spec: "==3.12.*"},
			}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, tc.files)
			got, warnings := declaredPython(dir)
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				g, w := got[i], tc.want[i]
				if g.Where != w.Where || g.Text != w.Text || g.Spec != w.Spec || strings.Join(g.Alternatives, " ") != strings.Join(w.Alternatives, " ") {
					t.Errorf("declaration %d: got %+v, want %+v", i, g, w)
				}
			}
			switch {
			case tc.warn == "" && len(warnings) > 0:
				t.Errorf("warnings: got %q, want none", warnings)
			case tc.warn != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], tc.warn)):
				t.Errorf("warnings: got %q, want one with %q", warnings, tc.warn)
			}
		})
	}
}

// TestDeclaredPythonAppDir: a declaration beside a Django project one
// level down is named by its path from the project.
func TestDeclaredPythonAppDir(t *testing.T) {
	dir := writeTree(t, map[string]string{"src/runtime.txt": "python-3.12.1\n"})
	got, _ := declaredPython(dir, filepath.Join(dir, "src"))
	if len(got) != 1 || got[0].Where != filepath.Join("src", "runtime.txt")+":1" {
		t.Errorf("got %+v, want src/runtime.txt:1", got)
	}
}

// TestBetterPrefersDeclaredVersion: of the candidates that can run the app,
// the one of the declared version wins over one with more of the
// requirements; without a declaration, the requirements decide.
func TestBetterPrefersDeclaredVersion(t *testing.T) {
	cand := func(version string, lacking ...string) inspection {
		c := inspection{Candidate: Candidate{Path: "/py" + version, Version: version}}
		for _, name := range lacking {
			c.gaps = append(c.gaps, requirementGap{name: name})
		}
		return c
	}
	decls := []pythonDeclaration{{Spec: ">=3.12"}}
	for _, tc := range []struct {
		name  string
		cands []inspection
		decls []pythonDeclaration
		want  string
	}{
		{"declared version over requirements", []inspection{cand("3.11.2"), cand("3.12.1", "celery")}, decls, "/py3.12.1"},
		{"no declaration: requirements", []inspection{cand("3.11.2"), cand("3.12.1", "celery")}, nil, "/py3.11.2"},
		{"both match: requirements", []inspection{cand("3.13.0", "celery"), cand("3.12.1")}, decls, "/py3.12.1"},
		{"none match: requirements", []inspection{cand("3.10.1", "celery"), cand("3.11.2")}, decls, "/py3.11.2"},
		{"tie: search order", []inspection{cand("3.12.1"), cand("3.13.0")}, decls, "/py3.12.1"},
	} {
		var best *inspection
		for i := range tc.cands {
			if best == nil || better(tc.cands[i], *best, tc.decls) {
				best = &tc.cands[i]
			}
		}
		if best.Path != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, best.Path, tc.want)
		}
	}
}

func TestPythonVersionWarning(t *testing.T) {
	d := pythonDeclaration{Where: "pyproject.toml:6", Text: ">=3.12", Spec: ">=3.12"}
	in := Interpreter{Path: "/usr/bin/python3", Version: "3.11.2"}
	got := pythonVersionWarning(d, in, nil, ConfigFileName)
	for _, want := range []string{"pyproject.toml:6", ">=3.12", "/usr/bin/python3 is Python 3.11.2", `python = "/path/to/python3.12" in devstack.toml`} {
		if !strings.Contains(got, want) {
			t.Errorf("warning %q lacks %q", got, want)
		}
	}
	other := &Candidate{Path: "/opt/py312/bin/python3", Version: "3.12.4", Missing: []string{"django", "gunicorn"}}
	got = pythonVersionWarning(d, in, other, ConfigFileName)
	for _, want := range []string{"/opt/py312/bin/python3 is Python 3.12.4 but cannot import django and gunicorn",
		"/opt/py312/bin/python3 -m pip install django gunicorn", `python = "/opt/py312/bin/python3" in devstack.toml`} {
		if !strings.Contains(got, want) {
			t.Errorf("warning %q lacks %q", got, want)
		}
	}
}

// TestDetectDeclaredPython runs the search with this machine's real
// interpreters (all older than 3.12 here): a project that declares
// ">=3.12" gets one warning naming the declaration and the interpreter;
// one that declares ">=3.10" none. The interpreter cache is shared: the
// declaration must count on a warm cache as on a cold one.
func TestDetectDeclaredPython(t *testing.T) {
	py := systemPython(t)
	out, err := exec.Command(py, "-c", "import sys; print('%d.%d' % sys.version_info[:2])").Output()
	if err != nil {
		t.Fatal(err)
	}
	if v := strings.TrimSpace(string(out)); versionMatches(v, ">=3.12") {
		t.Skipf("%s is Python %s: it meets >=3.12", py, v)
	}
	for _, tc := range []struct {
		spec string
		warn bool
	}{{">=3.12", true}, {">=3.10", false}, {">=3.12", true}} {
		dir := djangoTree(t)
		if err := os.WriteFile(filepath.Join(dir, "pyproject.toml"), []byte("[project]\nname = \"site\"\nrequires-python = \""+tc.spec+"\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Detect(dir, Overrides{Environ: testEnviron()})
		if err != nil {
			t.Fatal(err)
		}
		var found []string
		for _, w := range p.Warnings {
			if strings.Contains(w, "declares Python") {
				found = append(found, w)
			}
		}
		switch {
		case !tc.warn && len(found) > 0:
			t.Errorf("%s: got %q, want no warning", tc.spec, found)
		case tc.warn && (len(found) != 1 || !strings.Contains(found[0], "pyproject.toml:3: the project declares Python >=3.12, but "+p.Interpreter.Path+" is Python "+p.Interpreter.Version)):
			t.Errorf("%s: got %q, want one warning naming pyproject.toml:3 and %s", tc.spec, found, p.Interpreter.Path)
		}
	}
}
