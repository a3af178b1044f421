package main

import (
	"github.com/urfave/cli/v2"

	"github.com/devstack-dev/devstack/project"
)

// projectFlags are the flags of every command that runs the project in a
// directory (up, doctor), read back by projectOverrides.
func projectFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "dir", Value: ".", Usage: "the project directory"},
		&cli.StringFlag{Name: "python", Usage: "the Python interpreter that runs the app"},
		&cli.StringFlag{Name: "app", Usage: `the app to serve, "pkg.module:callable"`},
	}
}

// projectOverrides are projectFlags' values, and the command after "--"
// that replaces the detected gateway.
func projectOverrides(c *cli.Context) project.Overrides {
	return project.Overrides{Python: c.String("python"), App: c.String("app"), Command: c.Args().Slice()}
}
