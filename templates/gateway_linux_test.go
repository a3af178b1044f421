package templates

import "syscall"

// gatewaySysProcAttr puts the gateway in its own process group, killed with
// the test binary if that dies first.
func gatewaySysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
