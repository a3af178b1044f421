// Command devstack gives a web project a production-shaped local stack:
// a TLS-terminating reverse proxy in front of the app's real gateway server,
// with the proxy-trust settings checked end to end.
//
// This file only wires the command line: flags become configuration, a
// package does the work, and errors are printed here, once.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/devstack-dev/devstack/orchestrator"
)

func main() {
	orchestrator.GuardMain() // when started as the guard of another devstack's children, only that
	oneProcessor()
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// oneProcessor runs devstack's Go code on one processor unless GOMAXPROCS
// says otherwise. Everything devstack does per request or per log line is
// a hand-off between goroutines (a connection's reader and writer, the
// upstream's answer arriving through the network poller, an HTTP/2
// stream's goroutine and its connection's, a pipe reader and the log
// writer). On one processor a hand-off is a run-queue push; on several it
// wakes another thread, and idle threads spin looking for work. Measured
// with wrk and h2load against the proxy on 2 cores, in the same run: a
// fifth to a quarter less CPU per request, 14-24% more requests per
// second, p99 latency down by a quarter to a half. Static files, mostly
// encryption and file-system calls, lose a fifth of their rate instead
// (docs/performance.md, "One processor"). One core serves tens of
// thousands of requests a second, far more than the app behind it, and
// the app keeps the other cores.
// The gateway processes devstack starts do not inherit this.
func oneProcessor() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

// stopSignals stop up and proxy cleanly: Ctrl-C, a kill, and the hang-up
// sent when the terminal window running devstack is closed.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

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
		Name:  "devstack",
		Usage: "a production-shaped local stack: HTTPS proxy → gateway server → your app",
		Description: "devstack up runs a web project behind a local HTTPS proxy and its production\n" +
			"gateway server (gunicorn or uvicorn), with a local certificate authority your\n" +
			"browser trusts, and checks that the app trusts exactly the forwarding headers the\n" +
			"proxy sets; devstack doctor explains every mismatch. The CA lives in $CAROOT, else\n" +
			"in mkcert's directory; NO_COLOR turns colours off.",
		Version:              currentVersion().Version,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		// Errors are printed once, by reportError; urfave/cli must not exit
		// or print them itself.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
		Commands: withoutHelpSubcommands(commands()),
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageError{fmt.Errorf("unknown command %q", c.Args().First())}
			}
			return cli.ShowAppHelp(c)
		},
	}
}

// withoutHelpSubcommands keeps urfave/cli from adding a "help" subcommand
// to every command ("devstack up help" would be a command's argument, and
// shell completion would offer it everywhere); "devstack help [COMMAND]" and
// --help remain.
func withoutHelpSubcommands(cmds []*cli.Command) []*cli.Command {
	for _, c := range cmds {
		c.HideHelpCommand = true
		withoutHelpSubcommands(c.Subcommands)
	}
	return cmds
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
		completionCommand(),
		manCommand(),
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, commit and build date",
		Action: func(c *cli.Context) error {
			printVersion(c.App.Writer)
			return nil
		},
	}
}
