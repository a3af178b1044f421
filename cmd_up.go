package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/devstack-dev/devstack/orchestrator"
	"github.com/devstack-dev/devstack/project"
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
			&cli.IntFlag{Name: "port", Usage: "HTTPS port of the proxy", DefaultText: "8080"},
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
	noWatch bool
	noTUI   bool
	stdout  io.Writer
	stderr  io.Writer
}

func runUp(ctx context.Context, opt upOptions) error {
	env, err := project.EnvOverrides(os.LookupEnv)
	if err != nil {
		return err
	}
	p, err := project.Detect(opt.dir, opt.flags.Or(env))
	if err != nil {
		return err
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(opt.stderr, "devstack: warning: %s\n", w)
	}
	// The subscription is made before anything starts, so it sees every line.
	bus := orchestrator.NewBus(orchestrator.BusOptions{})
	writer := tui.NewPlain(opt.stdout, tui.PlainOptions{Color: tui.ColorEnabled(opt.stdout)})
	sub := bus.Subscribe()

	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)

	stack, pool, cleanup, err := startStack(ctx, p, opt.stderr, orchestrator.Options{Bus: bus, NoWatch: opt.noWatch})
	if err != nil {
		bus.Close()
		writer.Run(sub.Events()) // what the processes said before it failed
		return err
	}
	defer cleanup()
	written := make(chan struct{})
	var fullScreen atomic.Bool
	go func() {
		defer close(written)
		if !opt.noTUI && tui.Interactive(opt.stdout) {
			fullScreen.Store(true)
			err := tui.Run(ctx, sub.Events(), stack.Status, tui.Options{
				// q in the UI is a Ctrl-C: the first stops, the second hurries.
				OnQuit: func() {
					select {
					case signals <- os.Interrupt:
					default:
					}
				},
				Reload: func() { stack.ReloadGateway(ctx, "r pressed", false, time.Time{}) },
			})
			if err == nil {
				return
			}
			fmt.Fprintf(opt.stderr, "devstack: warning: %v; showing plain lines instead\n", err)
		}
		writer.Run(sub.Events())
	}()
	defer func() {
		bus.Close()
		<-written
		if fullScreen.Load() {
			// The UI gave the screen back as it was: say how it ended.
			fmt.Fprintln(opt.stderr, "devstack: stopped")
		}
	}()
	bus.Publish(orchestrator.Event{Kind: orchestrator.EventMessage, Source: orchestrator.SourceDevstack,
		Text: fmt.Sprintf("%s app %s in %s, served by %s (%s)", p.Framework, describeTarget(p), p.AppDir, p.Server, p.Interpreter.Path)})
	checkCtx, stopChecks := context.WithCancel(ctx)
	var recorded sync.WaitGroup
	defer stopChecks()
	if p.Server != project.ServerCommand {
		go watchTrust(checkCtx, stack, pool, orchestrator.HeaderPolicy(p.Proxy).Names())
		// Tell devstack doctor where this stack is, while it runs.
		recorded.Go(func() {
			select {
			case <-stack.Ready():
			case <-checkCtx.Done():
				return
			}
			remove := writeRunState(runState{PID: os.Getpid(), Dir: p.Dir, Origin: strings.TrimSuffix(stack.URL(), "/"),
				ProbePath: stack.ProbePath(), Headers: orchestrator.HeaderPolicy(p.Proxy).Names(), Gateway: orchestrator.GatewayAddr(p), Hosts: p.Hosts})
			<-checkCtx.Done()
			remove()
		})
	}

	select {
	case <-signals:
	case <-ctx.Done():
	}
	stopChecks()
	recorded.Wait()
	bus.Publish(orchestrator.Event{Kind: orchestrator.EventMessage, Source: orchestrator.SourceDevstack,
		Text: "stopping (press Ctrl-C again to stop at once)"})
	stopped := make(chan struct{})
	go func() {
		stack.Stop(false)
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-signals:
		stack.Stop(true)
		<-stopped
	}
	return nil
}

func describeTarget(p *project.Project) string {
	switch {
	case p.Target == "":
		return "(custom command)"
	case p.Layout != "" && p.Layout != "manage.py":
		return p.Target + " (from " + p.Layout + ")"
	}
	return p.Target
}
