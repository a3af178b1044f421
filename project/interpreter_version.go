package project

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Module versions are read from files rather than by importing the module
// in the inspection: importing Django and gunicorn, and importlib.metadata to
// ask for their versions, cost a fifth of a second per interpreter, on
// every start. The files are the ones importlib.metadata reads.

// moduleVersion returns the installed version of the module an import
// would load from loc: the metadata of its distribution beside it, else a
// literal __version__ in its source, else the first metadata for it along
// the import path (an editable install), else "unknown". Every module
// devstack asks about is published under its import name (give or take
// case, which packaging ignores).
func moduleVersion(dist string, loc moduleLocation, sysPath []string) string {
	site := filepath.Dir(loc.Origin)
	if loc.PkgDir != "" {
		site = filepath.Dir(loc.PkgDir)
	}
	if v := distVersionIn(site, dist); v != "" {
		return v
	}
	if v := literalVersion(loc.Origin); v != "" {
		return v
	}
	for _, dir := range sysPath {
		if dir == site {
			continue
		}
		if v := distVersionIn(dir, dist); v != "" {
			return v
		}
	}
	return "unknown"
}

// distVersionIn finds dist's metadata directly in dir — a NAME-VERSION
// .dist-info directory (wheels), or a .egg-info directory or file
// (setuptools, and Debian's python3-* packages) — and returns its Version.
func distVersionIn(dir, dist string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	want := normalizeDistName(dist)
	for _, e := range entries {
		base, kind := e.Name(), ""
		switch {
		case strings.HasSuffix(base, ".dist-info"):
			base, kind = strings.TrimSuffix(base, ".dist-info"), "METADATA"
		case strings.HasSuffix(base, ".egg-info"):
			base, kind = strings.TrimSuffix(base, ".egg-info"), "PKG-INFO"
		default:
			continue
		}
		name, fromName, _ := strings.Cut(base, "-")
		if normalizeDistName(name) != want {
			continue
		}
		meta := filepath.Join(dir, e.Name())
		if fi, err := os.Stat(meta); err == nil && fi.IsDir() {
			meta = filepath.Join(meta, kind)
		}
		if v := metadataVersion(meta); v != "" {
			return v
		}
		// Unreadable metadata: the name carries the version too
		// ("gunicorn-20.1.0-py3.11.egg-info" for an egg).
		if v, _, _ := strings.Cut(fromName, "-py"); v != "" {
			return v
		}
	}
	return ""
}

// normalizeDistName compares distribution names as packaging does: case
// and runs of "-", "_" and "." do not matter.
func normalizeDistName(name string) string {
	return strings.ToLower(distNameSeparators.ReplaceAllString(name, "-"))
}

var distNameSeparators = regexp.MustCompile(`[-_.]+`)

// metadataVersion reads the Version header of a METADATA or PKG-INFO file.
func metadataVersion(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break // end of the headers
		}
		if v, ok := strings.CutPrefix(line, "Version:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

var versionAssignment = regexp.MustCompile(`(?m)^__version__[ \t]*(?::[ \t]*str[ \t]*)?=[ \t]*['"]([^'"\n]+)['"][ \t\r]*(?:#.*)?$`)

// literalVersion returns the string assigned to __version__ in a module's
// source, when it is a literal.
func literalVersion(origin string) string {
	f, err := os.Open(origin)
	if err != nil {
		return ""
	}
	defer f.Close()
	head, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return ""
	}
	if m := versionAssignment.FindSubmatch(head); m != nil {
		return string(bytes.TrimSpace(m[1]))
	}
	return ""
}
