package main

import "github.com/urfave/cli/v2"

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "explain every proxy-trust misconfiguration, with its fix",
		Action: func(c *cli.Context) error {
			return exitError{code: 2, err: notYetAvailable("devstack doctor")}
		},
	}
}

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
