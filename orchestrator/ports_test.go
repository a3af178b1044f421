package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
)

func listenLocal(t *testing.T) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// startPortHolder starts a python3 child listening on a free loopback port
// and returns once it listens.
func startPortHolder(t *testing.T) (*Process, int) {
	t.Helper()
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		testenv.Missing(t, "%s (apt-get install python3)", python)
	}
	ln, port := listenLocal(t)
	ln.Close()
	script := fmt.Sprintf("import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',%d))\ns.listen()\nprint('listening',flush=True)\ntime.sleep(60)", port)
	p, rec := startProcess(t, ProcessSpec{Name: "holder", Argv: []string{python, "-c", script}})
	rec.waitFor(t, "the child to listen", isLine("holder", "listening"))
	return p, port
}

func TestPortInUseNamesTheHolder(t *testing.T) {
	_, port := listenLocal(t)
	err := CheckPortFree("127.0.0.1", port)
	var pe *PortInUseError
	if !errors.As(err, &pe) {
		t.Fatalf("CheckPortFree on a taken port: got %v, want a PortInUseError", err)
	}
	if pe.Port != port || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("error %q does not name the address", err)
	}
	if runtime.GOOS != "linux" {
		return
	}
	// The holder is this test binary, whose name is longer than the
	// kernel's 15-byte comm.
	want := filepath.Base(os.Args[0])
	if pe.PID != os.Getpid() || pe.Command != want {
		t.Errorf("holder: got %q (pid %d), want %q (pid %d)", pe.Command, pe.PID, want, os.Getpid())
	}
	if !strings.Contains(err.Error(), "in use by "+want) {
		t.Errorf("error %q does not name the holder", err)
	}
	if hint := pe.Hint(); !strings.Contains(hint, "--app-port") || !strings.Contains(hint, want) {
		t.Errorf("hint %q should say to stop %s or use --app-port", hint, want)
	}
}

func TestWildcardListenerIsFoundForLoopback(t *testing.T) {
	requireLinux(t)
	ln, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	var pe *PortInUseError
	if err := CheckPortFree("127.0.0.1", port); !errors.As(err, &pe) || pe.PID != os.Getpid() {
		t.Errorf("CheckPortFree(127.0.0.1) with a 0.0.0.0 listener: got %v", err)
	}
}

func TestFreePortIsFree(t *testing.T) {
	ln, port := listenLocal(t)
	ln.Close()
	if err := CheckPortFree("127.0.0.1", port); err != nil {
		t.Errorf("CheckPortFree on a closed port: %v", err)
	}
}

func TestWaitPortFree(t *testing.T) {
	ln, port := listenLocal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var pe *PortInUseError
	if err := WaitPortFree(ctx, "127.0.0.1", port); !errors.As(err, &pe) {
		t.Errorf("WaitPortFree while taken: got %v, want a PortInUseError", err)
	}
	go func() { time.Sleep(50 * time.Millisecond); ln.Close() }()
	ctx, cancel = context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := WaitPortFree(ctx, "127.0.0.1", port); err != nil {
		t.Errorf("WaitPortFree after the listener closed: %v", err)
	}
}

func TestPortHeldByAnotherProcess(t *testing.T) {
	requireLinux(t)
	p, port := startPortHolder(t)
	err := CheckPortFree("127.0.0.1", port)
	want := fmt.Sprintf("port %d on 127.0.0.1 is in use by python3 (pid %d)", port, p.Status().PID)
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}
