package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/devstack-dev/devstack/orchestrator"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/devstack-dev/devstack/internal/testenv"
)

func TestMain(m *testing.M) {
	// The in-process devstack of the scripts starts its guard from this
	// test binary.
	orchestrator.GuardMain()
	testscript.Main(m, map[string]func(){
		"devstack": func() { os.Exit(run(os.Args, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script/*.txtar
// against the real devstack binary.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// Every script gets its own CA directory and HOME so nothing
			// touches the user's real trust stores.
			env.Setenv("CAROOT", env.WorkDir+"/caroot")
			env.Setenv("HOME", env.WorkDir+"/home")
			env.Setenv("XDG_DATA_HOME", env.WorkDir+"/home/.local/share")
			env.Setenv("NO_COLOR", "1")
			env.Setenv("DEVSTACK_CACHE_DIR", env.WorkDir+"/cache")
			return nil
		},
		// [python:django,gunicorn]: an interpreter devstack would find
		// imports those modules.
		Condition: func(cond string) (bool, error) {
			mods, ok := strings.CutPrefix(cond, "python:")
			if !ok {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			for _, python := range []string{"/usr/bin/python3", "python3"} {
				if path, err := exec.LookPath(python); err == nil && testenv.PythonImports(path, "", strings.Split(mods, ",")...) == nil {
					return true, nil
				}
			}
			return false, nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"listen":   cmdListen,
			"freeport": cmdFreePort,
			"serve":    cmdServe,
			"httpsget": cmdHTTPSGet,
		},
	})
}

// cmdListen occupies a free loopback port for the rest of the script and
// stores it in the variable named by its argument: `listen BUSY` then
// `! exec devstack up --port $BUSY`.
func cmdListen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: listen VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	ts.Defer(func() { l.Close() })
	ts.Setenv(args[0], strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
}

// cmdFreePort stores in the named variable a loopback port that nothing
// listens on: `freeport APP` then `exec devstack up --app-port $APP`.
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := l.Addr().(*net.TCPAddr).Port
	ts.Check(l.Close())
	ts.Setenv(args[0], strconv.Itoa(port))
}
