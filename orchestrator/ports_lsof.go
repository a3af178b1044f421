//go:build unix

package orchestrator

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// lsofTimeout bounds the lookup: lsof can be slow on a machine with many
// open files or a hung network mount, and the answer only improves a message.
const lsofTimeout = 3 * time.Second

// findPortHolderLsof finds the process listening on port with lsof, where
// there is no /proc to read (macOS, the BSDs). A listener on host (or on
// every address) is preferred to one on another address. Other users'
// processes are not listed without root; then the holder stays unknown.
func findPortHolderLsof(host string, port int) (portHolder, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), lsofTimeout)
	defer cancel()
	// -F pcn: one field per line, p (pid) starting each process, c its
	// command name, n each file's name ("127.0.0.1:8000", "*:8000", "[::1]:8000").
	out, err := exec.CommandContext(ctx, "lsof", "-nP", "-a", "-iTCP:"+strconv.Itoa(port), "-sTCP:LISTEN", "-Fpcn").Output()
	if len(out) == 0 {
		_ = err // lsof exits 1 when nothing matches
		return portHolder{}, false
	}
	want := hostIPs(host)
	var preferred, others []portHolder
	var cur portHolder
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		switch line[0] {
		case 'p':
			pid, err := strconv.Atoi(line[1:])
			if err != nil {
				cur = portHolder{}
				continue
			}
			cur = portHolder{PID: pid}
		case 'c':
			cur.Command = line[1:]
		case 'n':
			if cur.PID == 0 {
				continue
			}
			addr := line[1:]
			if i := strings.LastIndexByte(addr, ':'); i >= 0 {
				addr = addr[:i]
			}
			addr = strings.Trim(addr, "[]")
			ip := net.ParseIP(addr)
			if addr == "*" || (ip != nil && (ip.IsUnspecified() || containsIP(want, ip))) {
				preferred = append(preferred, cur)
			} else {
				others = append(others, cur)
			}
		}
	}
	holders := append(preferred, others...)
	if len(holders) == 0 {
		return portHolder{}, false
	}
	h := holders[0]
	h.Cmdline = psCommandLine(ctx, h.PID)
	h.Command = commandName(h.PID, h.Command, strings.Fields(h.Cmdline))
	return h, true
}

// commandName names a process the way a user knows it: comm is the kernel's
// name, which is cut short (15 bytes on Linux, fewer in lsof on macOS) and
// for a script is the script's name ("gunicorn", while the command line
// starts with python3); where a word of the command line starts with it,
// that word's file name is the full name.
func commandName(pid int, comm string, args []string) string {
	for _, a := range args[:min(2, len(args))] {
		if base := filepath.Base(a); strings.HasPrefix(base, comm) {
			comm = base
			break
		}
	}
	if comm == "" {
		return "pid " + strconv.Itoa(pid)
	}
	return comm
}
