package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// writeConfig writes the project's devstack.toml.
func writeConfig(t *testing.T, dir, content string) {
	t.Helper()
	writeProjectFile(t, dir, "devstack.toml", content)
}

// writeProjectFile writes file name of the project in dir.
func writeProjectFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A saved devstack.toml whose args change restarts the gateway with the
// new command line; a typo keeps the stack serving and is told once with
// its line, and the next good save applies.
func TestUpReconfigAppliesArgsAndSurvivesATypo(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := copyProject(t, "selfcall")
	writeConfig(t, dir, "args = [\"-e\", \"GREETING=first\"]\n")
	r := startUp(t, upConfig{dir: dir})
	if code, body := r.get("/greeting"); code != 200 || body != "first\n" {
		t.Fatalf("GET /greeting: %d %q, want the args' first", code, body)
	}

	after := r.lineCount()
	writeConfig(t, dir, "args = [\"-e\", \"GREETING=second\"]\n")
	r.waitLineAfter(after, `devstack\.toml changed: gateway args`, 30*time.Second)
	r.waitLineAfter(after, `reloaded in`, 60*time.Second)
	if code, body := r.get("/greeting"); code != 200 || body != "second\n" {
		t.Fatalf("GET /greeting after the edit: %d %q, want the new args' second", code, body)
	}

	// A typo: the stack keeps serving what it ran, and says why once.
	after = r.lineCount()
	writeConfig(t, dir, "args = [\"-e\", \"GREETING=third\"]\nworkers = 2\n")
	r.waitLineAfter(after, `error: devstack\.toml:2: .*not applied: the stack keeps running`, 30*time.Second)
	r.waitLineAfter(after, `hint: `, 5*time.Second)
	writeConfig(t, dir, "args = [\"-e\", \"GREETING=third\"]\nworkers = 2\n\n")
	time.Sleep(time.Second) // the same error again: not told again
	if code, body := r.get("/greeting"); code != 200 || body != "second\n" {
		t.Errorf("GET /greeting with a typo in devstack.toml: %d %q, want the running second", code, body)
	}
	if n := len(regexp.MustCompile(`error: devstack\.toml:2:`).FindAllString(r.output(), -1)); n != 1 {
		t.Errorf("the config error is told %d times, want once", n)
	}
	if strings.Contains(strings.Join(r.lines.Items()[after:], "\n"), "reloading (restart)") {
		t.Error("a config that does not load restarted the gateway")
	}

	after = r.lineCount()
	writeConfig(t, dir, "args = [\"-e\", \"GREETING=third\"]\n")
	r.waitLineAfter(after, `devstack\.toml changed: gateway args`, 30*time.Second)
	r.waitLineAfter(after, `reloaded in`, 60*time.Second)
	if code, body := r.get("/greeting"); code != 200 || body != "third\n" {
		t.Errorf("GET /greeting after the fix: %d %q, want third", code, body)
	}
}

// A process added to [processes] starts at the save; one removed stops;
// the gateway goes on serving.
func TestUpReconfigStartsAnAddedProcess(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := copyProject(t, "selfcall")
	r := startUp(t, upConfig{dir: dir})
	marker := fmt.Sprintf("ticker-%d-up", time.Now().UnixNano())
	after := r.lineCount()
	writeConfig(t, dir, fmt.Sprintf("[processes.ticker]\ncommand = \"/usr/bin/python3 -u -c 'import time; print(\\\"%s\\\"); time.sleep(600)'\"\n", marker))
	r.waitLineAfter(after, `devstack\.toml changed: process "ticker" added`, 30*time.Second)
	r.waitLineAfter(after, `ticker.*`+marker, 30*time.Second)
	r.waitLineAfter(after, `reloaded in`, 60*time.Second)
	if code, _ := r.get("/greeting"); code != 200 {
		t.Errorf("GET /greeting after adding a process: %d", code)
	}
	eventually(t, 10*time.Second, "the ticker runs", func() bool { return len(pidsOf(marker)) > 0 })

	after = r.lineCount()
	writeConfig(t, dir, "")
	r.waitLineAfter(after, `devstack\.toml changed: process "ticker" removed`, 30*time.Second)
	eventually(t, 15*time.Second, "the ticker stops", func() bool { return len(pidsOf(marker)) == 0 })
}

// A new port cannot be applied by a restart: the log says it needs a new
// devstack up, and the proxy keeps serving on the port it listens on.
func TestUpReconfigPortNeedsANewUp(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := copyProject(t, "selfcall")
	port, other := freePort(t), freePort(t)
	writeConfig(t, dir, fmt.Sprintf("port = %d\n", port))
	r := startUp(t, upConfig{dir: dir, port: port, portInConfig: true})
	after := r.lineCount()
	writeConfig(t, dir, fmt.Sprintf("port = %d\n", other))
	want := fmt.Sprintf(`devstack\.toml: port changed from %d to %d; it takes effect on the next devstack up`, port, other)
	r.waitLineAfter(after, want, 30*time.Second)
	if code, body := r.get("/greeting"); code != 200 || body != "hello\n" {
		t.Errorf("GET /greeting on the old port: %d %q", code, body)
	}
	if listening(other) {
		t.Errorf("something listens on the new port %d", other)
	}
}

// A saved Procfile whose web line changes restarts the gateway with the
// line's new options, and no request fails across that restart.
func TestUpReconfigAppliesTheProcfileWebLine(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := copyProject(t, "selfcall")
	write := func(greeting string) {
		writeProjectFile(t, dir, "Procfile", "web: gunicorn app:app -e GREETING="+greeting+"\n")
	}
	write("from-web")
	r := startUp(t, upConfig{dir: dir})
	if code, body := r.get("/greeting"); code != 200 || body != "from-web\n" {
		t.Fatalf("GET /greeting: %d %q, want the web line's from-web", code, body)
	}
	stop := r.load("/greeting", 4, func(body string) error {
		if body != "from-web\n" && body != "edited\n" {
			return fmt.Errorf("body %q", body)
		}
		return nil
	})
	after := r.lineCount()
	write("edited")
	r.waitLineAfter(after, `Procfile changed: gateway args`, 30*time.Second)
	r.waitLineAfter(after, `reloaded in`, 60*time.Second)
	sent, failed, first := stop()
	if failed > 0 {
		t.Errorf("%d of %d requests failed across the restart; first: %v", failed, sent, first)
	}
	if sent < 10 {
		t.Errorf("only %d requests were sent: the load did not overlap the restart", sent)
	}
	if code, body := r.get("/greeting"); code != 200 || body != "edited\n" {
		t.Errorf("GET /greeting after the edit: %d %q, want the new line's edited", code, body)
	}
}
