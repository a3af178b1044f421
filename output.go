package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/devstack-dev/devstack/internal/hint"
	"github.com/devstack-dev/devstack/session"
)

// The lines devstack says about itself, as opposed to the logs it shows,
// open with "devstack:" and one of these words.
const (
	sayNote    = ""
	sayWarning = "warning"
	sayError   = "error"
	sayHint    = "hint"
)

// say writes one of devstack's own lines to w: "devstack: warning: text".
func say(w io.Writer, kind, text string) {
	if kind == sayNote {
		fmt.Fprintf(w, "devstack: %s\n", text)
		return
	}
	fmt.Fprintf(w, "devstack: %s: %s\n", kind, text)
}

// sayHints writes each line of a hint as a hint line of its own.
func sayHints(w io.Writer, hints string) {
	if hints = strings.TrimSpace(hints); hints == "" {
		return
	}
	for line := range strings.SplitSeq(hints, "\n") {
		say(w, sayHint, line)
	}
}

// printNotice writes what a session wants the user to know.
func printNotice(w io.Writer, n session.Notice) {
	kind := sayNote
	if n.Warning {
		kind = sayWarning
	}
	say(w, kind, n.Text)
	sayHints(w, n.Hint)
}

// noticesTo returns a session's Notify printing to w.
func noticesTo(w io.Writer) func(session.Notice) {
	return func(n session.Notice) { printNotice(w, n) }
}

// exitError carries a specific exit code (doctor uses 2 for "could not run").
type exitError struct {
	code int
	err  error // nil: nothing to print
}

func (e exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e exitError) Unwrap() error { return e.err }

// usageError marks bad flags or arguments; the hint points at help.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// reportError is the one place errors reach the user: err as
// `devstack: error: …`, then its `devstack: hint: …` lines. It returns the
// exit code.
func reportError(w io.Writer, err error) int {
	code := 1
	var ee exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	}
	say(w, sayError, err.Error())
	sayHints(w, hint.Of(err))
	var ue usageError
	if errors.As(err, &ue) {
		say(w, sayHint, `run "devstack help" for the commands and their flags`)
	}
	return code
}
