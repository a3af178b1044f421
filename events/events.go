// Package events is the vocabulary every part of a running stack shares:
// the Event a stack emits (a log line, a proxy access record, a process
// changing state, a reload, a trust check's result), the status snapshot a
// screen draws, and the check result the doctor returns. It imports
// nothing from devstack, so the engine, the doctor, the terminal UI and the
// plain writer can all depend on it and on nothing of each other.
package events

import (
	"fmt"
	"time"
)

// Kind says which part of an Event is meaningful.
type Kind int

const (
	// KindLog is one line a process printed: Source, Stream, Text
	// (and Continued when a very long line was cut).
	KindLog Kind = iota + 1
	// KindAccess is one request through the proxy: Access.
	KindAccess
	// KindState is a process changing state: Change.
	KindState
	// KindReloadStart and KindReloadFinish bracket a reload: Reload.
	KindReloadStart
	KindReloadFinish
	// KindCheck is the result of one trust check: Check.
	KindCheck
	// KindMessage is something devstack itself says (Source "devstack"),
	// such as "ready https://localhost:8080": Text.
	KindMessage
	// KindSkipped tells a subscriber that it fell behind and Skipped
	// events meant for it were dropped (the processes never wait for a
	// slow reader).
	KindSkipped
)

var kindNames = [...]string{
	KindLog:          "log",
	KindAccess:       "access",
	KindState:        "state",
	KindReloadStart:  "reload-start",
	KindReloadFinish: "reload-finish",
	KindCheck:        "check",
	KindMessage:      "message",
	KindSkipped:      "skipped",
}

func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
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

// Sources of the events that do not come from one of the app's processes.
const (
	// SourceDevstack is the Source of devstack's own events (messages,
	// reloads, checks, skipped-line notices).
	SourceDevstack = "devstack"
	// SourceProxy is the Source of the proxy's access records and errors.
	SourceProxy = "proxy"
)

// Event is one thing that happened in a running stack. It is a plain value:
// consumers (the plain writer, the TUI, tests) may keep it, and never change
// what its pointers point to. Kind says which of the fields below Text are
// set; the records of the rarer kinds are pointers, so that the events of
// a flood of log lines stay small.
type Event struct {
	Time   time.Time
	Kind   Kind
	Source string // process name, SourceProxy or SourceDevstack
	Stream Stream // KindLog only
	// Text is the line without its newline (KindLog) or a one-line
	// human description (every other kind).
	Text string
	// Continued reports that the line was longer than the bus's line limit
	// and was cut: the next KindLog from the same Source and Stream carries on.
	Continued bool

	Change  *StateChange  // KindState
	Access  *AccessRecord // KindAccess
	Reload  *ReloadRecord // KindReloadStart, KindReloadFinish
	Check   *CheckResult  // KindCheck
	Skipped int           // KindSkipped: how many events were dropped
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
	// Probe marks devstack's own request for its probe path (the trust
	// checks); Path then shows the path with its secret left out.
	Probe bool
	// Held is how long the request waited for the gateway to accept
	// connections (it was restarting); zero when it was up.
	Held time.Duration
	// Redirected is a plain-HTTP request answered with a redirect to https.
	Redirected bool
	// UpstreamError is why the gateway did not answer; ClientError why the
	// proxy refused the request itself (a body over the limit, a stalled
	// upload). Empty when there was none.
	UpstreamError string
	ClientError   string
}

// ReloadRecord describes a reload of the gateway.
type ReloadRecord struct {
	Trigger  string        // what caused it, e.g. "app/views.py changed"
	Strategy string        // how: "standby", "hup" or "restart"
	Duration time.Duration // KindReloadFinish only
	Err      string        // KindReloadFinish only; empty on success
}
