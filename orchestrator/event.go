// Package orchestrator is the engine behind `devstack up`: it supervises the
// app's processes, carries every line they print on a log bus, and reports
// what happens as a stream of Event values.
package orchestrator

import (
	"fmt"
	"time"
)

// EventKind says which part of an Event is meaningful.
type EventKind int

const (
	// EventLog is one line a process printed: Source, Stream, Text
	// (and Continued when a very long line was cut).
	EventLog EventKind = iota + 1
	// EventAccess is one request through the proxy: Access.
	EventAccess
	// EventState is a process changing state: Change.
	EventState
	// EventReloadStart and EventReloadFinish bracket a reload: Reload.
	EventReloadStart
	EventReloadFinish
	// EventCheck is the result of one trust check: Check.
	EventCheck
	// EventMessage is something devstack itself says (Source "devstack"),
	// such as "ready https://localhost:8080": Text.
	EventMessage
	// EventSkipped tells a subscriber that it fell behind and Skipped
	// events meant for it were dropped (the processes never wait for a
	// slow reader).
	EventSkipped
)

var eventKindNames = [...]string{
	EventLog:          "log",
	EventAccess:       "access",
	EventState:        "state",
	EventReloadStart:  "reload-start",
	EventReloadFinish: "reload-finish",
	EventCheck:        "check",
	EventMessage:      "message",
	EventSkipped:      "skipped",
}

func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Stream is the pipe a log line came from.
type Stream int

const (
	StreamNone Stream = iota // not a process's output
	StreamStdout
	StreamStderr
)

func (s Stream) String() string {
	switch s {
	case StreamStdout:
		return "stdout"
	case StreamStderr:
		return "stderr"
	}
	return ""
}

// SourceDevstack is the Source of devstack's own events (messages, reloads,
// checks, skipped-line notices).
const SourceDevstack = "devstack"

// Event is one thing that happened in a running stack. It is a plain value:
// consumers (the plain writer, the TUI, tests) may keep and compare it.
// Kind says which of the fields below Text are set.
type Event struct {
	Time   time.Time
	Kind   EventKind
	Source string // process name, "proxy" or "devstack"
	Stream Stream // EventLog only
	// Text is the line without its newline (EventLog) or a one-line
	// human description (every other kind).
	Text string
	// Continued reports that the line was longer than MaxLineBytes and was
	// cut: the next EventLog from the same Source and Stream carries on.
	Continued bool

	Change  StateChange  // EventState
	Access  AccessRecord // EventAccess
	Reload  ReloadRecord // EventReloadStart, EventReloadFinish
	Check   CheckRecord  // EventCheck
	Skipped int          // EventSkipped: how many events were dropped
}

// StateChange describes a process entering State.
type StateChange struct {
	State State
	PID   int // the running child's pid; 0 when there is none
	// Exit is how the last run ended ("exit code 1", "killed by SIGKILL");
	// set when State is StateExited or StateCrashed.
	Exit string
	// Backoff is how long the supervisor waits before the next start; set
	// when State is StateBackoff.
	Backoff  time.Duration
	Restarts int
}

// AccessRecord is one request the proxy answered.
type AccessRecord struct {
	Method   string
	Path     string // path and query as the client sent them
	Status   int
	Duration time.Duration
	Bytes    int64 // response body bytes written to the client
	Remote   string
}

// ReloadRecord describes a reload of the gateway.
type ReloadRecord struct {
	Trigger  string        // what caused it, e.g. "app/views.py changed"
	Strategy string        // StrategyStandby, StrategyHUP or StrategyRestart
	Duration time.Duration // EventReloadFinish only
	Err      string        // EventReloadFinish only; empty on success
}

// CheckRecord is the outcome of one trust check.
type CheckRecord struct {
	ID     string
	Status string // "pass", "warn" or "fail"
	Detail string
	Fix    string
}
