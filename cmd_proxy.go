package main

import "github.com/urfave/cli/v2"

func proxyCommand() *cli.Command {
	return &cli.Command{
		Name:  "proxy",
		Usage: "run only the HTTPS proxy in front of any local server",
		Action: func(c *cli.Context) error {
			return notYetAvailable("devstack proxy")
		},
	}
}
