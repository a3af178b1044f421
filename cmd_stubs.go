package main

import "github.com/urfave/cli/v2"

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "print the production reverse-proxy config (caddy|nginx) equivalent to the local one",
		ArgsUsage: "caddy|nginx",
		Action: func(c *cli.Context) error {
			return notYetAvailable("devstack export")
		},
	}
}
