package main

import "github.com/urfave/cli/v2"

func upCommand() *cli.Command {
	return &cli.Command{
		Name:  "up",
		Usage: "start the HTTPS proxy and the app's gateway server, watch and reload",
		Action: func(c *cli.Context) error {
			return notYetAvailable("devstack up")
		},
	}
}
