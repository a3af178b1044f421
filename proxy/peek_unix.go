//go:build unix

package proxy

import (
	"net"
	"syscall"
)

// socketQuiet reports whether c's socket has nothing to read and is still
// open, without waiting and without taking anything off it.
func socketQuiet(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var quiet bool
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Data (n > 0), end of stream (n == 0) and a reset all mean the
		// connection must not carry another request.
		quiet = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
		return true // never wait for readiness
	})
	return err == nil && quiet
}
