package project

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf16"

	"github.com/BurntSushi/toml"
)

// The project's declared top-level requirements help choose between
// interpreters that can all import the framework and the gateway: the one
// that also has what requirements*.txt and pyproject.toml ask for is the
// one the developer installed them into. They are checked by distribution
// metadata (the .dist-info and .egg-info directories importlib.metadata
// reads), never by importing: a distribution's import name may differ
// from its own (Pillow is PIL), and importing costs time.

// requirementRE reads a PEP 508 requirement: the distribution name, its
// extras, and the version specifiers before a ";" marker or an "@" URL:
// "Django>=4.2,<5", "celery[redis]==5.3", "name @ https://…".
var requirementRE = regexp.MustCompile(`^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*\(?([^;@()]*)`)

// requirement is one declared requirement: a normalized distribution name
// and its version specifiers ("" for any version).
type requirement struct {
	name, spec string
}

// parseRequirement reads one PEP 508 line; ok is false when it names no
// distribution.
func parseRequirement(line string) (requirement, bool) {
	m := requirementRE.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		return requirement{}, false
	}
	name := normalizeDistName(m[1])
	if alias, ok := distributionAliases[name]; ok {
		name = alias
	}
	return requirement{name: name, spec: strings.Join(strings.Fields(m[2]), "")}, true
}

// distributionAliases are requirements a differently named distribution
// fulfils: the binary wheels of psycopg install the same module as
// Debian's python3-psycopg2 and python3-psycopg.
var distributionAliases = map[string]string{
	"psycopg2-binary": "psycopg2",
	"psycopg-binary":  "psycopg",
}

// declaredRequirements lists, normalized and sorted, the distributions the
// project declares in requirements*.txt (following -r includes) and in
// pyproject.toml ([project] dependencies, [tool.poetry.dependencies]), in
// each of dirs. runtime is the part the app itself needs: requirements.txt
// and pyproject.toml, not requirements-dev.txt and its kin.
func declaredRequirements(dirs ...string) (all []requirement, runtime []string) {
	allSet, runtimeSet := map[string]requirement{}, map[string]requirement{}
	adder := func(sets ...map[string]requirement) func(string) {
		return func(line string) {
			r, ok := parseRequirement(line)
			if !ok || r.name == "python" {
				return
			}
			for _, s := range sets {
				if old, seen := s[r.name]; !seen || old.spec == "" {
					s[r.name] = r
				}
			}
		}
	}
	visited := map[string]bool{}
	for _, dir := range dirs {
		if visited[dir] {
			continue
		}
		visited[dir] = true
		// requirements.txt first, so that a file it includes counts as
		// the app's own even when another file includes it too.
		readRequirementsFile(filepath.Join(dir, "requirements.txt"), adder(allSet, runtimeSet), visited, 0)
		files, _ := filepath.Glob(filepath.Join(dir, "requirements*.txt"))
		for _, f := range files {
			readRequirementsFile(f, adder(allSet), visited, 0)
		}
		readPyprojectDependencies(filepath.Join(dir, "pyproject.toml"), adder(allSet, runtimeSet))
	}
	for _, n := range sortedKeys(allSet) {
		all = append(all, allSet[n])
	}
	return all, sortedKeys(runtimeSet)
}

// readRequirementsFile reads one pip requirements file: a requirement per
// line, comments, options (-e, --hash…) and URLs left out, -r and
// --requirement followed.
func readRequirementsFile(path string, add func(string), visited map[string]bool, depth int) {
	if visited[path] || depth > 8 {
		return
	}
	visited[path] = true
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	for _, line := range strings.Split(decodeText(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "-") {
			for _, opt := range []string{"-r", "--requirement"} {
				if rest, ok := strings.CutPrefix(line, opt); ok && (rest == "" || rest[0] == ' ' || rest[0] == '=') {
					inc := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), "="))
					if inc != "" {
						readRequirementsFile(filepath.Join(filepath.Dir(path), inc), add, visited, depth+1)
					}
				}
			}
			continue
		}
		if strings.Contains(line, "://") && !strings.Contains(line, "@") {
			continue // a bare URL names no distribution
		}
		add(line)
	}
}

// decodeText is a text file's content as pip reads it: UTF-8, with its
// byte order mark dropped, or UTF-16 after one (what "pip freeze >
// requirements.txt" writes in Windows PowerShell 5).
func decodeText(data []byte) string {
	var bigEndian bool
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return string(data[3:])
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		bigEndian = true
	default:
		return string(data)
	}
	units := make([]uint16, 0, len(data)/2)
	for i := 2; i+1 < len(data); i += 2 {
		if bigEndian {
			units = append(units, uint16(data[i])<<8|uint16(data[i+1]))
		} else {
			units = append(units, uint16(data[i+1])<<8|uint16(data[i]))
		}
	}
	return string(utf16.Decode(units))
}

// readPyprojectDependencies reads PEP 621 dependencies and Poetry's.
func readPyprojectDependencies(path string, add func(string)) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var py struct {
		Project struct {
			Dependencies []string `toml:"dependencies"`
		} `toml:"project"`
		Tool struct {
			Poetry struct {
				Dependencies map[string]any `toml:"dependencies"`
			} `toml:"poetry"`
		} `toml:"tool"`
	}
	if _, err := toml.Decode(string(data), &py); err != nil {
		return // the config reader reports a broken pyproject.toml
	}
	for _, d := range py.Project.Dependencies {
		add(d)
	}
	for name, v := range py.Tool.Poetry.Dependencies {
		spec, _ := v.(string)
		add(name + poetrySpec(spec))
	}
}

// poetrySpec turns Poetry's "^1.2" and "~1.2" into PEP 440 lower bounds
// (the upper bound is left out: a newer version is what a developer is
// least surprised by); "*" and exact versions pass through.
func poetrySpec(v string) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "" || v == "*":
		return ""
	case strings.HasPrefix(v, "^") || (strings.HasPrefix(v, "~") && !strings.HasPrefix(v, "~=")):
		return ">=" + strings.TrimLeft(v, "^~")
	case v[0] >= '0' && v[0] <= '9':
		return "==" + v
	}
	return v
}

// installedDistributions maps the normalized names of the distributions
// whose metadata is in the import path dirs to their versions ("" when
// the metadata's name does not carry one).
func installedDistributions(dirs []string) map[string]string {
	installed := map[string]string{}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			base, ok := strings.CutSuffix(e.Name(), ".dist-info")
			if !ok {
				if base, ok = strings.CutSuffix(e.Name(), ".egg-info"); !ok {
					continue
				}
			}
			name, version, _ := strings.Cut(base, "-")
			version, _, _ = strings.Cut(version, "-py") // an egg's "-py3.11"
			if n := normalizeDistName(name); installed[n] == "" {
				installed[n] = version
			}
		}
	}
	return installed
}

// requirementGap is a declared requirement an interpreter does not fulfil.
type requirementGap struct {
	name      string
	spec      string // the specifiers it does not meet, "" when not installed at all
	installed string // the version installed, "" when not installed
}

// String reads "celery" when it is not installed, "django (==5.1.15;
// 3.2.19 installed)" when its version does not match.
func (g requirementGap) String() string {
	if g.installed == "" {
		return g.name
	}
	return fmt.Sprintf("%s (%s; %s installed)", g.name, g.spec, g.installed)
}

// breaking reports whether the gap likely stops the app: the distribution
// is missing, or its major version is not one the specifiers allow.
func (g requirementGap) breaking() bool {
	if g.installed == "" {
		return true
	}
	have := releaseOf(g.installed)
	for _, clause := range strings.Split(g.spec, ",") {
		_, want := splitOperator(strings.TrimSpace(clause))
		w := releaseOf(strings.TrimSuffix(want, ".*"))
		if len(have) > 0 && len(w) > 0 && have[0] != w[0] {
			return true
		}
	}
	return false
}

// lacking lists the requirements the distributions along dirs do not
// fulfil.
func lacking(requirements []requirement, dirs []string) []requirementGap {
	if len(requirements) == 0 {
		return nil
	}
	installed := installedDistributions(dirs)
	var out []requirementGap
	for _, r := range requirements {
		version, ok := installed[r.name]
		switch {
		case !ok:
			out = append(out, requirementGap{name: r.name})
		case version != "" && r.spec != "" && !versionMatches(version, r.spec):
			out = append(out, requirementGap{name: r.name, spec: r.spec, installed: version})
		}
	}
	return out
}

// versionMatches checks a version against PEP 440 specifiers
// ("==5.1.*", ">=4.2,<5", "~=2.1"), comparing release numbers only:
// pre-release and local parts are not told apart. A specifier it cannot
// read is taken as met.
func versionMatches(version, spec string) bool {
	have := releaseOf(version)
	for _, clause := range strings.Split(spec, ",") {
		op, want := splitOperator(strings.TrimSpace(clause))
		if op == "" || want == "" {
			continue
		}
		if op == "===" {
			if version != want {
				return false
			}
			continue
		}
		if prefix, wild := strings.CutSuffix(want, ".*"); wild {
			match := hasReleasePrefix(have, releaseOf(prefix))
			if (op == "==" && !match) || (op == "!=" && match) {
				return false
			}
			continue
		}
		c := compareReleases(have, releaseOf(want))
		ok := true
		switch op {
		case "==":
			ok = c == 0
		case "!=":
			ok = c != 0
		case ">=":
			ok = c >= 0
		case "<=":
			ok = c <= 0
		case ">":
			ok = c > 0
		case "<":
			ok = c < 0
		case "~=":
			w := releaseOf(want)
			ok = c >= 0 && (len(w) < 2 || hasReleasePrefix(have, w[:len(w)-1]))
		}
		if !ok {
			return false
		}
	}
	return true
}

func splitOperator(clause string) (op, version string) {
	for _, o := range []string{"===", "==", "!=", ">=", "<=", "~=", ">", "<"} {
		if v, ok := strings.CutPrefix(clause, o); ok {
			return o, strings.TrimSpace(v)
		}
	}
	return "", ""
}

// releaseOf reads the release numbers of a version: "5.1.15rc1" is 5 1 15.
func releaseOf(v string) []int {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if _, rest, ok := strings.Cut(v, "!"); ok {
		v = rest // an epoch
	}
	var out []int
	for _, part := range strings.Split(v, ".") {
		n, digits := 0, 0
		for digits < len(part) && part[digits] >= '0' && part[digits] <= '9' {
			n = n*10 + int(part[digits]-'0')
			digits++
		}
		if digits == 0 {
			break
		}
		out = append(out, n)
		if digits < len(part) {
			break // "15rc1": the release ends here
		}
	}
	return out
}

func compareReleases(a, b []int) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func hasReleasePrefix(have, prefix []int) bool {
	if len(prefix) > len(have) {
		return compareReleases(have, prefix) == 0
	}
	return compareReleases(have[:len(prefix)], prefix) == 0
}

// hasModule reports whether a module ("celery", or a submodule such as
// "pydantic.v1") is on the import path dirs: a package, a namespace
// directory, a .py file or an extension module.
func hasModule(dirs []string, module string) bool {
	rel := filepath.Join(strings.Split(module, ".")...)
	for _, dir := range dirs {
		base := filepath.Join(dir, rel)
		if fi, err := os.Stat(base); err == nil && fi.IsDir() {
			return true
		}
		if isFile(base + ".py") {
			return true
		}
		if m, _ := filepath.Glob(base + ".*.so"); len(m) > 0 {
			return true
		}
	}
	return false
}
