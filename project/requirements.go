package project

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// The project's declared top-level requirements help choose between
// interpreters that can all import the framework and the gateway: the one
// that also has what requirements*.txt and pyproject.toml ask for is the
// one the developer installed them into. They are checked by distribution
// metadata (the .dist-info and .egg-info directories importlib.metadata
// reads), never by importing: a distribution's import name may differ
// from its own (Pillow is PIL), and importing costs time.

// requirementNameRE is the distribution name at the start of a PEP 508
// requirement: "Django>=4.2", "celery[redis]", "name @ https://…".
var requirementNameRE = regexp.MustCompile(`^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)`)

// declaredRequirements lists, normalized and sorted, the distributions the
// project declares in requirements*.txt (following -r includes) and in
// pyproject.toml ([project] dependencies, [tool.poetry.dependencies]), in
// each of dirs. runtime is the part the app itself needs: requirements.txt
// and pyproject.toml, not requirements-dev.txt and its kin.
func declaredRequirements(dirs ...string) (all, runtime []string) {
	allSet, runtimeSet := map[string]bool{}, map[string]bool{}
	adder := func(sets ...map[string]bool) func(string) {
		return func(name string) {
			if n := normalizeDistName(name); n != "" && n != "python" {
				for _, s := range sets {
					s[n] = true
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
	return sortedSet(allSet), sortedSet(runtimeSet)
}

func sortedSet(set map[string]bool) []string {
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// readRequirementsFile reads one pip requirements file: a requirement per
// line, comments, options (-e, --hash…) and URLs left out, -r and
// --requirement followed.
func readRequirementsFile(path string, add func(string), visited map[string]bool, depth int) {
	if visited[path] || depth > 8 {
		return
	}
	visited[path] = true
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
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
		if m := requirementNameRE.FindString(line); m != "" {
			add(m)
		}
	}
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
		if m := requirementNameRE.FindString(strings.TrimSpace(d)); m != "" {
			add(m)
		}
	}
	for name := range py.Tool.Poetry.Dependencies {
		add(name)
	}
}

// installedDistributions lists the normalized names of the distributions
// whose metadata is in the import path dirs.
func installedDistributions(dirs []string) map[string]bool {
	installed := map[string]bool{}
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
			name, _, _ := strings.Cut(base, "-")
			installed[normalizeDistName(name)] = true
		}
	}
	return installed
}

// lacking lists the requirements not installed along dirs.
func lacking(requirements, dirs []string) []string {
	if len(requirements) == 0 {
		return nil
	}
	installed := installedDistributions(dirs)
	var out []string
	for _, r := range requirements {
		if !installed[r] {
			out = append(out, r)
		}
	}
	return out
}

// hasModule reports whether a top-level module is on the import path dirs
// (a package, a namespace directory, a .py file or an extension module).
func hasModule(dirs []string, module string) bool {
	for _, dir := range dirs {
		if fi, err := os.Stat(filepath.Join(dir, module)); err == nil && fi.IsDir() {
			return true
		}
		if isFile(filepath.Join(dir, module+".py")) {
			return true
		}
		if m, _ := filepath.Glob(filepath.Join(dir, module+".*.so")); len(m) > 0 {
			return true
		}
	}
	return false
}
