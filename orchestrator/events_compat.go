package orchestrator

import "github.com/devstack-dev/devstack/events"

// The names this package had before the event vocabulary moved to package
// events. They are kept only so that code written against them still
// builds while it moves over; new code names package events directly.
type (
	Event        = events.Event
	EventKind    = events.Kind
	Stream       = events.Stream
	StateChange  = events.StateChange
	AccessRecord = events.AccessRecord
	ReloadRecord = events.ReloadRecord
	State        = events.State
	Status       = events.ProcessStatus
	StackStatus  = events.StackStatus
)

const (
	EventLog          = events.KindLog
	EventAccess       = events.KindAccess
	EventState        = events.KindState
	EventReloadStart  = events.KindReloadStart
	EventReloadFinish = events.KindReloadFinish
	EventCheck        = events.KindCheck
	EventMessage      = events.KindMessage
	EventSkipped      = events.KindSkipped

	StreamNone   = events.StreamNone
	StreamStdout = events.StreamStdout
	StreamStderr = events.StreamStderr

	SourceDevstack = events.SourceDevstack

	StateStarting = events.StateStarting
	StateRunning  = events.StateRunning
	StateExited   = events.StateExited
	StateCrashed  = events.StateCrashed
	StateBackoff  = events.StateBackoff
	StateStopping = events.StateStopping
	StateStopped  = events.StateStopped
)
