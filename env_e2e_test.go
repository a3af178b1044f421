package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// An edit to .env while up runs restarts the gateway with the new values,
// and the log names the variables that changed, never their values.
func TestUpAppliesDotenvEdits(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := copyProject(t, "selfcall")
	r := startUp(t, upConfig{dir: dir})
	if code, body := r.get("/greeting"); code != 200 || body != "hello\n" {
		t.Fatalf("GET /greeting: %d %q, want .env's hello", code, body)
	}
	after := r.lineCount()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("GREETING=bonjour-s3cret\nADDED=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitLineAfter(after, `environment: ADDED, GREETING changed`, 30*time.Second)
	r.waitLineAfter(after, `reloaded in`, 60*time.Second)
	if code, body := r.get("/greeting"); code != 200 || body != "bonjour-s3cret\n" {
		t.Errorf("GET /greeting after the edit: %d %q, want the new value", code, body)
	}
	if strings.Contains(r.output(), "bonjour-s3cret") {
		t.Error("the log shows a variable's value")
	}
}
