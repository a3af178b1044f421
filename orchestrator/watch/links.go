package watch

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A symbolic link to a directory is followed when the directory is outside
// the project: a monorepo's app that links a shared package in, say. Its
// files are reported under the link's path in the project, which is what
// the ignore rules, the reload classification and the log use.
//
// Each real directory is watched once, under the first path found: the
// system keeps one watch per directory, reporting under one name. A link
// to a directory inside the project is not followed (the directory is
// watched where it is), nor one to a directory holding the project (a
// cycle: following it would watch the project again, and everything
// around it).

// linkedDirs records the directories watched through a link.
type linkedDirs struct {
	realRoot string            // the project directory, symbolic links resolved
	real     map[string]string // watched path in the project → the real directory
	path     map[string]string // real directory → the path it is watched under
}

func newLinkedDirs(root string) linkedDirs {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		realRoot = root
	}
	return linkedDirs{realRoot: realRoot, real: map[string]string{}, path: map[string]string{}}
}

// claim records that dir, in the project, watches the real directory real.
func (l *linkedDirs) claim(dir, real string) {
	l.real[dir] = real
	l.path[real] = dir
}

// forget drops what claim recorded for dir.
func (l *linkedDirs) forget(dir string) {
	if real, ok := l.real[dir]; ok {
		if l.path[real] == dir {
			delete(l.path, real)
		}
		delete(l.real, dir)
	}
}

// claimedElsewhere reports whether real is already watched under a path
// other than dir.
func (l *linkedDirs) claimedElsewhere(real, dir string) bool {
	p := l.path[real]
	return p != "" && p != dir
}

// A directory entry is a file, a directory to follow, or something to skip.
type entryKind int

const (
	entryFile entryKind = iota
	entryDir
	entrySkip
)

// classify says what child, an entry of a followed directory whose type
// Lstat gave as mode, is. For a directory reached through a link, real is
// the directory it really is; "" for the project's own directories.
func (w *Watcher) classify(child string, mode fs.FileMode) (kind entryKind, real string) {
	switch {
	case mode.IsDir():
		parentReal := w.links.real[filepath.Dir(child)]
		if parentReal == "" {
			return entryDir, ""
		}
		real = filepath.Join(parentReal, filepath.Base(child))
		if w.links.claimedElsewhere(real, child) {
			return entrySkip, ""
		}
		return entryDir, real
	case mode&fs.ModeSymlink != 0:
		real, err := filepath.EvalSymlinks(child)
		if err != nil || !isDirPath(real) {
			return entryFile, "" // a link to a file, or dangling: a file as before
		}
		l := &w.links
		if pathWithin(real, l.realRoot) || pathWithin(l.realRoot, real) || l.claimedElsewhere(real, child) {
			return entrySkip, ""
		}
		return entryDir, real
	}
	return entryFile, ""
}

// followedPath maps a directory outside the project that is watched
// through a link to the path it is watched under; other directories are
// returned unchanged.
func (w *Watcher) followedPath(dir string) string {
	if p := w.links.path[dir]; p != "" {
		return p
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		if p := w.links.path[real]; p != "" {
			return p
		}
	}
	return dir
}

// pathWithin reports whether the clean absolute path p is dir or inside it.
func pathWithin(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}

// pathExists reports whether p (following links) is there.
func pathExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
