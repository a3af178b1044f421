package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"

	"github.com/urfave/cli/v2"

	"github.com/devstack-dev/devstack/project"
	"github.com/devstack-dev/devstack/session"
	"github.com/devstack-dev/devstack/tui"
)

func upCommand() *cli.Command {
	return &cli.Command{
		Name:      "up",
		Usage:     "start the HTTPS proxy and the app's gateway server, watch and reload",
		UsageText: "devstack up [--dir DIR] [--port 8080] [--app-port 8000] [--python PATH] [--no-tui] [-- COMMAND ...]",
		Description: "Runs the project in DIR the way production runs it: devstack's HTTPS proxy on\n" +
			"--port in front of gunicorn (WSGI), uvicorn (ASGI) or COMMAND on --app-port.\n" +
			"{port} in COMMAND is replaced by the app port. Ctrl-C stops everything;\n" +
			"a second Ctrl-C stops without waiting.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: ".", Usage: "the project directory"},
			&cli.IntFlag{Name: "port", Usage: "HTTPS port of the proxy (0 picks a free one)", DefaultText: "8080"},
			&cli.IntFlag{Name: "app-port", Usage: "port of the gateway server", DefaultText: "8000"},
			&cli.StringFlag{Name: "python", Usage: "the Python interpreter that runs the app"},
			&cli.StringFlag{Name: "app", Usage: `the app to serve, "pkg.module:callable"`},
			&cli.BoolFlag{Name: "no-tui", Usage: "plain prefixed log lines instead of the terminal UI"},
			&cli.BoolFlag{Name: "no-watch", Usage: "do not reload on file changes"},
		},
		Action: func(c *cli.Context) error {
			flags := project.Overrides{
				Python:  c.String("python"),
				Port:    c.Int("port"),
				AppPort: c.Int("app-port"),
				App:     c.String("app"),
				Command: c.Args().Slice(),
			}
			return runUp(c.Context, upOptions{
				dir:     c.String("dir"),
				flags:   flags,
				noWatch: c.Bool("no-watch"),
				anyPort: c.IsSet("port") && c.Int("port") == 0,
				noTUI:   c.Bool("no-tui"),
				stdout:  c.App.Writer,
				stderr:  c.App.ErrWriter,
			})
		},
	}
}

type upOptions struct {
	dir     string
	flags   project.Overrides
	anyPort bool // --port 0
	noWatch bool
	noTUI   bool
	stdout  io.Writer
	stderr  io.Writer
}

func runUp(ctx context.Context, opt upOptions) error {
	writer := tui.NewPlain(opt.stdout, tui.PlainOptions{Color: tui.ColorEnabled(opt.stdout)})
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, stopSignals...)
	defer signal.Stop(signals)

	s, err := session.Start(ctx, opt.dir, session.Options{Flags: opt.flags, NoWatch: opt.noWatch, AnyPort: opt.anyPort,
		Notify: func(n session.Notice) { printNotice(opt.stderr, n) }})
	if err != nil {
		var se *session.StartError
		if errors.As(err, &se) {
			for _, e := range se.Output { // what the processes said before it failed
				writer.Write(e)
			}
		}
		return err
	}
	written := make(chan struct{})
	var fullScreen atomic.Bool
	go func() {
		defer close(written)
		if !opt.noTUI && tui.Interactive(opt.stdout) {
			fullScreen.Store(true)
			err := tui.Run(ctx, s.Events(), s.Status, tui.Options{
				// q in the UI is a Ctrl-C: the first stops, the second hurries.
				OnQuit: func() {
					select {
					case signals <- os.Interrupt:
					default:
					}
				},
				Reload: func() { s.Reload(ctx, "r pressed") },
			})
			if err == nil {
				return
			}
			fmt.Fprintf(opt.stderr, "devstack: warning: %v; showing plain lines instead\n", err)
		}
		writer.Run(s.Events())
	}()

	select {
	case <-signals:
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() {
		s.Stop(false)
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-signals:
		s.Stop(true)
		<-stopped
	}
	<-written
	if fullScreen.Load() {
		// The UI gave the screen back as it was: say how it ended.
		fmt.Fprintln(opt.stderr, "devstack: stopped")
	}
	return nil
}

// printNotice prints what a session wants the user to know.
func printNotice(w io.Writer, n session.Notice) {
	if n.Warning {
		fmt.Fprintf(w, "devstack: warning: %s\n", n.Text)
	} else {
		fmt.Fprintf(w, "devstack: %s\n", n.Text)
	}
	if n.Hint != "" {
		fmt.Fprintf(w, "devstack: hint: %s\n", n.Hint)
	}
}
