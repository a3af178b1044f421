package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/devstack-dev/devstack/events"
)

// One message type per kind of bus event, so Update reads as a list of
// what can happen.
type (
	logLineMsg      struct{ events.Event } // a line a process printed
	accessMsg       struct{ events.Event } // a request through the proxy
	processStateMsg struct{ events.Event } // a process changed state
	reloadStartMsg  struct{ events.Event } // the gateway began reloading
	reloadFinishMsg struct{ events.Event } // … and is done, or failed
	checkMsg        struct{ events.Event } // a trust check's result
	devstackMsg     struct{ events.Event } // something devstack says
	skippedLinesMsg struct{ events.Event } // the UI fell behind and lines were dropped
	unknownEventMsg struct{ events.Event } // a kind this UI does not know yet: shown as text
	eventBatchMsg   []tea.Msg              // the events read in one go, in order
	busClosedMsg    struct{}               // the stack is gone: no more events
	statusMsg       events.StackStatus     // a fresh snapshot of the stack
	tickMsg         time.Time              // once a second: refresh the status
	reloadDoneMsg   struct{}               // the reload the user asked for returned
	frameMsg        struct{}               // time to draw the output that came since the last frame
)

// eventMsg wraps e in the message type of its kind.
func eventMsg(e events.Event) tea.Msg {
	switch e.Kind {
	case events.KindLog:
		return logLineMsg{e}
	case events.KindAccess:
		return accessMsg{e}
	case events.KindState:
		return processStateMsg{e}
	case events.KindReloadStart:
		return reloadStartMsg{e}
	case events.KindReloadFinish:
		return reloadFinishMsg{e}
	case events.KindCheck:
		return checkMsg{e}
	case events.KindMessage:
		return devstackMsg{e}
	case events.KindSkipped:
		return skippedLinesMsg{e}
	}
	return unknownEventMsg{e}
}

// maxBatch bounds the events handled per update, so a flood of output
// still leaves room for key presses and redraws in between.
const maxBatch = 1024

// readEvents is the command that reads the bus: it waits for one event,
// takes whatever else is already queued (up to maxBatch), and returns them
// as one message; Update issues it again. It reads the events as
// bufferEvents hands them over, so the bus is never held up by the UI. It
// returns nil once ctx is done.
func readEvents(ctx context.Context, ch <-chan events.Event) tea.Cmd {
	return func() tea.Msg {
		var batch eventBatchMsg
		select {
		case e, ok := <-ch:
			if !ok {
				return busClosedMsg{}
			}
			batch = append(batch, eventMsg(e))
		case <-ctx.Done():
			return nil
		}
		for len(batch) < maxBatch {
			select {
			case e, ok := <-ch:
				if !ok {
					// The rest is shown first; the next read reports the end.
					return batch
				}
				batch = append(batch, eventMsg(e))
			default:
				return batch
			}
		}
		return batch
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
