package orchestrator

import "syscall"

// processAttr starts the child in its own process group, so that stopping
// it reaches everything it started, and asks the kernel to SIGKILL it if
// devstack dies without stopping it (kill -9, a crash). Pdeathsig reaches
// the child only, not its own children: a gunicorn master's workers exit
// when they see their master gone.
func processAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
