package main

import "github.com/urfave/cli/v2"

func caCommand() *cli.Command {
	return &cli.Command{
		Name:  "ca",
		Usage: "the local certificate authority: path, status, install, uninstall",
		Action: func(c *cli.Context) error {
			return notYetAvailable("devstack ca")
		},
	}
}
