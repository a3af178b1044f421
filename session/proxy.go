package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/internal/hint"
	"github.com/devstack-dev/devstack/orchestrator"
	"github.com/devstack-dev/devstack/proxy"
)

// ProxyOptions configure Proxy.
type ProxyOptions struct {
	// To is the server to put behind the proxy, "http://127.0.0.1:3000".
	// Required.
	To string
	// Port is the HTTPS port to listen on; 0 picks a free one.
	Port int
	// Hosts are the addresses to listen on. Default: both loopback
	// addresses.
	Hosts []string
	// Notify receives what the user should know that is not an error (a
	// new CA, a client that does not trust it, a non-loopback address).
	// Nil drops them.
	Notify func(Notice)
	// OnEvent receives each access record and the proxy's own messages
	// ("listening on …", "ready https://localhost:8080 -> …"). It is called
	// from many goroutines at once, once per request: it must not block.
	// Nil drops them.
	OnEvent func(events.Event)
}

// Proxy runs devstack's TLS proxy alone, in front of a server devstack
// does not run, until ctx is done; then it stops gracefully.
func Proxy(ctx context.Context, opts ProxyOptions) error {
	notify := func(n Notice) {
		if opts.Notify != nil {
			opts.Notify(n)
		}
	}
	emit := func(e events.Event) {
		if opts.OnEvent != nil {
			opts.OnEvent(e)
		}
	}
	say := func(source, text string) {
		emit(events.Event{Time: time.Now(), Kind: events.KindMessage, Source: source, Text: text})
	}
	if opts.To == "" {
		return hint.Wrap(errors.New("no upstream server given"),
			"say which server to put behind the proxy, e.g. devstack proxy --to http://127.0.0.1:3000")
	}
	upstream, err := proxy.ParseUpstream(opts.To)
	if err != nil {
		return err
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return hint.Wrap(fmt.Errorf("invalid port %d", opts.Port), "pick a port between 1 and 65535 with --port (0 picks a free one)")
	}
	tlsConfig, roots, err := ServerTLS("", certificateHosts(opts.Hosts), opts.Notify)
	if err != nil {
		return err
	}

	var untrusted sync.Once
	p, err := proxy.New(proxy.Config{
		Upstream: upstream,
		TLS:      tlsConfig,
		OnAccess: func(r proxy.AccessRecord) {
			a := orchestrator.AccessRecordOf(&r)
			emit(events.Event{Time: r.Time, Kind: events.KindAccess, Source: events.SourceProxy, Access: &a})
		},
		ErrorLog: func(msg string) {
			// A browser that does not trust the CA says so in the handshake;
			// tell the user once. Other connection noise is dropped.
			if strings.Contains(msg, "unknown certificate") || strings.Contains(msg, "bad certificate") {
				untrusted.Do(func() {
					notify(Notice{Warning: true, Text: "a client rejected the certificate: it does not trust devstack's CA",
						Hint: `run "devstack ca install", then restart the browser`})
				})
			}
		},
	})
	if err != nil {
		return err
	}
	srv, err := p.Listen(opts.Hosts, opts.Port)
	if err != nil {
		return err
	}
	var bound []string
	for _, a := range srv.Addrs() {
		bound = append(bound, a.String())
		if ip := a.(*net.TCPAddr).IP; !ip.IsLoopback() {
			notify(Notice{Warning: true, Text: fmt.Sprintf("the proxy listens on %s, reachable from other machines on your network", a)})
		}
	}
	say(events.SourceProxy, fmt.Sprintf("listening on %s, forwarding to %s", strings.Join(bound, " and "), p.Upstream()))

	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	go func() {
		ready := srv.AwaitReady(ctx, proxy.ReadyCheck{
			RootCAs: roots,
			OnWait:  func() { say(events.SourceProxy, fmt.Sprintf("waiting for %s to answer", p.Upstream())) },
		})
		if ready {
			say(events.SourceDevstack, fmt.Sprintf("ready %s -> %s", srv.URL(), p.Upstream()))
		}
	}()

	select {
	case err := <-served:
		return fmt.Errorf("proxy stopped: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stopping the proxy: %w", err)
	}
	<-served
	return nil
}

// certificateHosts are the names the leaf must cover beyond localhost and
// the loopback addresses: the listen addresses given, and this machine's
// name when the proxy listens on every interface.
func certificateHosts(hosts []string) []string {
	var names []string
	for _, h := range hosts {
		ip := net.ParseIP(h)
		switch {
		case h == "localhost" || ip != nil && ip.IsLoopback():
		case ip != nil && ip.IsUnspecified():
			if name, err := os.Hostname(); err == nil && name != "" {
				names = append(names, name)
			}
		default:
			names = append(names, h)
		}
	}
	return names
}
