package watch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// watchedDirs lists the followed directories, root-relative and sorted.
func watchedDirs(t *testing.T, w *Watcher) []string {
	t.Helper()
	var dirs []string
	inLoop(t, w, func() {
		for d := range w.dirs {
			dirs = append(dirs, w.relOf(d))
		}
	})
	slices.Sort(dirs)
	return dirs
}

// TestChangeUnderLinkedDirectory: a project whose package is a link to a
// directory elsewhere (a monorepo's shared code) reloads on a change there,
// named by the path inside the project; the ignore rules apply to that path.
func TestChangeUnderLinkedDirectory(t *testing.T) {
	shared := project(t, map[string]string{
		"mysite/settings.py":      "",
		"mysite/sub/views.py":     "",
		"mysite/generated/out.py": "",
	})
	root := project(t, map[string]string{"manage.py": "", ".gitignore": "/mysite/generated/\n"})
	// A relative link, as in a repository (testdata/django-site-gunicornconf).
	rel, err := filepath.Rel(root, filepath.Join(shared, "mysite"))
	if err != nil {
		t.Fatal(err)
	}
	symlink(t, rel, filepath.Join(root, "mysite"))
	w := startWatcher(t, Options{Root: root, Quiet: testQuiet})
	if got, want := watchedDirs(t, w), []string{"", "mysite", "mysite/sub"}; !slices.Equal(got, want) {
		t.Errorf("watched: got %q, want %q", got, want)
	}

	write(t, filepath.Join(shared, "mysite", "generated", "out.py"), "x") // ignored by the in-project path
	write(t, filepath.Join(shared, "mysite", "sub", "views.py"), "x")
	b := nextBatch(t, w)
	wantPaths(t, b, "mysite/sub/views.py")

	// A directory created inside the linked one is followed too.
	write(t, filepath.Join(shared, "mysite", "api", "v1", "urls.py"), "x")
	b, _ = batchesUntil(t, w, "mysite/api/v1/urls.py")
	wantPaths(t, b, "mysite/api/v1/urls.py")

	// Restart rules see the in-project path as well.
	write(t, filepath.Join(shared, "mysite", "requirements.txt"), "django\n")
	b, _ = batchesUntil(t, w, "mysite/requirements.txt")
	if !b.NeedsRestart {
		t.Errorf("a manifest under a link: got a reload, want a restart (%+v)", b)
	}
}

// TestLinkCycles: links to an ancestor, to the project's own directories,
// to a directory holding the project, and two links to one directory are
// each watched once, so the walk ends and every change is named once.
func TestLinkCycles(t *testing.T) {
	outside := t.TempDir()
	root := filepath.Join(outside, "proj")
	write(t, filepath.Join(root, "app", "views.py"), "")
	write(t, filepath.Join(outside, "lib", "util.py"), "")
	symlink(t, "..", filepath.Join(root, "app", "up"))     // an ancestor inside the project
	symlink(t, "app", filepath.Join(root, "alias"))        // a directory of the project
	symlink(t, outside, filepath.Join(root, "everything")) // holds the project
	symlink(t, filepath.Join(outside, "lib"), filepath.Join(root, "a_lib"))
	symlink(t, filepath.Join(outside, "lib"), filepath.Join(root, "b_lib")) // the same directory again
	symlink(t, "..", filepath.Join(outside, "lib", "loop"))                 // an ancestor outside
	symlink(t, root, filepath.Join(outside, "lib", "back"))                 // back into the project

	w := startWatcher(t, Options{Root: root, Quiet: testQuiet})
	if got, want := watchedDirs(t, w), []string{"", "a_lib", "app"}; !slices.Equal(got, want) {
		t.Errorf("watched: got %q, want %q", got, want)
	}
	write(t, filepath.Join(outside, "lib", "util.py"), "x")
	b := nextBatch(t, w)
	wantPaths(t, b, "a_lib/util.py")
	write(t, filepath.Join(root, "app", "views.py"), "x")
	b = nextBatch(t, w)
	wantPaths(t, b, "app/views.py")
}

// TestLinkCreatedAndRemovedWhileRunning: a link made while devstack runs is
// followed like a new directory, one pointed elsewhere follows its new
// target, one removed is forgotten.
func TestLinkCreatedAndRemovedWhileRunning(t *testing.T) {
	one := project(t, map[string]string{"mod.py": ""})
	two := project(t, map[string]string{"mod.py": "", "deep/x.py": ""})
	root := project(t, map[string]string{"app.py": ""})
	lib := filepath.Join(root, "lib")
	w := startWatcher(t, Options{Root: root, Quiet: testQuiet})

	symlink(t, one, lib)
	batchesUntil(t, w, "lib/mod.py") // its files can be imported now
	if !followed(t, w, lib) {
		t.Fatal("a link created while running is not followed")
	}
	write(t, filepath.Join(one, "mod.py"), "x")
	b, _ := batchesUntil(t, w, "lib/mod.py")
	wantPaths(t, b, "lib/mod.py")

	// ln -sfn: a new link renamed over the old one.
	tmp := filepath.Join(root, ".lib.tmp")
	symlink(t, two, tmp)
	if err := os.Rename(tmp, lib); err != nil {
		t.Fatal(err)
	}
	batchesUntil(t, w, "lib/deep/x.py")
	write(t, filepath.Join(one, "mod.py"), "y") // the old target: no longer watched
	write(t, filepath.Join(two, "deep", "x.py"), "y")
	b, _ = batchesUntil(t, w, "lib/deep/x.py")
	wantPaths(t, b, "lib/deep/x.py")

	if err := os.Remove(lib); err != nil {
		t.Fatal(err)
	}
	batchesUntil(t, w, "lib") // the directory went away: a reload
	write(t, filepath.Join(two, "mod.py"), "z")
	write(t, filepath.Join(root, "app.py"), "z")
	b, _ = batchesUntil(t, w, "app.py")
	for _, p := range b.Paths {
		if strings.HasPrefix(p, "lib/") {
			t.Errorf("a change under a removed link was reported: %q", p)
		}
	}
	if followed(t, w, lib) || len(watchedDirs(t, w)) != 1 {
		t.Errorf("after removing the link: watching %q", watchedDirs(t, w))
	}
}

// TestLinkToFileStaysAFile: a link to a file (or a dangling one) is a file
// of the project, as before.
func TestLinkToFileStaysAFile(t *testing.T) {
	outside := project(t, map[string]string{"local.py": ""})
	root := project(t, map[string]string{"app.py": ""})
	w := startWatcher(t, Options{Root: root, Quiet: testQuiet})
	symlink(t, filepath.Join(outside, "local.py"), filepath.Join(root, "local_settings.py"))
	symlink(t, filepath.Join(outside, "missing"), filepath.Join(root, "dangling"))
	batchesUntil(t, w, "local_settings.py")
	if got := watchedDirs(t, w); len(got) != 1 {
		t.Errorf("watching %q, want only the root", got)
	}
}
