package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/devstack-dev/devstack/events"
)

// The messages the UI's Update handles besides keys and window sizes.
type (
	eventBatchMsg [][]events.Event   // the batches read in one go, in order; never changed
	busClosedMsg  struct{}           // the stack is gone: no more events
	statusMsg     events.StackStatus // a fresh snapshot of the stack
	tickMsg       time.Time          // once a second: refresh the status
	reloadDoneMsg struct{}           // the reload the user asked for returned
	frameMsg      struct{}           // time to draw the output that came since the last frame
)

// maxBatch bounds the events handled per update, so a flood of output
// still leaves room for key presses and redraws in between.
const maxBatch = 1024

// readEvents is the command that reads the bus: it waits for one batch,
// takes whatever else is already queued while it has fewer than maxBatch
// events, and returns them as one message; Update issues it again. It
// reads the batches as bufferEvents hands them over (never more than
// maxBatch events each), so the bus is never held up by the UI. It returns
// nil once ctx is done.
func readEvents(ctx context.Context, ch <-chan []events.Event) tea.Cmd {
	return func() tea.Msg {
		var msg eventBatchMsg
		select {
		case b, ok := <-ch:
			if !ok {
				return busClosedMsg{}
			}
			msg = append(msg, b)
		case <-ctx.Done():
			return nil
		}
		for n := len(msg[0]); n < maxBatch; {
			select {
			case b, ok := <-ch:
				if !ok {
					// The rest is shown first; the next read reports the end.
					return msg
				}
				msg = append(msg, b)
				n += len(b)
			default:
				return msg
			}
		}
		return msg
	}
}

// readStatus is the command that takes a status snapshot off the UI's
// goroutine.
func readStatus(status func() events.StackStatus) tea.Cmd {
	return func() tea.Msg { return statusMsg(status()) }
}

// statusInterval is how often the side list is refreshed besides after
// state changes: pids, restarts and readiness without an event of their own.
const statusInterval = time.Second

func tick() tea.Cmd {
	return tea.Tick(statusInterval, func(t time.Time) tea.Msg { return tickMsg(t) })
}
