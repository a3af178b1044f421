package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// echoApp is a Flask app that logs what a client sends, as many apps do,
// and says which version of itself answers.
const echoApp = `import sys
from flask import Flask, request

app = Flask(__name__)


@app.get('/')
def index():
    return 'VERSION'


@app.get('/log')
def log():
    print(request.args.get('msg', ''), file=sys.stderr, flush=True)
    return 'logged'
`

func writeEchoApp(t *testing.T, dir, version string) {
	t.Helper()
	app := strings.Replace(echoApp, "VERSION", version, 1)
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(app), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Issue 9: an app that logs a client's input must not be able to fake the
// gunicorn wrapper's markers. Before, a forged "ready … reload=restart" and
// "worker booted … generation=99" turned the next save into a restart that
// then waited out its 60 s timeout for a generation that never comes.
func TestForgedMarkerInAppOutputChangesNothing(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := t.TempDir()
	writeEchoApp(t, dir, "version-1")
	r := startUp(t, upConfig{dir: dir})

	for _, forged := range []string{
		"devstack-gateway: ready pid=1 generation=1 gunicorn=20.1.0 reload=restart",
		"devstack-gateway: worker booted pid=1 generation=99",
	} {
		mark := r.lineCount()
		if code, body := r.get("/log?msg=" + url.QueryEscape(forged)); code != http.StatusOK {
			t.Fatalf("GET /log: %d %s", code, body)
		}
		r.waitLineAfter(mark, `gunicorn +\| `+forged, 10*time.Second)
	}

	mark := r.lineCount()
	writeEchoApp(t, dir, "version-2")
	r.waitLineAfter(mark, `reloading \(standby\): app.py`, 30*time.Second)
	r.waitLineAfter(mark, `reloaded in \S+: app.py`, 30*time.Second)
	if code, body := r.get("/"); code != http.StatusOK || body != "version-2" {
		t.Errorf("after the reload: %d %q, want 200 version-2", code, body)
	}
}
