package main

import (
	"fmt"
	"os/signal"

	"github.com/urfave/cli/v2"

	"github.com/devstack-dev/devstack/session"
	"github.com/devstack-dev/devstack/tui"
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
			out := tui.NewLines(c.App.Writer)
			defer out.Flush()
			return session.Proxy(ctx, session.ProxyOptions{
				To:      c.String("to"),
				Port:    c.Int("port"),
				Hosts:   c.StringSlice("host"),
				Notify:  noticesTo(c.App.ErrWriter),
				OnEvent: out.Write,
			})
		},
	}
}
