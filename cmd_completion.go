package main

import (
	_ "embed"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// The bash and zsh scripts ask devstack for the candidates at each <Tab>
// (urfave/cli's --generate-bash-completion), so they follow the command
// definitions without being regenerated; fish's script is generated from the
// definitions by urfave/cli.
var (
	//go:embed shell/devstack.bash
	bashCompletion string
	//go:embed shell/devstack.zsh
	zshCompletion string
)

func completionCommand() *cli.Command {
	script := func(name, load string, text func(*cli.Context) (string, error)) *cli.Command {
		return &cli.Command{
			Name:  name,
			Usage: "print the " + name + " completion script (" + load + ")",
			Action: noArgs(func(c *cli.Context) error {
				s, err := text(c)
				if err != nil {
					return fmt.Errorf("generating the %s completion: %w", name, err)
				}
				_, err = io.WriteString(c.App.Writer, s)
				return err
			}),
		}
	}
	fixed := func(s string) func(*cli.Context) (string, error) {
		return func(*cli.Context) (string, error) { return s, nil }
	}
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		UsageText: "devstack completion bash|zsh|fish",
		Description: "Homebrew installs the completions for you. Otherwise load them from your shell's\n" +
			"start-up file: source <(devstack completion bash) in ~/.bashrc,\n" +
			"source <(devstack completion zsh) in ~/.zshrc (after compinit), or\n" +
			"devstack completion fish > ~/.config/fish/completions/devstack.fish.",
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageError{fmt.Errorf("unknown shell %q (want bash, zsh or fish)", c.Args().First())}
			}
			return cli.ShowSubcommandHelp(c)
		},
		Subcommands: []*cli.Command{
			script("bash", "source <(devstack completion bash)", fixed(bashCompletion)),
			script("zsh", "source <(devstack completion zsh)", fixed(zshCompletion)),
			script("fish", "devstack completion fish | source", func(c *cli.Context) (string, error) {
				return c.App.ToFishCompletion()
			}),
		},
	}
}

// manCommand prints the man page, generated from the command definitions;
// the release build ships its output as devstack.1.
func manCommand() *cli.Command {
	return &cli.Command{
		Name:   "man",
		Usage:  "print the man page (roff), for devstack.1",
		Hidden: true,
		Action: noArgs(func(c *cli.Context) error {
			page, err := c.App.ToManWithSection(1)
			if err != nil {
				return fmt.Errorf("generating the man page: %w", err)
			}
			_, err = io.WriteString(c.App.Writer, strings.TrimLeft(page, "\n"))
			return err
		}),
	}
}
