package session

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/devstack-dev/devstack/project"
	"github.com/devstack-dev/devstack/templates"
)

// ExportOptions configure Export.
type ExportOptions struct {
	// Domain is the site's name. Default: the first of the project's hosts
	// that is not a local name, else example.com.
	Domain string
	// Upstream is the gateway's address as the production proxy reaches
	// it. Default: the app port on 127.0.0.1.
	Upstream string
	// Notify receives what is missing from the configuration (it is
	// written all the same). Nil drops it.
	Notify func(Notice)
}

// Export returns the production reverse-proxy configuration of kind
// ("caddy" or "nginx", see templates.ExportKinds) equivalent to what
// devstack's proxy does for the project in dir.
func Export(ctx context.Context, dir, kind string, opts ExportOptions) ([]byte, error) {
	p, err := Detect(dir, project.Overrides{})
	if err != nil {
		return nil, err
	}
	cfg := templates.ExportConfig{
		Domain:        cmp.Or(opts.Domain, productionDomain(p.Hosts)),
		Upstream:      cmp.Or(opts.Upstream, net.JoinHostPort("127.0.0.1", strconv.Itoa(p.AppPort))),
		MaxBody:       p.Proxy.MaxBody,
		ForwardedHost: p.Proxy.ForwardedHost,
		ForwardedSSL:  p.Proxy.ForwardedSSL,
		RealIP:        p.Proxy.RealIP,
		Describe:      describeGateway(p),
	}
	if p.Framework == project.Django && p.Interpreter.Path != "" {
		// Where STATIC_ROOT and MEDIA_ROOT are, from the settings
		// themselves. Without them the configuration still holds every
		// header rule; say what is missing.
		rep, err := templates.ReadStatic(ctx, p.Interpreter.Path, cmp.Or(p.AppDir, p.Dir), append(os.Environ(), p.Env...))
		if err != nil {
			if opts.Notify != nil {
				opts.Notify(Notice{Warning: true, Text: fmt.Sprintf("no static or media locations: %v", err)})
			}
		} else {
			cfg.Static = rep
		}
	}
	return templates.Export(kind, cfg)
}

// describeGateway names what the exported proxy sits in front of.
func describeGateway(p *project.Project) string {
	if p.Server == project.ServerCommand {
		return fmt.Sprintf("the app's own server (port %d)", p.AppPort)
	}
	return fmt.Sprintf("the %s app %s served by %s", p.Framework, describeTarget(p), p.Server)
}

// productionDomain is the first configured host that is a public name.
func productionDomain(hosts []string) string {
	for _, h := range hosts {
		if h != "localhost" && net.ParseIP(h) == nil && !isLocalName(h) {
			return h
		}
	}
	return "example.com"
}

func isLocalName(h string) bool {
	return slices.ContainsFunc([]string{".localhost", ".local", ".test", ".internal"},
		func(suffix string) bool { return strings.HasSuffix(h, suffix) })
}
