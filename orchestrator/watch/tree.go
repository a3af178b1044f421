package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// The watcher keeps one watch per directory it follows (fsnotify watches
// are not recursive on Linux and macOS): the tree's directories, found by a
// walk at start and by following directories created later, and a few
// directories outside it (extraDir) whose events only mean "restart".

// extraDir is a directory watched outside the tree's rules: a virtualenv's
// top and site-packages, the directory of a restart file that is ignored or
// outside the project.
type extraDir struct {
	files map[string]string // entry name → restart cause
	all   string            // when set, a change to any entry is a restart with this cause
	venv  string            // the virtualenv this directory belongs to, if any
	venvs map[string]string // entry name → the virtualenv it is (for its parent)
}

// handle processes one event from the system watcher.
func (w *Watcher) handle(ev fsnotify.Event, now time.Time) {
	name := filepath.Clean(ev.Name)
	dir := filepath.Dir(name)
	created := ev.Has(fsnotify.Create)
	gone := ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)
	if x := w.extra[dir]; x != nil {
		w.handleExtra(x, name, created, gone, now)
	}
	if !w.dirs[dir] {
		return // a stale event for a directory no longer followed
	}
	rel := w.relOf(name)
	if w.dirs[name] {
		// A followed directory was removed or renamed away: forget it and
		// everything below it; the app may have imported from it.
		if gone {
			w.removeTree(name)
			if w.rules.include.Empty() || w.rules.include.Match(rel, true) {
				w.collected.add(now, rel, false, true, "")
			}
			return
		}
		if !created || !w.linkRetargeted(name) {
			return
		}
		// A followed link now points elsewhere (ln -sfn): follow that.
		w.removeTree(name)
	}
	isDir, exists, real := false, true, ""
	if created {
		fi, err := os.Lstat(name)
		exists = err == nil
		if exists {
			var kind entryKind
			if kind, real = w.classify(name, fi.Mode()); kind == entrySkip {
				return
			}
			isDir = kind == entryDir
		}
	}
	if isDir {
		w.dirCreated(name, rel, real, now)
		return
	}
	switch filepath.Base(name) {
	case venvMarker:
		if created && exists && dir != w.root && !w.venvs[dir] {
			w.becameVenv(dir)
		}
		return
	case ".gitignore":
		w.gitignoreChanged(dir, now)
		return
	}
	if w.venvs[name] {
		// A virtualenv directory itself appeared or went away.
		w.refreshVenv(name, now)
		return
	}
	if gone || !exists {
		// The path is gone, so whether it was a file or an ignored
		// directory (a __pycache__, a node_modules) is unknown: skip it
		// if it is ignored either way.
		if w.rules.ignoredEntry(rel, true) && restartCause(rel, w.restart) == "" {
			return
		}
	}
	w.fileChanged(rel, created, gone, now)
}

// fileChanged records a change to file rel in a followed directory.
func (w *Watcher) fileChanged(rel string, created, gone bool, now time.Time) {
	if cause := restartCause(rel, w.restart); cause != "" {
		// Restart files count even when .gitignore or Include would
		// skip them (.env is usually git-ignored); only the caller's
		// explicit excludes win.
		if !w.rules.ignorePaths[rel] && !w.rules.exclude.Match(rel, false) {
			w.collected.add(now, rel, created, gone, cause)
		}
		return
	}
	if w.rules.ignoredEntry(rel, false) || !w.rules.triggers(rel) {
		return
	}
	w.collected.add(now, rel, created, gone, "")
}

// dirCreated follows a directory created (or moved, or linked) into the
// tree; real is the directory a link leads to, "" for the tree's own.
func (w *Watcher) dirCreated(dir, rel, real string, now time.Time) {
	if w.venvs[dir] {
		w.refreshVenv(dir, now)
	}
	if w.rules.ignoredEntry(rel, true) {
		return
	}
	if isVenv(dir) {
		w.rules.venvs[rel] = true
		return
	}
	if err := w.addTree(dir, real, now); err != nil {
		w.report(err)
	}
}

// becameVenv stops following dir, which just got a pyvenv.cfg: someone is
// creating a virtualenv in the project, and its files are not the app's.
func (w *Watcher) becameVenv(dir string) {
	rel := w.relOf(dir)
	w.removeTree(dir)
	w.rules.venvs[rel] = true
	w.collected.drop(func(p string, _ *pathState) bool { return isWithin(p, rel) })
}

// gitignoreChanged re-reads dir/.gitignore and follows what it now allows:
// directories newly ignored are dropped, directories no longer ignored are
// watched (their files did not change, so they are not reported).
func (w *Watcher) gitignoreChanged(dir string, now time.Time) {
	rel := w.relOf(dir)
	w.rules.loadGitignore(w.root, rel)
	var stale []string
	for d := range w.dirs {
		if d != dir && strings.HasPrefix(d, dir+string(filepath.Separator)) && w.rules.ignored(w.relOf(d), true) {
			stale = append(stale, d)
		}
	}
	slices.Sort(stale) // parents first; removeTree also drops their children
	for _, d := range stale {
		if w.dirs[d] {
			w.removeTree(d)
		}
	}
	if err := w.addTree(dir, w.links.real[dir], time.Time{}); err != nil {
		w.report(err)
	}
	w.collected.drop(func(p string, st *pathState) bool {
		return st.cause == "" && isWithin(p, rel) && w.rules.ignored(p, false)
	})
}

// addTree follows dir and every directory below it that is not ignored;
// real is the directory dir really is when it is reached through a link
// (see links.go), "" otherwise. When found is not zero, the files met are reported as created at that
// time: they may have been written before the watch existed (mkdir -p a/b
// and a write into a/b arrive faster than a watch can be added).
//
// The watch is added before the directory is listed, so a file is either
// in the listing or reported by the watch, never missed.
func (w *Watcher) addTree(dir, real string, found time.Time) error {
	if !w.dirs[dir] {
		if err := w.watchDir(dir); err != nil {
			var lerr *LimitError
			if errors.As(err, &lerr) {
				return err
			}
			if !errors.Is(err, errNotWatchable) {
				w.report(err)
			}
			return nil
		}
		w.dirs[dir] = true
		if real != "" {
			w.links.claim(dir, real)
		}
	}
	rel := w.relOf(dir)
	w.rules.loadGitignore(w.root, rel)
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		w.report(fmt.Errorf("listing %s: %w", dir, err))
	}
	if dir != w.root && slices.ContainsFunc(entries, func(e fs.DirEntry) bool { return e.Name() == venvMarker }) {
		// A virtualenv being created: its pyvenv.cfg appeared after the
		// caller looked and before the watch existed, so no event for it
		// will come.
		w.becameVenv(dir)
		return nil
	}
	for _, e := range entries {
		child := filepath.Join(dir, e.Name())
		crel := joinRel(rel, e.Name())
		kind, creal := w.classify(child, e.Type())
		if kind == entrySkip {
			continue
		}
		if kind == entryFile {
			if !found.IsZero() && e.Name() != ".gitignore" {
				w.fileChanged(crel, true, false, found)
			}
			continue
		}
		if w.rules.ignoredEntry(crel, true) {
			if w.venvs[child] {
				w.refreshVenv(child, time.Time{})
			}
			continue
		}
		if isVenv(child) {
			w.rules.venvs[crel] = true
			continue
		}
		if err := w.addTree(child, creal, found); err != nil {
			return err
		}
	}
	return nil
}

// rescan follows the whole tree again after events were lost: directories
// created meanwhile are watched, vanished ones (or links whose directory
// vanished) forgotten.
func (w *Watcher) rescan(dir string) {
	for d := range w.dirs {
		if !pathExists(d) && w.dirs[d] {
			w.removeTree(d)
		}
	}
	if err := w.addTree(dir, "", time.Time{}); err != nil {
		w.report(err)
	}
}

// removeTree stops following dir and everything below it.
func (w *Watcher) removeTree(dir string) {
	for d := range w.dirs {
		if d == dir || strings.HasPrefix(d, dir+string(filepath.Separator)) {
			if w.extra[d] == nil {
				// The kernel may have dropped the watch already.
				_ = w.fsw.Remove(d)
			}
			delete(w.dirs, d)
			w.links.forget(d)
		}
	}
	w.rules.forgetDir(w.relOf(dir))
}

// linkRetargeted reports whether dir, followed through a link, now leads
// to another directory (or nowhere).
func (w *Watcher) linkRetargeted(dir string) bool {
	real, ok := w.links.real[dir]
	if !ok {
		return false
	}
	now, err := filepath.EvalSymlinks(dir)
	return err != nil || now != real
}

// watchDir adds one system watch.
func (w *Watcher) watchDir(dir string) error {
	var err error
	if testOnlyAddWatch != nil {
		err = testOnlyAddWatch(w.fsw, dir)
	} else {
		err = w.fsw.Add(dir)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return errNotWatchable
	}
	if lerr := limitError(dir, err); lerr != nil {
		return lerr
	}
	return fmt.Errorf("watching %s: %w", dir, err)
}

// testOnlyAddWatch, when set, adds watches instead of fsnotify's Add, so
// tests can make the system refuse one.
var testOnlyAddWatch func(fsw *fsnotify.Watcher, dir string) error

// isVenv reports whether dir is a virtualenv.
func isVenv(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, venvMarker))
	return err == nil
}

// relOf returns the root-relative slash path of abs, which is inside root.
func (w *Watcher) relOf(abs string) string {
	rel, _ := relTo(w.root, abs)
	return rel
}

// display names a path in a batch: root-relative inside the project,
// absolute (slash-separated) outside.
func (w *Watcher) display(abs string) string {
	if rel, ok := relTo(w.root, abs); ok {
		return rel
	}
	return filepath.ToSlash(abs)
}

func joinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
