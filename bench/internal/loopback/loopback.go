// Package loopback finds ports for the programs a benchmark starts.
package loopback

import (
	"errors"
	"net"
	"strconv"
	"strings"
)

// FreePort returns a port free on 127.0.0.1 and, where there is one, on
// ::1 (devstack's proxy listens on both loopback addresses).
func FreePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l6, err6 := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(port)))
		l.Close()
		if err6 == nil {
			l6.Close()
			return port, nil
		}
		if !strings.Contains(err6.Error(), "in use") {
			return port, nil // no IPv6 loopback
		}
	}
	return 0, errors.New("no port free on both 127.0.0.1 and ::1 after 20 tries")
}
