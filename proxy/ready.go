package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"time"
)

// ReadyCheck tunes Server.AwaitReady. The zero value checks every second
// with the system's roots.
type ReadyCheck struct {
	// RootCAs verifies the proxy's own certificate (devstack's CA). Nil
	// means the system pool.
	RootCAs *x509.CertPool
	// Interval is the pause between two checks after one that the upstream
	// did not answer. Default 1 s.
	Interval time.Duration
	// Paused, when it returns true, skips sending a check (the caller knows
	// the upstream is down and not coming back by itself, so a check would
	// only add an error page to the log). Nil never pauses.
	Paused func() bool
	// OnWait is called once, after the first check the upstream did not
	// answer. Nil does nothing.
	OnWait func()
}

// AwaitReady sends requests through the server — over TLS, as a browser
// would — until the upstream has answered one of them (or any other
// client's request), and reports whether that happened before ctx ended.
// A request waits in the proxy while the upstream refuses connections, so
// this returns as soon as the upstream is up.
func (s *Server) AwaitReady(ctx context.Context, rc ReadyCheck) bool {
	if rc.Interval <= 0 {
		rc.Interval = time.Second
	}
	// The check goes to an address the server listens on (with --host
	// 127.0.0.2, localhost would reach nothing), and verifies the name
	// every leaf has.
	addr := s.dialAddr()
	var dialer net.Dialer
	client := &http.Client{
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: rc.RootCAs, ServerName: "localhost"},
			Proxy:           nil,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, addr)
			},
		},
		// Any answer of the upstream will do, a redirect included.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()
	checked := make(chan struct{}, 1)
	check := func() {
		defer func() { checked <- struct{}{} }()
		if rc.Paused != nil && rc.Paused() {
			return
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/", nil)
		if err != nil {
			return
		}
		req.Header.Set("User-Agent", "devstack-ready-check")
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	go check()
	waited := false
	for {
		select {
		case <-ctx.Done():
			return false
		case <-s.proxy.Ready():
			return true
		case <-checked:
			if !waited && rc.OnWait != nil && (rc.Paused == nil || !rc.Paused()) {
				rc.OnWait()
				waited = true
			}
			go func() {
				select {
				case <-time.After(rc.Interval):
					check()
				case <-ctx.Done():
				}
			}()
		}
	}
}
