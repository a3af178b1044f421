package main

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/devstack-dev/devstack/project"
	"github.com/devstack-dev/devstack/session"
	"github.com/devstack-dev/devstack/templates"
)

func exportCommand() *cli.Command {
	var subs []*cli.Command
	for _, kind := range templates.ExportKinds {
		subs = append(subs, &cli.Command{
			Name:      kind,
			Usage:     "print the " + map[string]string{"caddy": "Caddyfile", "nginx": "nginx server configuration"}[kind],
			UsageText: "devstack export " + kind + " [--dir DIR] [--domain NAME] [--upstream HOST:PORT]",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "dir", Value: ".", Usage: "the project directory"},
				&cli.StringFlag{Name: "domain", Usage: "the site's name (default: the first of hosts in devstack.toml that is not local, else example.com)"},
				&cli.StringFlag{Name: "upstream", Usage: "the gateway's address as the proxy reaches it (default: the app port on 127.0.0.1)"},
			},
			Action: func(c *cli.Context) error {
				if c.NArg() > 0 {
					return usageError{fmt.Errorf("devstack export %s takes no arguments, got %q", kind, c.Args().Slice())}
				}
				return runExport(c, kind)
			},
		})
	}
	return &cli.Command{
		Name:      "export",
		Usage:     "print the production reverse-proxy config (caddy|nginx) equivalent to the local one",
		UsageText: "devstack export caddy|nginx [--dir DIR] [--domain NAME] [--upstream HOST:PORT]",
		Description: "Prints a Caddyfile or an nginx server configuration that puts the project's\n" +
			"gateway behind TLS the way devstack's proxy does locally: the same forwarding\n" +
			"headers, set by the proxy and never taken from clients, the same body limit\n" +
			"and upload buffering.",
		Subcommands: subs,
		Action: func(c *cli.Context) error {
			return usageError{errors.New(`devstack export needs the proxy to write for: "caddy" or "nginx"`)}
		},
	}
}

func runExport(c *cli.Context, kind string) error {
	p, err := session.Detect(c.String("dir"), project.Overrides{})
	if err != nil {
		return err
	}
	cfg := templates.ExportConfig{
		Domain:        c.String("domain"),
		Upstream:      c.String("upstream"),
		MaxBody:       p.Proxy.MaxBody,
		ForwardedHost: p.Proxy.ForwardedHost,
		ForwardedSSL:  p.Proxy.ForwardedSSL,
		RealIP:        p.Proxy.RealIP,
		Describe:      describeGateway(p),
	}
	if cfg.Domain == "" {
		cfg.Domain = productionDomain(p.Hosts)
	}
	if cfg.Upstream == "" {
		cfg.Upstream = net.JoinHostPort("127.0.0.1", strconv.Itoa(p.AppPort))
	}
	if p.Framework == project.Django && p.Interpreter.Path != "" {
		// Where STATIC_ROOT and MEDIA_ROOT are, from the settings
		// themselves. Without them the configuration still holds every
		// header rule; say what is missing.
		rep, err := templates.ReadStatic(c.Context, p.Interpreter.Path, cmp.Or(p.AppDir, p.Dir), append(os.Environ(), p.Env...))
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "devstack: warning: no static or media locations: %v\n", err)
		} else {
			cfg.Static = rep
		}
	}
	out, err := templates.Export(kind, cfg)
	if err != nil {
		return err
	}
	_, err = c.App.Writer.Write(out)
	return err
}

// describeGateway names what the exported proxy sits in front of.
func describeGateway(p *project.Project) string {
	if p.Server == project.ServerCommand {
		return fmt.Sprintf("the app's own server (port %d)", p.AppPort)
	}
	return fmt.Sprintf("the %s app %s served by %s", p.Framework, session.DescribeTarget(p), p.Server)
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
