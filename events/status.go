package events

import (
	"fmt"
	"time"
)

// State is where a supervised process is in its life.
type State int

const (
	StateStarting State = iota + 1 // being executed
	StateRunning                   // the child is alive
	StateExited                    // ended by itself with exit code 0
	StateCrashed                   // ended by itself otherwise, or could not start
	StateBackoff                   // waiting before the next start after a crash
	StateStopping                  // asked to stop; SIGTERM sent, SIGKILL may follow
	StateStopped                   // stopped on request (by Stop, or by Restart before the next start)
)

var stateNames = [...]string{
	StateStarting: "starting",
	StateRunning:  "running",
	StateExited:   "exited",
	StateCrashed:  "crashed",
	StateBackoff:  "backoff",
	StateStopping: "stopping",
	StateStopped:  "stopped",
}

func (s State) String() string {
	if s > 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Ended reports whether the process ended by itself (and is not being
// restarted yet).
func (s State) Ended() bool { return s == StateExited || s == StateCrashed }

// ProcessStatus is a snapshot of one supervised process.
type ProcessStatus struct {
	Name     string
	State    State
	PID      int // 0 when no child is running
	Restarts int // starts after the first one, for any reason
	// LastExit is how the previous run ended ("exit code 1", "killed by
	// SIGKILL"); empty before the first exit.
	LastExit  string
	StartedAt time.Time // when the current (or last) child started
}

// StackStatus is a snapshot of a running stack.
type StackStatus struct {
	ProxyURL   string
	Gateway    ProcessStatus   // the app's gateway server (gunicorn, uvicorn or the command)
	Extras     []ProcessStatus // the project's other processes, in start order
	Ready      bool            // the first request through the proxy succeeded
	LastReload ReloadRecord
}

// Processes returns the gateway, then the extra processes.
func (s StackStatus) Processes() []ProcessStatus {
	return append([]ProcessStatus{s.Gateway}, s.Extras...)
}
