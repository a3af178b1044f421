package project

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
)

// pyenv puts a "shims" directory first on PATH; every shim is a bash script
// that works out the selected Python version and execs the real binary.
// That takes about a second per call on a busy machine, and a PATH holds a
// dozen shims (python3, python3.6 … python3.13). resolvePyenvShim follows
// pyenv's documented selection (PYENV_VERSION, .python-version files from
// the project directory up, $PYENV_ROOT/version, else "system") to the
// binary the shim would run, without running it.

// shimResolution is what a pyenv shim stands for.
type shimResolution struct {
	Binary string // the real interpreter, "" if the shim would fail
	Reason string // why it would fail, when Binary is ""
	Sure   bool   // false: the selection could not be followed; run the shim itself
}

// isPyenvShim reports whether path is a pyenv shim script.
func isPyenvShim(path string) bool {
	if filepath.Base(filepath.Dir(path)) != "shims" {
		return false
	}
	root := filepath.Dir(filepath.Dir(path))
	if fi, err := os.Stat(filepath.Join(root, "versions")); err != nil || !fi.IsDir() {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := f.Read(head)
	return bytes.HasPrefix(head[:n], []byte("#!")) && bytes.Contains(head[:n], []byte("pyenv"))
}

// resolvePyenvShim finds the binary a shim would exec when run in dir.
func resolvePyenvShim(shim, dir string, env map[string]string) shimResolution {
	shimsDir := filepath.Dir(shim)
	root := filepath.Dir(shimsDir)
	name := filepath.Base(shim)
	versions := selectedPyenvVersions(root, dir, env)
	for _, v := range versions {
		if v == "system" {
			for _, d := range filepath.SplitList(env["PATH"]) {
				if d == "" || filepath.Clean(d) == filepath.Clean(shimsDir) || !filepath.IsAbs(d) {
					continue
				}
				if c := filepath.Join(d, name); isExecutableFile(c) {
					return shimResolution{Binary: c, Sure: true}
				}
			}
			continue
		}
		vdir := filepath.Join(root, "versions", v)
		if fi, err := os.Stat(vdir); err != nil || !fi.IsDir() {
			// A prefix ("3.11") or a name only a plugin knows: let pyenv decide.
			return shimResolution{}
		}
		if c := filepath.Join(vdir, "bin", name); isExecutableFile(c) {
			return shimResolution{Binary: c, Sure: true}
		}
	}
	return shimResolution{Sure: true, Reason: "pyenv: " + name + " is not in the selected version (" + strings.Join(versions, ", ") + ")"}
}

// selectedPyenvVersions is pyenv's version selection.
func selectedPyenvVersions(root, dir string, env map[string]string) []string {
	if v := strings.TrimSpace(env["PYENV_VERSION"]); v != "" {
		return strings.Split(v, ":")
	}
	for d := dir; ; d = filepath.Dir(d) {
		if vs := readVersionFile(filepath.Join(d, ".python-version")); len(vs) > 0 {
			return vs
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if vs := readVersionFile(filepath.Join(root, "version")); len(vs) > 0 {
		return vs
	}
	return []string{"system"}
}

// readVersionFile reads the version names of a .python-version file.
func readVersionFile(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var vs []string
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		vs = append(vs, strings.Fields(line)...)
	}
	return vs
}
