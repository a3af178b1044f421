package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"
)

// PortInUseError says that a port devstack needs is taken, and by whom
// when the system lets devstack find out.
type PortInUseError struct {
	Host string
	Port int
	// The process listening on the port (found through /proc on Linux,
	// lsof elsewhere); PID is 0 when it is unknown (another user's process).
	PID     int
	Command string // its program name, e.g. "gunicorn"
	Cmdline string // its full command line, space separated
	// Flag is the option that picks another port, named in the hint
	// (default "--app-port").
	Flag string
	Err  error // what listening reported
}

func (e *PortInUseError) Error() string {
	where := fmt.Sprintf("port %d on %s is in use", e.Port, e.Host)
	if e.PID == 0 {
		return where
	}
	return fmt.Sprintf("%s by %s (pid %d)", where, e.Command, e.PID)
}

// Hint names the one thing to do: stop the holder or use another port.
func (e *PortInUseError) Hint() string {
	flag := e.Flag
	if flag == "" {
		flag = "--app-port"
	}
	if e.PID == 0 {
		return fmt.Sprintf("stop the program listening on port %d (%s), or choose another port with %s", e.Port, portLookupHint(e.Port), flag)
	}
	return fmt.Sprintf("stop %s (kill %d), or choose another port with %s", e.Command, e.PID, flag)
}

func (e *PortInUseError) Unwrap() error { return e.Err }

// portHolder is a process listening on a port.
type portHolder struct {
	PID     int
	Command string
	Cmdline string
}

// CheckPortFree reports whether host:port can be listened on, by trying.
// When it is taken the error is a *PortInUseError naming the process that
// holds it where the system allows.
func CheckPortFree(host string, port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err == nil {
		return ln.Close()
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("checking port %d on %s: %w", port, host, err)
	}
	pe := &PortInUseError{Host: host, Port: port, Err: err}
	if h, ok := findPortHolder(host, port); ok {
		pe.PID, pe.Command, pe.Cmdline = h.PID, h.Command, h.Cmdline
	}
	return pe
}

// WaitPortFree waits until host:port is free (a restarted server's old
// socket has gone) or ctx ends, and then returns the last CheckPortFree
// error.
func WaitPortFree(ctx context.Context, host string, port int) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := CheckPortFree(host, port)
		var inUse *PortInUseError
		if err == nil || !errors.As(err, &inUse) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-tick.C:
		}
	}
}

// hostIPs returns the addresses host stands for.
func hostIPs(host string) []net.IP {
	if ip := net.ParseIP(host); ip != nil {
		return []net.IP{ip}
	}
	ips, _ := net.LookupIP(host)
	return ips
}

func containsIP(ips []net.IP, ip net.IP) bool {
	for _, x := range ips {
		if x.Equal(ip) {
			return true
		}
	}
	return false
}
