package watch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

func TestEditGivesOneBatch(t *testing.T) {
	root := project(t, map[string]string{"blog/views.py": "x = 1\n", "manage.py": ""})
	w := startWatcher(t, Options{Root: root})
	start := time.Now()
	write(t, filepath.Join(root, "blog/views.py"), "x = 2\n")
	b := nextBatch(t, w)
	wantPaths(t, b, "blog/views.py")
	if b.NeedsRestart {
		t.Errorf("NeedsRestart for a view edit: %+v", b)
	}
	if got, want := b.Reason(), "blog/views.py"; got != want {
		t.Errorf("Reason: got %q, want %q", got, want)
	}
	if b.First.Before(start) || b.First.After(time.Now()) {
		t.Errorf("First %v not between the write and now", b.First)
	}
	t.Logf("write to batch: %v", time.Since(start))
}

func TestAtomicSaveNamesTheRealFile(t *testing.T) {
	root := project(t, map[string]string{"app.py": "a\n"})
	w := startWatcher(t, Options{Root: root, Quiet: testQuiet})
	// The temporary name is one no ignore rule knows: the batch must
	// still name only the real file, since the temporary one never
	// existed before or after the save.
	for _, tmp := range []string{".app.py.swp-xyz", "app.py.tmp", "tmp8a7sd6"} {
		write(t, filepath.Join(root, tmp), "b\n")
		if err := os.Rename(filepath.Join(root, tmp), filepath.Join(root, "app.py")); err != nil {
			t.Fatal(err)
		}
		wantPaths(t, nextBatch(t, w), "app.py")
	}
}

func TestVimInodeReplacement(t *testing.T) {
	// vim with backupcopy=no: rename the original to a backup, write a
	// new file under the real name, remove the backup.
	root := project(t, map[string]string{"app.py": "a\n"})
	w := startWatcher(t, Options{Root: root, Quiet: testQuiet})
	app := filepath.Join(root, "app.py")
	if err := os.Rename(app, app+"~"); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "4913"), "") // vim's probe file
	os.Remove(filepath.Join(root, "4913"))
	write(t, app, "b\n")
	os.Remove(app + "~")
	wantPaths(t, nextBatch(t, w), "app.py")
}

func TestBurstIsOneBatch(t *testing.T) {
	root := project(t, map[string]string{"pkg/__init__.py": ""})
	w := startWatcher(t, Options{Root: root, Quiet: time.Second, MaxWait: eventually})
	var want []string
	for i := range 200 {
		name := fmt.Sprintf("pkg/mod%03d.py", i)
		want = append(want, name)
		write(t, filepath.Join(root, name), "x\n")
	}
	b := nextBatch(t, w)
	wantPaths(t, b, want...)
	if !strings.HasPrefix(b.Reason(), "200 files: pkg/mod000.py, pkg/mod001.py, pkg/mod002.py, …") {
		t.Errorf("Reason: got %q", b.Reason())
	}
}

func TestNewDirectoryIsFollowed(t *testing.T) {
	root := project(t, map[string]string{"manage.py": ""})
	w := startWatcher(t, Options{Root: root})
	mkdirAll(t, filepath.Join(root, "shop"))
	// Give the watcher time to follow the directory, then write.
	time.Sleep(50 * time.Millisecond)
	write(t, filepath.Join(root, "shop/models.py"), "x\n")
	all, _ := batchesUntil(t, w, "shop/models.py")
	wantPaths(t, all, "shop/models.py")
	// And a later edit in it is seen as well.
	write(t, filepath.Join(root, "shop/models.py"), "y\n")
	wantPaths(t, nextBatch(t, w), "shop/models.py")
}

func TestNestedTreeCreatedQuickly(t *testing.T) {
	root := project(t, map[string]string{"manage.py": ""})
	w := startWatcher(t, Options{Root: root})
	// mkdir -p and writes at once: the files land before any watch on
	// the new directories can exist; the rescan must find them.
	var want []string
	for _, d := range []string{"a/b/c", "a/b/d", "a/e"} {
		mkdirAll(t, filepath.Join(root, d))
		name := d + "/f.py"
		write(t, filepath.Join(root, name), "x\n")
		want = append(want, name)
	}
	slices.Sort(want)
	var all Batch
	for !slices.Equal(all.Paths, want) {
		all = all.Merge(nextBatch(t, w))
		for _, p := range all.Paths {
			if !slices.Contains(want, p) {
				t.Fatalf("unexpected path %q in %q", p, all.Paths)
			}
		}
	}
	// The deepest directory is followed afterwards.
	write(t, filepath.Join(root, "a/b/c/g.py"), "x\n")
	wantPaths(t, nextBatch(t, w), "a/b/c/g.py")
}

func TestRemovedDirectoryIsForgotten(t *testing.T) {
	root := project(t, map[string]string{"old/sub/x.py": "", "keep.py": ""})
	w := startWatcher(t, Options{Root: root})
	if err := os.RemoveAll(filepath.Join(root, "old")); err != nil {
		t.Fatal(err)
	}
	all, _ := batchesUntil(t, w, "old")
	wantPaths(t, all, "old", "old/sub", "old/sub/x.py")
	deadline := time.Now().Add(eventually)
	for {
		if !followed(t, w, filepath.Join(root, "old", "sub")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("old/sub still followed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestIgnoredDirectoriesDoNotTrigger(t *testing.T) {
	root := project(t, map[string]string{
		"app.py":                   "",
		"node_modules/x/index.js":  "",
		".git/HEAD":                "",
		"venv/pyvenv.cfg":          "home = /usr/bin\n",
		"venv/lib/site.py":         "",
		".gitignore":               "build/\n*.generated.py\n",
		"staticfiles/app.css":      "",
		"pkg/__pycache__/m.pyc":    "",
		"pkg/data.generated.py":    "",
		"pkg/m.py":                 "",
		".devstack/run/state.json": "",
	})
	w := startWatcher(t, Options{Root: root, IgnorePaths: []string{"uploads", filepath.Join(root, "collected")}})
	for _, name := range []string{
		"node_modules/x/index.js", "node_modules/y/new.js", ".git/index", ".git/objects/ab/cdef",
		"venv/lib/site.py", "venv/lib/python3.11/site-packages/new.py", "staticfiles/app.css",
		"pkg/__pycache__/m.cpython-311.pyc", "pkg/m.pyc", "pkg/data.generated.py", "build/lib/x.py",
		"db.sqlite3", "db.sqlite3-journal", "pkg/.m.py.swp", "pkg/m.py~", "debug.log",
		"uploads/a.png", "collected/admin.css", ".devstack/run/state.json",
		".venv/lib/python3.11/site-packages/x.py", "pkg/.#m.py", "pkg/#m.py#",
	} {
		write(t, filepath.Join(root, name), "x\n")
	}
	write(t, filepath.Join(root, "sentinel.py"), "x\n")
	all, _ := batchesUntil(t, w, "sentinel.py")
	wantPaths(t, all, "sentinel.py")
}

func TestIncludeAndExclude(t *testing.T) {
	root := project(t, map[string]string{"app.py": "", "docs/index.md": "", "static/app.css": ""})
	w := startWatcher(t, Options{Root: root, Include: []string{"*.py", "templates/**"}, Exclude: []string{"docs", "legacy/**"}})
	for _, name := range []string{"static/app.css", "docs/x.py", "legacy/old.py", "README.md"} {
		write(t, filepath.Join(root, name), "x\n")
	}
	write(t, filepath.Join(root, "templates/base.html"), "x\n")
	write(t, filepath.Join(root, "app.py"), "x\n")
	all, _ := batchesUntil(t, w, "app.py")
	wantPaths(t, all, "app.py", "templates/base.html")
}

func TestGitignoreEditedWhileRunning(t *testing.T) {
	root := project(t, map[string]string{"gen/x.py": "", "app.py": ""})
	w := startWatcher(t, Options{Root: root})
	write(t, filepath.Join(root, ".gitignore"), "gen/\n")
	// Wait until the rule is in force: a write to gen/ no longer counts.
	deadline := time.Now().Add(eventually)
	for followed(t, w, filepath.Join(root, "gen")) {
		if time.Now().After(deadline) {
			t.Fatal("gen/ still followed after .gitignore ignored it")
		}
		time.Sleep(10 * time.Millisecond)
	}
	write(t, filepath.Join(root, "gen/x.py"), "y\n")
	write(t, filepath.Join(root, "app.py"), "y\n")
	all, _ := batchesUntil(t, w, "app.py")
	wantPaths(t, all, "app.py")
}

func TestRenamedDirectoryIsFollowedUnderItsNewName(t *testing.T) {
	root := project(t, map[string]string{"pkg/sub/x.py": "", "app.py": ""})
	w := startWatcher(t, Options{Root: root, Quiet: testQuiet})
	if err := os.Rename(filepath.Join(root, "pkg"), filepath.Join(root, "pkg2")); err != nil {
		t.Fatal(err)
	}
	all, _ := batchesUntil(t, w, "pkg2/sub/x.py")
	wantPaths(t, all, "pkg", "pkg2/sub/x.py")
	waitPending(t, w, func() bool {
		return w.dirs[filepath.Join(root, "pkg2", "sub")] && !w.dirs[filepath.Join(root, "pkg", "sub")]
	})
	write(t, filepath.Join(root, "pkg2/sub/x.py"), "y\n")
	wantPaths(t, nextBatch(t, w), "pkg2/sub/x.py")
}

func TestOverflowRestartsAndRescans(t *testing.T) {
	root := project(t, map[string]string{"app.py": ""})
	w := startWatcher(t, Options{Root: root})
	// Events lost: a directory created meanwhile was never seen (its
	// watch is taken away again to make it so).
	unseen := filepath.Join(root, "unseen")
	mkdirAll(t, unseen)
	waitPending(t, w, func() bool { return w.dirs[unseen] })
	inLoop(t, w, func() {
		_ = w.fsw.Remove(unseen)
		delete(w.dirs, unseen)
		w.handleError(fsnotify.ErrEventOverflow, time.Now())
	})
	b := nextBatch(t, w)
	if !b.Overflow || !b.NeedsRestart {
		t.Errorf("after an overflow: got %+v, want a restart", b)
	}
	select {
	case err := <-w.Errors():
		var lerr *LimitError
		if !errors.As(err, &lerr) || !strings.Contains(lerr.Hint(), "max_queued_events") {
			t.Errorf("overflow error: got %v", err)
		}
	case <-time.After(eventually):
		t.Fatal("no error reported for the overflow")
	}
	if !followed(t, w, unseen) {
		t.Error("directory created during the overflow not followed after it")
	}
}

func TestWatchLimit(t *testing.T) {
	root := project(t, map[string]string{"a/x.py": "", "b/y.py": ""})
	t.Cleanup(func() { testOnlyAddWatch = nil })
	refuse := filepath.Join(root, "b")
	testOnlyAddWatch = func(fsw *fsnotify.Watcher, dir string) error {
		if strings.HasPrefix(dir, refuse) {
			return fmt.Errorf("adding watch: %w", syscall.ENOSPC)
		}
		return fsw.Add(dir)
	}
	// At start the limit is fatal: watching half a project would miss
	// changes silently.
	_, err := New(Options{Root: root})
	var lerr *LimitError
	if !errors.As(err, &lerr) || lerr.Dir != refuse || !strings.Contains(lerr.Hint(), "sysctl fs.inotify.max_user_watches=") {
		t.Fatalf("New at the limit: got %v, want a *LimitError for %s with a sysctl hint", err, refuse)
	}

	// While running, a new directory over the limit is reported and the
	// rest keeps working.
	refuse = filepath.Join(root, "new")
	w := startWatcher(t, Options{Root: root})
	mkdirAll(t, refuse)
	select {
	case err := <-w.Errors():
		if !errors.As(err, &lerr) || lerr.Dir != refuse {
			t.Errorf("running at the limit: got %v", err)
		}
	case <-time.After(eventually):
		t.Fatal("no error for a directory over the limit")
	}
	write(t, filepath.Join(root, "a/x.py"), "y\n")
	b, _ := batchesUntil(t, w, "a/x.py")
	wantPaths(t, b, "a/x.py")
}
