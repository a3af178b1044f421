//go:build !linux

package templates

import "syscall"

// gatewaySysProcAttr puts the gateway in its own process group (Pdeathsig
// is Linux-only; Cleanup stops the group).
func gatewaySysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
