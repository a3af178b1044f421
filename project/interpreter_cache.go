package project

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/devstack-dev/devstack/internal/cachedir"
	"github.com/devstack-dev/devstack/templates"
)

// The interpreter check starts one Python per candidate on every
// `devstack up`: a tenth of a second or more of a 2-core machine, before
// the gateway can start. Its report is kept in
// <user cache dir>/devstack/interpreters.json and reused while nothing it
// depends on has changed:
//
//   - the key: the candidate, the binary it resolves to, the project
//     directory, the modules asked for, the inspection script, and the
//     variables that move sys.path (PYTHON*, HOME);
//   - the stamps (existence, size, modification time) of the binary, the
//     pyvenv.cfg files, every sys.path entry and site directory (created
//     or not: a first `pip install --user` creates one), in each of them
//     the modules asked about (creating django/__init__.py turns a bare
//     directory into the package) and the .pth and sitecustomize files
//     that can change sys.path. A pip install or uninstall adds or removes
//     entries of a site directory, so its modification time changes.
//
// Only real interpreters are cached: a wrapper script (a version manager's
// shim) can run another Python tomorrow without any of those changing.
// Reports whose files changed in the last two seconds are not kept: a
// change racing with the check, or a file system with a coarse clock,
// could otherwise go unseen. Versions are never cached: they are read from
// the files each time.

// interpreterCacheFile is the file name under <user cache dir>/devstack.
const interpreterCacheFile = "interpreters.json"

// maxCachedInterpreters bounds the file; the oldest entries go first.
const maxCachedInterpreters = 16

// recentChange is how old every stamped file must be for a report to be kept.
const recentChange = 2 * time.Second

type interpreterCache struct {
	path string // "" when there is no cache directory: nothing is kept

	mu      sync.Mutex
	entries []cacheEntry
	changed bool
}

type cacheFile struct {
	Version int          `json:"version"`
	Entries []cacheEntry `json:"entries"`
}

const cacheFormat = 1

type cacheEntry struct {
	Key    string            `json:"key"`
	Stored time.Time         `json:"stored"`
	Report interpreterReport `json:"report"`
	Stamps []fileStamp       `json:"stamps"`
}

// fileStamp is what a file or directory looked like; Mode 0 means absent.
type fileStamp struct {
	Path  string      `json:"path"`
	Mode  os.FileMode `json:"mode"`
	Size  int64       `json:"size"`
	MTime int64       `json:"mtime"` // nanoseconds since the epoch
}

// openInterpreterCache reads the cache; an unreadable or foreign file is
// an empty cache (it is rewritten on the next store).
func openInterpreterCache() *interpreterCache {
	dir, err := cachedir.Dir()
	if err != nil {
		return &interpreterCache{}
	}
	c := &interpreterCache{path: filepath.Join(dir, interpreterCacheFile)}
	data, err := os.ReadFile(c.path)
	if err != nil {
		return c
	}
	var f cacheFile
	if json.Unmarshal(data, &f) == nil && f.Version == cacheFormat {
		c.entries = f.Entries
	}
	return c
}

// lookup returns the kept report for the candidate when every stamp still
// matches.
func (c *interpreterCache) lookup(candidate string, req interpreterRequest) (interpreterReport, bool) {
	if c.path == "" {
		return interpreterReport{}, false
	}
	key := cacheKey(candidate, req)
	c.mu.Lock()
	i := slices.IndexFunc(c.entries, func(e cacheEntry) bool { return e.Key == key })
	var e cacheEntry
	if i >= 0 {
		e = c.entries[i]
	}
	c.mu.Unlock()
	if i < 0 {
		return interpreterReport{}, false
	}
	for _, s := range e.Stamps {
		if stampOf(s.Path) != s {
			return interpreterReport{}, false
		}
	}
	return e.Report, true
}

// store keeps rep for the candidate, when it may be kept.
func (c *interpreterCache) store(candidate string, req interpreterRequest, rep interpreterReport) {
	if c.path == "" || !sameFile(candidate, rep.Executable) {
		return
	}
	stamps := stampsFor(candidate, rep)
	now := time.Now()
	for _, s := range stamps {
		if s.Mode != 0 && now.Sub(time.Unix(0, s.MTime)) < recentChange {
			return
		}
	}
	key := cacheKey(candidate, req)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = slices.DeleteFunc(c.entries, func(e cacheEntry) bool { return e.Key == key })
	c.entries = append(c.entries, cacheEntry{Key: key, Stored: now.UTC(), Report: rep, Stamps: stamps})
	if len(c.entries) > maxCachedInterpreters {
		sort.SliceStable(c.entries, func(i, j int) bool { return c.entries[i].Stored.Before(c.entries[j].Stored) })
		c.entries = c.entries[len(c.entries)-maxCachedInterpreters:]
	}
	c.changed = true
}

// save writes the cache when a report was stored, replacing the file in
// one rename so that concurrent runs never read half of it. A cache that
// cannot be written only costs the next run its speed.
func (c *interpreterCache) save() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.path == "" || !c.changed {
		return
	}
	data, err := json.Marshal(cacheFile{Version: cacheFormat, Entries: c.entries})
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), interpreterCacheFile+".*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), c.path) != nil {
		os.Remove(tmp.Name())
		return
	}
	c.changed = false
}

// cacheKey names what the report depends on besides the stamped files.
func cacheKey(candidate string, req interpreterRequest) string {
	real, err := filepath.EvalSymlinks(candidate)
	if err != nil {
		real = ""
	}
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	field(templates.InterpreterScript)
	field(candidate)
	field(real)
	field(req.Dir)
	field(strings.Join(req.Need, ","))
	var vars []string
	for k, v := range envMap(req.Environ) {
		if strings.HasPrefix(k, "PYTHON") || k == "HOME" {
			vars = append(vars, k+"="+v)
		}
	}
	sort.Strings(vars)
	for _, kv := range vars {
		field(kv)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sameFile reports whether the candidate is the interpreter that ran,
// rather than a script that started it.
func sameFile(candidate, executable string) bool {
	if executable == "" {
		return false
	}
	a, err1 := filepath.EvalSymlinks(candidate)
	b, err2 := filepath.EvalSymlinks(executable)
	return err1 == nil && err2 == nil && a == b
}

// stampsFor lists the files whose change must discard rep.
func stampsFor(candidate string, rep interpreterReport) []fileStamp {
	var paths []string
	seen := map[string]bool{}
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	real, _ := filepath.EvalSymlinks(candidate)
	add(real)
	for _, bin := range []string{candidate, real} {
		add(filepath.Join(filepath.Dir(filepath.Dir(bin)), "pyvenv.cfg"))
	}
	names := []string{"sitecustomize", "usercustomize"}
	for m := range rep.Modules {
		names = append(names, m)
	}
	names = append(names, rep.Missing...)
	sort.Strings(names[2:])
	for _, dir := range append(append([]string(nil), rep.SysPath...), rep.Watch...) {
		add(dir)
		for _, n := range names {
			add(filepath.Join(dir, n))
		}
		add(filepath.Join(dir, "sitecustomize.py"))
		add(filepath.Join(dir, "usercustomize.py"))
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".pth") {
				add(filepath.Join(dir, e.Name()))
			}
		}
	}
	stamps := make([]fileStamp, len(paths))
	for i, p := range paths {
		stamps[i] = stampOf(p)
	}
	return stamps
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{Path: path}
	}
	mode := fi.Mode()
	if mode == 0 {
		mode = 0o400 // a regular file with no permission bits still exists
	}
	return fileStamp{Path: path, Mode: mode, Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
}
