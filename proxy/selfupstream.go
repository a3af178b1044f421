package proxy

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// SelfUpstreamError says the upstream is the proxy itself: every request
// would be forwarded back to the proxy, which would forward it again, one
// new connection each time, until the machine runs out of them.
type SelfUpstreamError struct {
	Upstream string // the upstream URL as given
	Addr     string // the proxy's address it reaches
}

func (e *SelfUpstreamError) Error() string {
	return fmt.Sprintf("the upstream %s is this proxy itself (it listens on %s)", e.Upstream, e.Addr)
}

// Hint says the one thing to do about it.
func (e *SelfUpstreamError) Hint() string {
	return "the proxy forwards to another server: give that server's address, on a port other than the proxy's"
}

// selfUpstream returns the first of lns the upstream would connect to, or
// nil. Names are resolved as a dial would resolve them; "localhost" and
// *.localhost are loopback (RFC 6761), and 0.0.0.0 or :: as a destination
// reach this machine.
func (p *Proxy) selfUpstream(lns []net.Listener) net.Addr {
	u := p.cfg.Upstream
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	targets := upstreamIPs(u.Hostname())
	for _, ln := range lns {
		la, ok := ln.Addr().(*net.TCPAddr)
		if !ok || strconv.Itoa(la.Port) != port {
			continue
		}
		for _, ip := range targets {
			if la.IP.Equal(ip) || la.IP.IsUnspecified() && isLocalIP(ip) {
				return la
			}
		}
	}
	return nil
}

// upstreamIPs returns the addresses a dial to host may reach.
func upstreamIPs(host string) []net.IP {
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		ips = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		addrs, _ := net.DefaultResolver.LookupIPAddr(ctx, host)
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	for i, ip := range ips {
		ips[i] = dialable(ip)
	}
	return ips
}

// dialable is the address a connection to ip reaches: ip itself, or the
// loopback address of its family for 0.0.0.0 or ::.
func dialable(ip net.IP) net.IP {
	switch {
	case !ip.IsUnspecified():
		return ip
	case ip.To4() != nil:
		return net.IPv4(127, 0, 0, 1)
	}
	return net.IPv6loopback
}

// isLocalIP reports whether ip is one of this machine's addresses.
func isLocalIP(ip net.IP) bool {
	if ip.IsLoopback() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}
