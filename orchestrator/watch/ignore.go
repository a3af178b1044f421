package watch

import (
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/devstack-dev/devstack/internal/gitglob"
)

// ignoredDirNames are directories never watched, at any depth: version
// control, caches, tool environments, devstack's own state. None of them
// holds code the app imports.
var ignoredDirNames = map[string]bool{
	".git": true, ".hg": true, ".svn": true, ".jj": true,
	"__pycache__": true, "node_modules": true,
	".mypy_cache": true, ".pytest_cache": true, ".ruff_cache": true, ".hypothesis": true,
	".tox": true, ".nox": true, ".venv": true, ".direnv": true,
	".idea": true, "htmlcov": true,
	".devstack": true,
}

// ignoredDirGlobs are directory name patterns ignored at any depth.
var ignoredDirGlobs = []string{"*.egg-info"}

// venvMarker is the file every virtualenv (venv, virtualenv, uv, poetry)
// has at its top; a directory holding it is never watched for reloads.
const venvMarker = "pyvenv.cfg"

// rootOutputDirs are directories at the project root that hold generated
// files: collectstatic output and uploaded media. Writing there (an upload,
// a collectstatic run) must not reload the app. The caller adds the
// project's real STATIC_ROOT and MEDIA_ROOT through Options.IgnorePaths.
var rootOutputDirs = map[string]bool{
	"staticfiles": true, "static_root": true, "static_collected": true, "collected_static": true,
	"collectedstatic": true, "media": true, "mediafiles": true, "media_root": true,
}

// ignoredFileGlobs are file name patterns that never trigger a reload:
// compiled Python, editor backups, swap and lock files, temporary files of
// atomic saves (the rename to the real name does trigger), local databases
// and their journals (a request writing the Django dev database must not
// reload the app), and logs (an app logging into the project tree would
// otherwise reload itself on every request).
var ignoredFileGlobs = []string{
	"*.pyc", "*.pyo",
	"*~", ".#*", "#*#", "*.swp", "*.swx", "*.swo", "*.swn", "4913", ".*.kate-swp",
	"*.tmp", ".goutputstream-*", "*___jb_tmp___", "*___jb_old___", ".DS_Store",
	"*.sqlite3", "*.sqlite3-*", "*.sqlite", "*.sqlite-*", "*.db", "*.db-journal", "*.db-wal", "*.db-shm",
	"*.log", ".coverage", ".coverage.*", "celerybeat-schedule*", "*.pid",
}

// quietFiles are watched (the watcher reads them) but their own changes do
// not reload the app.
var quietFiles = map[string]bool{".gitignore": true}

// rules decides what is ignored. It is owned by the watcher's goroutine.
type rules struct {
	ignorePaths map[string]bool // root-relative, from Options.IgnorePaths
	exclude     Globs
	include     Globs
	gitignores  map[string]*gitglob.List // by the directory holding them, "" for the root
	infoExclude *gitglob.List            // .git/info/exclude, weaker than any .gitignore
	global      *gitglob.List            // git's global excludes file, weakest of all
	venvs       map[string]bool          // root-relative directories holding pyvenv.cfg
}

func newRules(root string, ignorePaths []string, include, exclude Globs) *rules {
	r := &rules{
		ignorePaths: map[string]bool{},
		include:     include,
		exclude:     exclude,
		gitignores:  map[string]*gitglob.List{},
		venvs:       map[string]bool{},
	}
	for _, p := range ignorePaths {
		if rel, ok := relTo(root, p); ok && rel != "" {
			r.ignorePaths[rel] = true
		}
	}
	// Both are read once: a change to them applies from the next start.
	r.infoExclude = readIgnoreFile(filepath.Join(root, ".git", "info", "exclude"), "")
	if f := globalExcludesFile(root); f != "" {
		r.global = readIgnoreFile(f, "")
	}
	return r
}

// loadGitignore (re)reads dir/.gitignore; dir is root-relative.
func (r *rules) loadGitignore(root, dir string) {
	if f := readIgnoreFile(filepath.Join(root, filepath.FromSlash(dir), ".gitignore"), dir); f != nil {
		r.gitignores[dir] = f
	} else {
		delete(r.gitignores, dir)
	}
}

// readIgnoreFile parses the gitignore file at path, whose patterns are
// relative to base; nil when it is missing or unreadable, as for git.
func readIgnoreFile(path, base string) *gitglob.List {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return gitglob.ParseFile(base, b)
}

// forgetDir drops what was learned about dir and everything below it.
func (r *rules) forgetDir(dir string) {
	for d := range r.gitignores {
		if d != "" && isWithin(d, dir) {
			delete(r.gitignores, d)
		}
	}
	for d := range r.venvs {
		if isWithin(d, dir) {
			delete(r.venvs, d)
		}
	}
}

// ignored reports whether rel, or any directory holding it, is ignored.
func (r *rules) ignored(rel string, isDir bool) bool {
	if rel == "" {
		return false
	}
	end := 0
	for end < len(rel) {
		next := strings.IndexByte(rel[end:], '/')
		dir := true
		if next < 0 {
			end = len(rel)
			dir = isDir
		} else {
			end += next
		}
		if r.ignoredEntry(rel[:end], dir) {
			return true
		}
		end++
	}
	return false
}

// ignoredEntry decides rel alone, assuming the directories holding it are
// not ignored (the walk only asks about children of watched directories).
func (r *rules) ignoredEntry(rel string, isDir bool) bool {
	name := path.Base(rel)
	if isDir {
		if ignoredDirNames[name] || r.venvs[rel] || (rootOutputDirs[name] && !strings.Contains(rel, "/")) {
			return true
		}
		for _, g := range ignoredDirGlobs {
			if ok, _ := path.Match(g, name); ok {
				return true
			}
		}
	} else if defaultIgnoredFile(name) {
		return true
	}
	if r.ignorePaths[rel] || r.exclude.Match(rel, isDir) {
		return true
	}
	return r.gitignored(rel, isDir)
}

func defaultIgnoredFile(name string) bool {
	for _, g := range ignoredFileGlobs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

// gitignored applies the .gitignore files from the innermost directory
// holding rel outwards: a nested .gitignore overrides its parents, and
// within one file the last matching line wins.
func (r *rules) gitignored(rel string, isDir bool) bool {
	for dir := parentOf(rel); ; dir = parentOf(dir) {
		if f := r.gitignores[dir]; f != nil {
			if ignored, decided := f.Decide(rel, isDir); decided {
				return ignored
			}
		}
		if dir == "" {
			break
		}
	}
	for _, f := range []*gitglob.List{r.infoExclude, r.global} {
		if f == nil {
			continue
		}
		if ignored, decided := f.Decide(rel, isDir); decided {
			return ignored
		}
	}
	return false
}

// triggers reports whether a change to file rel (not ignored) should
// reload the app: Options.Include, when set, limits what does.
func (r *rules) triggers(rel string) bool {
	if quietFiles[path.Base(rel)] {
		return false
	}
	return r.include.Empty() || r.include.Match(rel, false)
}

// relTo returns p relative to root, slash-separated; ok is false when p is
// outside root. A relative p is taken as relative to root.
func relTo(root, p string) (string, bool) {
	if !filepath.IsAbs(p) {
		p = filepath.Join(root, p)
	}
	rel, err := filepath.Rel(root, filepath.Clean(p))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	if rel == "." {
		return "", true
	}
	return filepath.ToSlash(rel), true
}

// isWithin reports whether slash path p is dir or inside it.
func isWithin(p, dir string) bool {
	return dir == "" || p == dir || strings.HasPrefix(p, dir+"/")
}
