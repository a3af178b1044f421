package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/devstack-dev/devstack/events"
)

// ErrQuit is what Run returns when the user quit and Options.OnQuit is
// nil: the caller is to stop the stack.
var ErrQuit = errors.New("quit from the terminal UI")

// Options configures Run; the zero value is a working UI on stdin/stdout.
type Options struct {
	// Input is where keys are read (default os.Stdin; when that is not a
	// terminal, the controlling terminal is opened instead).
	Input io.Reader
	// Output is the terminal the UI is drawn on (default os.Stdout).
	Output io.Writer
	// NoColor turns colours off (default on where ColorEnabled(Output)
	// allows: never with NO_COLOR set or TERM=dumb).
	NoColor bool
	// OnQuit is called each time the user presses q or Ctrl-C: the first
	// time to stop the stack gracefully, any later time to stop it at once,
	// as a first and a second SIGINT do. It runs on a goroutine of its own,
	// so it may block. The UI keeps showing the stack while it stops, until
	// the events channel is closed or ctx is done. Nil means Run returns
	// ErrQuit at the first press instead.
	OnQuit func()
	// Reload, when set, is what r does: reload the app now. It runs on a
	// goroutine of its own and may block until the reload is over; r is
	// ignored until it returns. Nil means there is no r key.
	Reload func()
	// History is how many lines are kept to scroll back through (default
	// DefaultHistory); the oldest are dropped first.
	History int
}

// frameInterval is the least time between two redraws caused by output
// alone: 30 frames a second at most, however fast the processes print.
const frameInterval = time.Second / 30

// Interactive reports whether the terminal UI can be drawn on w: w is a
// terminal and TERM is not "dumb". Otherwise use Plain.
func Interactive(w io.Writer) bool {
	return os.Getenv("TERM") != "dumb" && isTerminal(w)
}

// Run shows the stack on the terminal, full screen, until ch is closed
// (the stack is gone), ctx is done, or — only when opts.OnQuit is nil —
// the user quits, in which case it returns ErrQuit. It takes events as
// fast as they come, so events may be a lossless subscription: when the
// screen falls behind, only lines it could not show anyway (more than its
// history) are dropped, and it says how many; status is called for a
// snapshot once a second and after state changes (nil: the process list
// comes from ch alone). The terminal is restored before Run returns.
func Run(ctx context.Context, ch <-chan []events.Event, status func() events.StackStatus, opts Options) error {
	out := opts.Output
	if out == nil {
		out = os.Stdout
	}
	// Stops the bus reader when the program ends for any reason.
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	history := opts.History
	if history <= 0 {
		history = DefaultHistory
	}
	m := newModel(config{
		ctx:     readCtx,
		events:  bufferEvents(readCtx, ch, history),
		status:  status,
		onQuit:  opts.OnQuit,
		reload:  opts.Reload,
		history: opts.History,
		color:   !opts.NoColor && ColorEnabled(out),
		out:     out,
		frame:   frameInterval,
	})
	programOpts := []tea.ProgramOption{
		tea.WithContext(ctx),
		tea.WithOutput(out),
		tea.WithAltScreen(),
		// Ctrl-C arrives as a key in raw mode; SIGINT and SIGTERM from
		// elsewhere stay with the caller, which stops the stack and then
		// closes the bus — the UI must not vanish before that.
		tea.WithoutSignalHandler(),
	}
	if opts.Input != nil {
		programOpts = append(programOpts, tea.WithInput(opts.Input))
	}
	_, err := tea.NewProgram(m, programOpts...).Run()
	switch {
	case m.err != nil:
		return m.err
	case err != nil && ctx.Err() != nil:
		return nil // asked to end
	case err != nil:
		return fmt.Errorf("running the terminal UI: %w", err)
	}
	return nil
}
