// Command devstack gives a web project a production-shaped local stack:
// a TLS-terminating reverse proxy in front of the app's real gateway server,
// with the proxy-trust settings checked end to end.
//
// This file only wires the command line: flags become configuration, a
// package does the work, and errors are printed here, once.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

// Set by the release build with -ldflags "-X main.version=… -X main.commit=… -X main.date=…".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run executes the CLI and returns the process exit code. It is separate from
// main so testscript can run the real command in-process.
func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.Run(args)
	if err == nil {
		return 0
	}
	return reportError(stderr, err)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	cli.VersionPrinter = func(c *cli.Context) { printVersion(c.App.Writer) }
	return &cli.App{
		Name:                 "devstack",
		Usage:                "a production-shaped local stack: HTTPS proxy → gateway server → your app",
		Version:              version,
		Writer:               stdout,
		ErrWriter:            stderr,
		HideHelpCommand:      true,
		EnableBashCompletion: true,
		// Errors are printed once, by reportError; urfave/cli must not exit
		// or print them itself.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
		Commands: commands(),
	}
}

// commands lists every command of the contract in DESIGN.md. Each lives in
// its own cmd_*.go file.
func commands() []*cli.Command {
	return []*cli.Command{
		upCommand(),
		doctorCommand(),
		proxyCommand(),
		caCommand(),
		exportCommand(),
		versionCommand(),
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print version, commit and build date",
		Action: func(c *cli.Context) error {
			printVersion(c.App.Writer)
			return nil
		},
	}
}

func printVersion(w io.Writer) {
	fmt.Fprintf(w, "devstack %s (commit %s, built %s)\n", version, commit, date)
}

// exitError carries a specific exit code (doctor uses 2 for "could not run").
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e exitError) Unwrap() error { return e.err }

// usageError marks bad flags or arguments; the hint points at --help.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// hintError is an error with the one thing the user should do about it.
type hintError struct {
	err  error
	hint string
}

func (e hintError) Error() string { return e.err.Error() }
func (e hintError) Unwrap() error { return e.err }
func (e hintError) Hint() string  { return e.hint }

// hinter is implemented by errors that know the one thing the user should do.
type hinter interface{ Hint() string }

// reportError prints err as `devstack: error: …` followed by any
// `devstack: hint: …` lines, and returns the exit code.
func reportError(w io.Writer, err error) int {
	code := 1
	var ee exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	}
	fmt.Fprintf(w, "devstack: error: %s\n", err)
	var h hinter
	if errors.As(err, &h) {
		for _, line := range strings.Split(strings.TrimSpace(h.Hint()), "\n") {
			fmt.Fprintf(w, "devstack: hint: %s\n", line)
		}
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(w, "devstack: hint: run \"devstack help\" for the commands and their flags")
	}
	return code
}
