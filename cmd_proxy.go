package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/devstack-dev/devstack/proxy"
	"github.com/devstack-dev/devstack/session"
)

func proxyCommand() *cli.Command {
	return &cli.Command{
		Name:      "proxy",
		Usage:     "run only the HTTPS proxy in front of any local server",
		UsageText: "devstack proxy --to URL [--port 8080] [--host 127.0.0.1]",
		Description: "Terminates HTTPS (HTTP/2 and HTTP/1.1) with a certificate from devstack's local CA\n" +
			"and forwards to URL with X-Forwarded-Proto/For/Host set and client-sent ones removed.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "the server to put behind the proxy, e.g. http://127.0.0.1:3000", EnvVars: []string{"DEVSTACK_PROXY_TO"}},
			&cli.IntFlag{Name: "port", Value: 8080, Usage: "HTTPS port to listen on (0 picks a free one)", EnvVars: []string{"DEVSTACK_PORT"}},
			&cli.StringSliceFlag{Name: "host", Usage: "address to listen on, repeatable (default: 127.0.0.1 and ::1; 0.0.0.0 exposes the proxy to your network)", EnvVars: []string{"DEVSTACK_PROXY_HOST"}},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError{fmt.Errorf("unexpected argument %q", c.Args().First())}
			}
			ctx, stop := signal.NotifyContext(c.Context, stopSignals...)
			defer stop()
			return runProxy(ctx, proxyOptions{
				to:     c.String("to"),
				port:   c.Int("port"),
				hosts:  c.StringSlice("host"),
				stdout: c.App.Writer,
				stderr: c.App.ErrWriter,
			})
		},
	}
}

type proxyOptions struct {
	to     string
	port   int
	hosts  []string
	stdout io.Writer
	stderr io.Writer
}

func runProxy(ctx context.Context, opt proxyOptions) error {
	if opt.to == "" {
		return hintError{errors.New("no upstream server given"),
			"say which server to put behind the proxy, e.g. devstack proxy --to http://127.0.0.1:3000"}
	}
	upstream, err := proxy.ParseUpstream(opt.to)
	if err != nil {
		return err
	}
	if opt.port < 0 || opt.port > 65535 {
		return hintError{fmt.Errorf("invalid port %d", opt.port), "pick a port between 1 and 65535 with --port (0 picks a free one)"}
	}
	out := newProxyLineWriter(opt.stdout)
	defer out.flush()

	tlsConfig, roots, err := session.ServerTLS("", certificateHosts(opt.hosts), func(n session.Notice) { printNotice(opt.stderr, n) })
	if err != nil {
		return err
	}

	var untrusted sync.Once
	p, err := proxy.New(proxy.Config{
		Upstream: upstream,
		TLS:      tlsConfig,
		OnAccess: out.printAccess,
		ErrorLog: func(msg string) {
			// A browser that does not trust the CA says so in the handshake;
			// tell the user once. Other connection noise is dropped.
			if strings.Contains(msg, "unknown certificate") || strings.Contains(msg, "bad certificate") {
				untrusted.Do(func() {
					fmt.Fprintln(opt.stderr, "devstack: warning: a client rejected the certificate: it does not trust devstack's CA")
					fmt.Fprintln(opt.stderr, `devstack: hint: run "devstack ca install", then restart the browser`)
				})
			}
		},
	})
	if err != nil {
		return err
	}
	srv, err := p.Listen(opt.hosts, opt.port)
	if err != nil {
		return err
	}
	var bound []string
	for _, a := range srv.Addrs() {
		bound = append(bound, a.String())
		if ip := a.(*net.TCPAddr).IP; !ip.IsLoopback() {
			fmt.Fprintf(opt.stderr, "devstack: warning: the proxy listens on %s, reachable from other machines on your network\n", a)
		}
	}
	out.println(fmt.Sprintf("proxy | listening on %s, forwarding to %s", strings.Join(bound, " and "), p.Upstream()))

	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	go announceReady(ctx, p, srv, roots, out)

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
// the loopback addresses: the --host values, and this machine's name when
// the proxy listens on every interface.
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

// announceReady prints the ready line once a request through the proxy has
// been answered by the upstream.
func announceReady(ctx context.Context, p *proxy.Proxy, srv *proxy.Server, roots *x509.CertPool, out *proxyLineWriter) {
	ready := srv.AwaitReady(ctx, proxy.ReadyCheck{
		RootCAs: roots,
		OnWait:  func() { out.println(fmt.Sprintf("proxy | waiting for %s to answer", p.Upstream())) },
	})
	if ready {
		out.println(fmt.Sprintf("devstack: ready %s -> %s", srv.URL(), p.Upstream()))
	}
}

// appendProxyAccess appends an access record as one plain log line,
// "proxy | GET / 200 1.2ms", without fmt: it runs for every request.
func appendProxyAccess(b []byte, r proxy.AccessRecord) []byte {
	b = append(b, "proxy | "...)
	b = append(b, r.Method...)
	b = append(b, ' ')
	b = append(b, r.Path...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, ' ')
	b = appendProxyDuration(b, r.Duration)
	if r.Redirected {
		b = append(b, " (plain http, redirected to https)"...)
	}
	if r.Held > 0 {
		b = append(b, " (held "...)
		b = appendProxyDuration(b, r.Held)
		b = append(b, " while the server restarted)"...)
	}
	if r.UpstreamError != nil {
		b = append(b, " (upstream: "...)
		b = append(b, r.UpstreamError.Error()...)
		b = append(b, ')')
	}
	if r.ClientError != nil {
		b = append(b, " ("...)
		b = append(b, r.ClientError.Error()...)
		b = append(b, ')')
	}
	return b
}

// appendProxyDuration writes 850µs, 1.2ms or 1.25s.
func appendProxyDuration(b []byte, d time.Duration) []byte {
	switch {
	case d < time.Millisecond:
		return append(strconv.AppendInt(b, d.Microseconds(), 10), "µs"...)
	case d < time.Second:
		return append(strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 1, 64), "ms"...)
	default:
		return append(strconv.AppendFloat(b, d.Seconds(), 'f', 2, 64), 's')
	}
}

// proxyLineWriter writes whole lines from many goroutines without
// interleaving. Lines are gathered in a buffer and written within
// flushDelay, or once flushSize bytes are waiting, by a goroutine of their
// own: a request only appends its line under the lock and never waits for
// the write, unless maxWaiting bytes pile up behind a slow output.
type proxyLineWriter struct {
	w io.Writer

	mu      sync.Mutex
	done    *sync.Cond // signalled when a write ends
	buf     []byte     // lines not yet handed to a write
	spare   []byte     // the buffer of the last write, for reuse
	pending bool       // a timed flush is scheduled
	writing bool       // a write runs, outside the lock
}

const (
	flushDelay = 50 * time.Millisecond
	flushSize  = 32 << 10
	maxWaiting = 4 << 20
)

func newProxyLineWriter(w io.Writer) *proxyLineWriter {
	l := &proxyLineWriter{w: w}
	l.done = sync.NewCond(&l.mu)
	return l
}

func (l *proxyLineWriter) println(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, s...)
	l.addedLocked()
}

func (l *proxyLineWriter) printAccess(r proxy.AccessRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = appendProxyAccess(l.buf, r)
	l.addedLocked()
}

// addedLocked ends the line just appended and arranges for it to be written.
func (l *proxyLineWriter) addedLocked() {
	l.buf = append(l.buf, '\n')
	for l.writing && len(l.buf) >= maxWaiting {
		l.done.Wait() // the output cannot keep up: wait rather than grow
	}
	if len(l.buf) >= flushSize {
		l.startWriteLocked()
		return
	}
	if !l.pending {
		l.pending = true
		time.AfterFunc(flushDelay, func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.pending = false
			l.startWriteLocked()
		})
	}
}

// startWriteLocked hands the waiting lines to a write of their own, unless
// one runs: it starts the next when it ends.
func (l *proxyLineWriter) startWriteLocked() {
	if l.writing || len(l.buf) == 0 {
		return
	}
	data := l.buf
	l.buf, l.spare = l.spare[:0], nil
	l.writing = true
	go func() {
		_, _ = l.w.Write(data)
		l.mu.Lock()
		defer l.mu.Unlock()
		l.writing, l.spare = false, data[:0]
		l.done.Broadcast()
		l.startWriteLocked() // what came in meanwhile has waited long enough
	}()
}

// flush writes every line added so far and returns once they are written.
func (l *proxyLineWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.writing || len(l.buf) > 0 {
		l.startWriteLocked()
		l.done.Wait()
	}
}
