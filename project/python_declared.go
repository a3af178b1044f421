package project

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// A project says which Python it is written for in one of four places:
// requires-python in pyproject.toml's [project] table (a PEP 440
// specifier), .python-version (pyenv's and uv's: "3.12", "3.12.4", one
// per line), runtime.txt (Heroku's "python-3.12.4") and the Pipfile's
// [requires] python_version or python_full_version. devstack prefers an
// interpreter that matches and warns when the one it runs does not:
// code written for 3.12 can fail to parse under 3.11, with an error that
// names neither.

// pythonDeclaration is one statement of the Python version the project
// needs.
type pythonDeclaration struct {
	Where string // "pyproject.toml:7", ".python-version:1", "Pipfile [requires] python_version"
	Text  string // as written: ">=3.12", "3.12.4"
	Spec  string // the PEP 440 specifiers it stands for: ">=3.12", "==3.12.*"
	// Alternatives are further specifiers any one of which is as good
	// (a .python-version naming several versions); Spec is the first.
	Alternatives []string
}

// matches reports whether a Python version ("3.11.2") meets the
// declaration.
func (d pythonDeclaration) matches(version string) bool {
	if version == "" {
		return false
	}
	for _, s := range append([]string{d.Spec}, d.Alternatives...) {
		if versionMatches(version, s) {
			return true
		}
	}
	return false
}

// pythonVersionRE is a Python release as pinned: "3", "3.12", "3.12.4".
var pythonVersionRE = regexp.MustCompile(`^\d+(\.\d+){0,2}$`)

// pinSpec turns a pinned version into the specifier devstack checks: the
// same minor version ("3.12.4" and "3.12" are "==3.12.*"). A patch
// release does not change what code parses or which wheels install, so
// 3.12.7 runs a project pinned to 3.12.4 without a word.
func pinSpec(v string) string {
	r := releaseOf(v)
	if len(r) == 1 {
		return fmt.Sprintf("==%d.*", r[0])
	}
	return fmt.Sprintf("==%d.%d.*", r[0], r[1])
}

// specifierRE is a PEP 440 specifier set such as ">=3.10,<3.13" or
// "~=3.12", "==3.12.*", "!=3.11.*".
var specifierRE = regexp.MustCompile(`^\s*(?:===|==|!=|>=|<=|~=|>|<)\s*\d+(?:\.\d+)*(?:\.\*)?[A-Za-z0-9.+!-]*\s*(?:,\s*(?:===|==|!=|>=|<=|~=|>|<)\s*\d+(?:\.\d+)*(?:\.\*)?[A-Za-z0-9.+!-]*\s*)*$`)

// parseSpecifier reads a PEP 440 specifier set, as requires-python
// holds; a bare version ("3.12", as in a Pipfile) is a pin.
func parseSpecifier(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if pythonVersionRE.MatchString(s) {
		return pinSpec(s), true
	}
	if !specifierRE.MatchString(s) {
		return "", false
	}
	return strings.Join(strings.Fields(s), ""), true
}

// declaredPython reads every declaration of the Python version in dirs
// (the project, and its app directory when that differs), and warnings
// for those it cannot read.
func declaredPython(dirs ...string) (decls []pythonDeclaration, warnings []string) {
	seen := map[string]bool{}
	for _, dir := range dirs {
		if dir == "" || seen[dir] {
			continue
		}
		seen[dir] = true
		rel := func(name string) string {
			if dir == dirs[0] {
				return name
			}
			if r, err := filepath.Rel(dirs[0], filepath.Join(dir, name)); err == nil {
				return r
			}
			return filepath.Join(dir, name)
		}
		for _, read := range []func(dir string, rel func(string) string) (*pythonDeclaration, string){
			readRequiresPython, readPythonVersionFile, readRuntimeTxt, readPipfilePython,
		} {
			d, w := read(dir, rel)
			if d != nil {
				decls = append(decls, *d)
			}
			if w != "" {
				warnings = append(warnings, w)
			}
		}
	}
	return decls, warnings
}

// unreadable is the warning for a declaration devstack cannot read.
func unreadable(where, text, expect string) string {
	return fmt.Sprintf("%s: cannot read the Python version %q (expected %s); devstack does not check the interpreter's version against it", where, text, expect)
}

// lineOfKey returns the 1-based line of the first "key =" in table (""
// for the top level) of a TOML file, 0 when not found.
func lineOfKey(data, table, key string) int {
	current := ""
	keyRE := regexp.MustCompile(`^\s*["']?` + regexp.QuoteMeta(key) + `["']?\s*=`)
	for i, line := range strings.Split(data, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") {
			current = strings.Trim(strings.TrimSpace(strings.SplitN(t, "#", 2)[0]), "[] ")
			continue
		}
		if current == table && keyRE.MatchString(line) {
			return i + 1
		}
	}
	return 0
}

func where(name string, line int, key string) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d", name, line)
	}
	return name + " " + key
}

// readRequiresPython reads [project] requires-python in pyproject.toml.
func readRequiresPython(dir string, rel func(string) string) (*pythonDeclaration, string) {
	data, err := os.ReadFile(filepath.Join(dir, "pyproject.toml"))
	if err != nil {
		return nil, ""
	}
	var py struct {
		Project struct {
			RequiresPython any `toml:"requires-python"`
		} `toml:"project"`
	}
	if _, err := toml.Decode(string(data), &py); err != nil {
		return nil, "" // the config reader reports a broken pyproject.toml
	}
	if py.Project.RequiresPython == nil {
		return nil, ""
	}
	w := where(rel("pyproject.toml"), lineOfKey(string(data), "project", "requires-python"), "[project] requires-python")
	text, ok := py.Project.RequiresPython.(string)
	if !ok {
		return nil, unreadable(w, fmt.Sprint(py.Project.RequiresPython), `a specifier such as ">=3.11"`)
	}
	spec, ok := parseSpecifier(text)
	if !ok {
		return nil, unreadable(w, text, `a specifier such as ">=3.11"`)
	}
	return &pythonDeclaration{Where: w, Text: text, Spec: spec}, ""
}

// readPythonVersionFile reads .python-version: each line a version
// ("3.12", "3.12.4"), uv's "cpython@3.12" or "cpython-3.12.4-…", or a
// specifier (">=3.11", uv). "system" and pyenv's names that are not
// versions (a virtualenv made with pyenv-virtualenv, "pypy3.10", a conda
// build) say nothing devstack can check and are left out.
func readPythonVersionFile(dir string, rel func(string) string) (*pythonDeclaration, string) {
	data, err := os.ReadFile(filepath.Join(dir, ".python-version"))
	if err != nil {
		return nil, ""
	}
	var d *pythonDeclaration
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		for _, name := range strings.Fields(line) {
			spec, ok, skip := pythonVersionFileSpec(name)
			switch {
			case skip:
				continue
			case !ok:
				return nil, unreadable(rel(".python-version"), name, `a version such as "3.12"`)
			case d == nil:
				d = &pythonDeclaration{Where: fmt.Sprintf("%s:%d", rel(".python-version"), i+1), Text: name, Spec: spec}
			default:
				d.Alternatives = append(d.Alternatives, spec)
				d.Text += ", " + name
			}
		}
	}
	return d, ""
}

// uvBuildRE is the version at the start of a uv build name:
// "3.12.4-macos-aarch64-none", "3.13-dev".
var uvBuildRE = regexp.MustCompile(`^(\d+\.\d+(?:\.\d+)?)-`)

// pythonVersionFileSpec reads one name of a .python-version file: the
// specifier it stands for, ok false when it looks like a version devstack
// cannot read, skip when it names no version ("system", "cpython", a
// pyenv-virtualenv name).
func pythonVersionFileSpec(name string) (spec string, ok, skip bool) {
	v := name
	for _, prefix := range []string{"cpython@", "cpython-", "cpython", "python"} {
		if rest, found := strings.CutPrefix(v, prefix); found {
			v = rest
			break
		}
	}
	if m := uvBuildRE.FindStringSubmatch(v); m != nil {
		v = m[1]
	}
	switch {
	case v == "":
		return "", false, true // "cpython": any version
	case pythonVersionRE.MatchString(v):
		return pinSpec(v), true, false
	case strings.ContainsAny(v[:1], "<>=!~"):
		spec, ok := parseSpecifier(v)
		return spec, ok, false
	case v[0] >= '0' && v[0] <= '9':
		return "", false, false
	}
	return "", false, true
}

// readRuntimeTxt reads Heroku's runtime.txt: "python-3.12.4".
func readRuntimeTxt(dir string, rel func(string) string) (*pythonDeclaration, string) {
	data, err := os.ReadFile(filepath.Join(dir, "runtime.txt"))
	if err != nil {
		return nil, ""
	}
	text := strings.TrimSpace(decodeText(data))
	v, ok := strings.CutPrefix(text, "python-")
	if !ok || !pythonVersionRE.MatchString(v) {
		return nil, unreadable(rel("runtime.txt"), text, `"python-3.12.4"`)
	}
	return &pythonDeclaration{Where: rel("runtime.txt") + ":1", Text: text, Spec: pinSpec(v)}, ""
}

// readPipfilePython reads [requires] python_full_version, else
// python_version, in a Pipfile.
func readPipfilePython(dir string, rel func(string) string) (*pythonDeclaration, string) {
	data, err := os.ReadFile(filepath.Join(dir, "Pipfile"))
	if err != nil {
		return nil, ""
	}
	var pf struct {
		Requires map[string]any `toml:"requires"`
	}
	if _, err := toml.Decode(string(data), &pf); err != nil {
		return nil, unreadable(rel("Pipfile"), strings.SplitN(err.Error(), "\n", 2)[0], "a TOML file")
	}
	for _, key := range []string{"python_full_version", "python_version"} {
		raw, ok := pf.Requires[key]
		if !ok {
			continue
		}
		w := where(rel("Pipfile"), lineOfKey(string(data), "requires", key), "[requires] "+key)
		text, _ := raw.(string)
		spec, ok := parseSpecifier(text)
		if !ok {
			return nil, unreadable(w, fmt.Sprint(raw), `a version such as "3.12"`)
		}
		return &pythonDeclaration{Where: w, Text: text, Spec: spec}, ""
	}
	return nil, ""
}

// unmetDeclaration returns the first declaration version does not meet.
func unmetDeclaration(decls []pythonDeclaration, version string) (pythonDeclaration, bool) {
	for _, d := range decls {
		if !d.matches(version) {
			return d, true
		}
	}
	return pythonDeclaration{}, false
}

// pythonVersionWarning says that the interpreter devstack runs is not the
// Python the project declares, and the one fix. match is another
// interpreter found that is (nil when none is): it cannot import what the
// app needs, else it would have been chosen.
func pythonVersionWarning(d pythonDeclaration, in Interpreter, match *Candidate, configFile string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the project declares Python %s, but %s is Python %s; code written for another Python may fail to start with an unrelated-looking error",
		d.Where, d.Text, in.Path, in.Version)
	if match != nil {
		fmt.Fprintf(&b, " (%s is Python %s but cannot import %s: %s -m pip install %s, then set python = %q in %s)",
			match.Path, match.Version, strings.Join(match.Missing, " and "), match.Path, strings.Join(match.Missing, " "), match.Path, configFile)
	} else {
		fmt.Fprintf(&b, " (install a Python that matches, then set python = \"/path/to/python%s\" in %s)", suggestedMinor(d), configFile)
	}
	return b.String()
}

// suggestedMinor names a version the declaration allows, for the example
// path: "3.12" for ">=3.12" or "==3.12.*", "" when it cannot tell.
func suggestedMinor(d pythonDeclaration) string {
	for _, clause := range strings.Split(d.Spec, ",") {
		op, v := splitOperator(clause)
		r := releaseOf(strings.TrimSuffix(v, ".*"))
		if len(r) < 2 {
			continue
		}
		switch op {
		case "==", ">=", "~=", "===":
			return fmt.Sprintf("%d.%d", r[0], r[1])
		case ">":
			return fmt.Sprintf("%d.%d", r[0], r[1]+1)
		}
	}
	return "3"
}
