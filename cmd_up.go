package main

import (
	"context"
	"errors"
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
		Flags: append(projectFlags(),
			&cli.IntFlag{Name: "port", Usage: "HTTPS port of the proxy (0 picks a free one)", DefaultText: "8080"},
			&cli.IntFlag{Name: "app-port", Usage: "port of the gateway server", DefaultText: "8000"},
			&cli.BoolFlag{Name: "no-tui", Usage: "plain prefixed log lines instead of the terminal UI"},
			&cli.BoolFlag{Name: "no-watch", Usage: "do not reload on file changes"},
		),
		Action: func(c *cli.Context) error {
			flags := projectOverrides(c)
			flags.Port, flags.AppPort = c.Int("port"), c.Int("app-port")
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
		Notify: noticesTo(opt.stderr)})
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
			err := tui.Run(ctx, s.Batches(), s.Status, tui.Options{
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
			say(opt.stderr, sayWarning, err.Error()+"; showing plain lines instead")
		}
		writer.Run(s.Batches())
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
		say(opt.stderr, sayNote, "stopped")
	}
	return nil
}
