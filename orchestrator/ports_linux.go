package orchestrator

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// tcpListen is the socket state "LISTEN" in /proc/net/tcp.
const tcpListen = "0A"

// findPortHolder finds the process listening on port: /proc/net/tcp{,6}
// give the listening socket's inode, and the process whose /proc/PID/fd
// links to "socket:[inode]" owns it. Other users' processes cannot be
// inspected without root; then the holder stays unknown.
func findPortHolder(host string, port int) (portHolder, bool) {
	want := hostIPs(host)
	var preferred, others []string
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for _, l := range readListeners(table, port) {
			if l.ip.IsUnspecified() || containsIP(want, l.ip) {
				preferred = append(preferred, l.inode)
			} else {
				others = append(others, l.inode)
			}
		}
	}
	inodes := append(preferred, others...)
	if len(inodes) == 0 {
		return portHolder{}, false
	}
	for _, inode := range inodes {
		if pid, ok := socketOwner(inode); ok {
			return describeProcess(pid), true
		}
	}
	return portHolder{}, false
}

type listener struct {
	ip    net.IP
	inode string
}

// readListeners parses one /proc/net/tcp table for sockets listening on port.
func readListeners(path string, port int) []listener {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []listener
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != tcpListen {
			continue
		}
		addr, portHex, ok := strings.Cut(fields[1], ":")
		if !ok {
			continue
		}
		if p, err := strconv.ParseUint(portHex, 16, 16); err != nil || int(p) != port {
			continue
		}
		out = append(out, listener{ip: procIP(addr), inode: fields[9]})
	}
	return out
}

// procIP decodes an address from /proc/net/tcp: the bytes of each 32-bit
// word are in host (little-endian) order.
func procIP(s string) net.IP {
	b, err := hex.DecodeString(s)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return nil
	}
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b)
}

// socketOwner finds a process with a file descriptor on socket inode.
func socketOwner(inode string) (int, bool) {
	target := "socket:[" + inode + "]"
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join("/proc", p.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue // gone, or another user's
		}
		for _, fd := range fds {
			if link, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && link == target {
				return pid, true
			}
		}
	}
	return 0, false
}

// describeProcess names pid from /proc/PID/comm and /proc/PID/cmdline.
func describeProcess(pid int) portHolder {
	h := portHolder{PID: pid}
	var comm string
	if raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); err == nil {
		comm = strings.TrimSpace(string(raw))
	}
	args := processArgs(pid)
	h.Cmdline = strings.Join(args, " ")
	h.Command = commandName(pid, comm, args)
	return h
}

// portLookupHint names the command that shows who listens on port, for
// when devstack could not tell (another user's process).
func portLookupHint(port int) string {
	return fmt.Sprintf("\"sudo ss -ltnp 'sport = :%d'\" names it", port)
}
