package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

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
	out, err := session.Export(c.Context, c.String("dir"), kind, session.ExportOptions{
		Domain:   c.String("domain"),
		Upstream: c.String("upstream"),
		Notify:   noticesTo(c.App.ErrWriter),
	})
	if err != nil {
		return err
	}
	_, err = c.App.Writer.Write(out)
	return err
}
