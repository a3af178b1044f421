package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// setMarker rewrites the sample view so /whoami/ reports marker, the way a
// developer saves a change.
func setMarker(t *testing.T, dir, marker string) {
	t.Helper()
	views := filepath.Join(dir, "whoami", "views.py")
	data, err := os.ReadFile(views)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`'framework': 'django',( 'marker': '[^']*',)?`)
	if !re.Match(data) {
		t.Fatal("views.py has no 'framework': 'django' line to edit")
	}
	data = re.ReplaceAll(data, []byte(fmt.Sprintf(`'framework': 'django', 'marker': '%s',`, marker)))
	if err := os.WriteFile(views, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitMarker polls /whoami/ until the app answers with marker.
func waitMarker(t *testing.T, r *upRun, marker string, timeout time.Duration) {
	t.Helper()
	re := regexp.MustCompile(`"marker":\s*"` + regexp.QuoteMeta(marker) + `"`)
	eventually(t, timeout, "the edited view to answer with "+marker, func() bool {
		_, body := r.get("/whoami/")
		return re.MatchString(body)
	})
}

func countLines(out, pattern string) int {
	return len(regexp.MustCompile(`(?m)`+pattern).FindAllString(out, -1))
}

func TestReloadServesTheEditedView(t *testing.T) {
	testenv.SystemPython(t)
	dir := copyProject(t, "django-site")
	r := startUp(t, upConfig{dir: dir})
	mark := r.lineCount()
	setMarker(t, dir, "first-edit")
	waitMarker(t, r, "first-edit", 30*time.Second)
	r.waitLineAfter(mark, `reloaded in \S+: whoami/views.py`, 30*time.Second)
	if !strings.Contains(r.output(), "reloading (standby)") {
		t.Errorf("a view change did not go to gunicorn as a reload request")
	}
	// Once the standby worker is forked, the next change is loaded in it:
	// no configuration re-read, no fork after the save.
	// Forked so far: the first worker, the first standby or a worker of
	// generation 2, and a standby beside generation 2.
	eventually(t, 30*time.Second, "a standby beside generation 2", func() bool {
		return countLines(r.output(), `Booting worker with pid`) >= 3
	})
	mark = r.lineCount()
	setMarker(t, dir, "second-edit")
	waitMarker(t, r, "second-edit", 30*time.Second)
	r.waitLineAfter(mark, `devstack-gateway: reloading pid=\d+ generation=3 via=standby`, 30*time.Second)
}

// 50 requests in flight during each of 10 reloads: every one succeeds.
func TestReloadDropsNoRequest(t *testing.T) {
	testenv.SystemPython(t)
	dir := copyProject(t, "django-site")
	r := startUp(t, upConfig{dir: dir})
	stop := r.load("/whoami/", 50, nil)
	for i := range 10 {
		mark := r.lineCount()
		marker := fmt.Sprintf("reload-%d", i)
		setMarker(t, dir, marker)
		r.waitLineAfter(mark, `reloaded in`, 60*time.Second)
		waitMarker(t, r, marker, 30*time.Second)
	}
	sent, failed, first := stop()
	if failed > 0 {
		t.Errorf("%d of %d requests failed during 10 reloads; first: %v", failed, sent, first)
	}
	if sent < 100 {
		t.Errorf("only %d requests were sent: the load did not overlap the reloads", sent)
	}
	t.Logf("%d requests during 10 reloads, none failed", sent)
}

// A SyntaxError in settings.py, saved while running, does not take the stack
// down for good: the proxy keeps answering (the old code, or an error page
// with the traceback — never a refused connection), and the save that fixes
// the error brings the app back by itself.
func TestReloadRecoversFromABrokenSettingsFile(t *testing.T) {
	testenv.SystemPython(t)
	dir := copyProject(t, "django-site")
	r := startUp(t, upConfig{dir: dir})
	settings := filepath.Join(dir, "mysite", "settings.py")
	good, err := os.ReadFile(settings)
	if err != nil {
		t.Fatal(err)
	}
	mark := r.lineCount()
	if err := os.WriteFile(settings, append(append([]byte(nil), good...), "\nBROKEN = (\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitLineAfter(mark, `reload(ed| failed)`, 60*time.Second)

	// In between, every answer is either the last good app or the error page
	// naming the error.
	sawError := false
	for range 5 {
		code, body := r.get("/whoami/", "Accept", "text/plain")
		switch {
		case code == http.StatusOK:
		case code == http.StatusBadGateway && strings.Contains(body, "SyntaxError"):
			sawError = true
		default:
			t.Fatalf("while settings.py is broken: %d\n%s", code, body)
		}
	}
	t.Logf("while broken the proxy served the error page: %v", sawError)

	mark = r.lineCount()
	setMarker(t, dir, "after-fix")
	if err := os.WriteFile(settings, good, 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitLineAfter(mark, `reloaded in`, 60*time.Second)
	waitMarker(t, r, "after-fix", 30*time.Second)
	checkForwarding(t, r)
}

// A burst of changes, like a `git checkout` of 200 files, gives one reload;
// files in a directory created after the start are watched too.
func TestReloadCoalescesABurstAndWatchesNewDirectories(t *testing.T) {
	testenv.SystemPython(t)
	dir := copyProject(t, "django-site")
	r := startUp(t, upConfig{dir: dir})

	mark := r.lineCount()
	pkg := filepath.Join(dir, "newpkg", "deep")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		name := filepath.Join(pkg, fmt.Sprintf("mod%03d.py", i))
		if err := os.WriteFile(name, []byte(fmt.Sprintf("VALUE = %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.waitLineAfter(mark, `reloaded in .*200 files`, 60*time.Second)
	time.Sleep(time.Second) // a second reload would have started by now
	after := strings.Join(strings.Split(r.output(), "\n")[mark:], "\n")
	if n := countLines(after, `reloading \(`); n != 1 {
		t.Errorf("200 files written at once gave %d reloads, want 1:\n%s", n, after)
	}

	// The new directory is watched: one more file in it reloads again.
	mark = r.lineCount()
	if err := os.WriteFile(filepath.Join(pkg, "later.py"), []byte("LATER = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitLineAfter(mark, `reloaded in .*newpkg/deep/later.py`, 30*time.Second)
}

// uvicorn reloads through the supervisor's standby process: it imports the
// edited app and takes over the socket while the older process drains, so
// clients never see an error.
func TestReloadUvicornThroughTheStandbyWithoutErrors(t *testing.T) {
	testenv.PythonWith(t, "starlette", "uvicorn")
	dir := copyProject(t, "asgi-app")
	r := startUp(t, upConfig{dir: dir})
	app := filepath.Join(dir, "app.py")
	data, err := os.ReadFile(app)
	if err != nil {
		t.Fatal(err)
	}
	stop := r.load("/whoami/", 8, nil)
	mark := r.lineCount()
	edited := strings.Replace(string(data), "'framework': 'starlette',", "'framework': 'starlette', 'marker': 'uvicorn-edit',", 1)
	if edited == string(data) {
		t.Fatal("app.py has no 'framework': 'starlette' entry to edit")
	}
	if err := os.WriteFile(app, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitLineAfter(mark, `reloading \(standby\): app.py`, 30*time.Second)
	r.waitLineAfter(mark, `reloaded in`, 60*time.Second)
	waitMarker(t, r, "uvicorn-edit", 30*time.Second)
	if _, n, _ := stop(); n > 0 {
		t.Errorf("%d requests failed while uvicorn reloaded", n)
	}
}

// A change to .env needs a full restart (the environment is read at start);
// the new value reaches the app.
func TestReloadRestartsOnEnvChange(t *testing.T) {
	testenv.SystemPython(t)
	dir := copyProject(t, "django-site")
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("SAMPLE=one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startUp(t, upConfig{dir: dir})
	mark := r.lineCount()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("SAMPLE=two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitLineAfter(mark, `reloading \(restart\)`, 30*time.Second)
	r.waitLineAfter(mark, `reloaded in`, 60*time.Second)
	checkForwarding(t, r)
}

// An extra process that opted in with restart_on globs is restarted when a
// matching file changes, and only then.
func TestReloadRestartsExtraProcessesOnTheirGlobs(t *testing.T) {
	testenv.SystemPython(t)
	dir := copyProject(t, "flask-app")
	config := `[processes.assets]
command = "sh -c 'echo assets built; exec sleep 600'"
restart_on = ["static/*.css"]
`
	if err := os.WriteFile(filepath.Join(dir, "devstack.toml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "static"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := startUp(t, upConfig{dir: dir})
	r.waitLine(`^assets +\| assets built$`, 30*time.Second)

	mark := r.lineCount()
	if err := os.WriteFile(filepath.Join(dir, "static", "site.css"), []byte("body{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitLineAfter(mark, `^assets +\| assets built$`, 30*time.Second)

	// A Python change reloads the gateway but leaves assets alone.
	mark = r.lineCount()
	app := filepath.Join(dir, "app.py")
	data, _ := os.ReadFile(app)
	if err := os.WriteFile(app, append(data, "\n# edited\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitLineAfter(mark, `reloaded in .*app.py`, 60*time.Second)
	if after := strings.Join(strings.Split(r.output(), "\n")[mark:], "\n"); strings.Contains(after, "assets built") {
		t.Errorf("a change outside restart_on restarted the extra process:\n%s", after)
	}
}
