package watch

import (
	"errors"
	"os"
	"path/filepath"
	"time"
)

// handleExtra processes an event in a directory watched for restarts only.
func (w *Watcher) handleExtra(x *extraDir, name string, created, gone bool, now time.Time) {
	base := filepath.Base(name)
	cause := x.files[base]
	if cause == "" && x.all != "" && base != "__pycache__" && !defaultIgnoredFile(base) {
		cause = x.all
	}
	if cause != "" {
		w.collected.add(now, w.display(name), created, gone, cause)
	}
	if v := x.venvs[base]; v != "" && (created || gone) {
		w.refreshVenv(v, now) // a virtualenv outside the tree recreated
	}
	// The layout of a virtualenv being created or removed changes under
	// us: follow it (site-packages itself sees too many events for that).
	if x.venv != "" && x.all == "" && (created || gone) {
		w.refreshVenv(x.venv, now)
	}
}

// watchRestartFiles follows Options.RestartFiles. A file in a followed
// directory is classified by its path; one elsewhere (ignored, outside the
// project) gets its directory watched on its own.
func (w *Watcher) watchRestartFiles() {
	for _, f := range w.opts.RestartFiles {
		abs := f
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(w.root, abs)
		}
		abs = filepath.Clean(abs)
		// A file in a directory linked into the project is seen under
		// the link's path.
		abs = filepath.Join(w.followedPath(filepath.Dir(abs)), filepath.Base(abs))
		if rel, ok := relTo(w.root, abs); ok && rel != "" {
			w.restart[rel] = true
		}
		dir := filepath.Dir(abs)
		if w.dirs[dir] {
			continue
		}
		x, err := w.extraFor(dir)
		if err != nil {
			if !errors.Is(err, errNotWatchable) {
				w.report(err)
			}
			continue
		}
		if x.files == nil {
			x.files = map[string]string{}
		}
		x.files[filepath.Base(abs)] = labelCaller + " " + w.display(abs)
	}
}

// extraFor returns the extraDir for dir, watching it first if needed.
func (w *Watcher) extraFor(dir string) (*extraDir, error) {
	if x := w.extra[dir]; x != nil {
		return x, nil
	}
	if !w.dirs[dir] {
		if err := w.watchDir(dir); err != nil {
			return nil, err
		}
	}
	x := &extraDir{}
	w.extra[dir] = x
	return x, nil
}

// watchVenvParents watches the directory holding each virtualenv outside
// the tree, to notice the virtualenv being removed and created again.
func (w *Watcher) watchVenvParents() {
	for v := range w.venvs {
		parent := filepath.Dir(v)
		if w.dirs[parent] || parent == v {
			continue
		}
		x, err := w.extraFor(parent)
		if err != nil {
			if !errors.Is(err, errNotWatchable) {
				w.report(err)
			}
			continue
		}
		if x.venvs == nil {
			x.venvs = map[string]string{}
		}
		x.venvs[filepath.Base(v)] = v
	}
}

// refreshVenv (re)reads the layout of virtualenv v and watches its top (for
// pyvenv.cfg), lib and lib/pythonX.Y (to see site-packages appear) and the
// top of site-packages (a package installed, upgraded or removed). Nothing
// deeper is watched: an install touches the top level anyway, and a
// virtualenv holds thousands of directories.
//
// Each level is watched before the next is looked for, so a directory
// created meanwhile is either found or reported by an event that calls
// refreshVenv again.
func (w *Watcher) refreshVenv(v string, now time.Time) {
	label := labelVirtualenv + " " + w.display(v)
	watched := map[string]bool{} // directories of the layout watched now
	watch := func(d string, sitePackages bool) bool {
		if !isDirPath(d) {
			return false
		}
		fresh := w.extra[d] == nil
		x, err := w.extraFor(d)
		if err == nil && !fresh && !w.dirs[d] {
			// Events are handled after the fact: the directory may
			// have been removed and created again since it was watched,
			// leaving the old watch on a deleted inode. Adding it again
			// costs nothing when it is still the same one.
			err = w.watchDir(d)
		}
		if err != nil {
			if !errors.Is(err, errNotWatchable) {
				w.report(err)
			}
			return false
		}
		watched[d] = true
		x.venv = v
		if sitePackages {
			x.all = label
		}
		if d == v {
			if x.files == nil {
				x.files = map[string]string{}
			}
			x.files[venvMarker] = label
			// A virtualenv (re)created while devstack runs: its
			// packages may differ from what the app started with.
			if fresh && !now.IsZero() && isVenv(v) {
				w.collected.add(now, w.display(filepath.Join(v, venvMarker)), true, false, label)
			}
		}
		return true
	}
	if watch(v, false) {
		if lib := filepath.Join(v, "lib"); watch(lib, false) {
			pys, _ := filepath.Glob(filepath.Join(lib, "python*"))
			for _, py := range pys {
				if watch(py, false) {
					watch(filepath.Join(py, "site-packages"), true)
				}
			}
		}
		if lib := filepath.Join(v, "Lib"); watch(lib, false) { // Windows layout
			watch(filepath.Join(lib, "site-packages"), true)
		}
	}
	// Forget what is no longer part of the layout.
	for d, x := range w.extra {
		if x.venv == v && !watched[d] {
			x.venv, x.all = "", ""
			delete(x.files, venvMarker)
			if len(x.files) == 0 && len(x.venvs) == 0 {
				if !w.dirs[d] {
					_ = w.fsw.Remove(d)
				}
				delete(w.extra, d)
			}
		}
	}
}

func isDirPath(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
