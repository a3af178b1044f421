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
func (w *Watcher) refreshVenv(v string, now time.Time) {
	label := labelVirtualenv + " " + w.display(v)
	want := map[string]bool{} // directories of the layout that exist now
	sitePkgs := map[string]bool{}
	if fi, err := os.Stat(v); err == nil && fi.IsDir() {
		want[v] = true
		for _, lib := range []string{"lib", "Lib"} {
			if isDirPath(filepath.Join(v, lib)) {
				want[filepath.Join(v, lib)] = true
			}
		}
		pys, _ := filepath.Glob(filepath.Join(v, "lib", "python*"))
		for _, py := range pys {
			if isDirPath(py) {
				want[py] = true
			}
		}
		for _, sp := range append(pys, filepath.Join(v, "Lib")) {
			sp = filepath.Join(sp, "site-packages")
			if isDirPath(sp) {
				want[sp] = true
				sitePkgs[sp] = true
			}
		}
	}
	for d, x := range w.extra {
		if x.venv == v && !want[d] {
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
	for d := range want {
		fresh := w.extra[d] == nil
		x, err := w.extraFor(d)
		if err != nil {
			if !errors.Is(err, errNotWatchable) {
				w.report(err)
			}
			continue
		}
		x.venv = v
		if sitePkgs[d] {
			x.all = label
		}
		if d == v {
			if x.files == nil {
				x.files = map[string]string{}
			}
			x.files[venvMarker] = label
		}
		// A virtualenv (re)created while devstack runs: its packages
		// may differ from what the app started with.
		if fresh && !now.IsZero() && d == v && isVenv(v) {
			w.collected.add(now, w.display(filepath.Join(v, venvMarker)), true, false, label)
		}
	}
}

func isDirPath(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
