package watch

import (
	"errors"
	"fmt"
)

// LimitError is a system limit on file watching that was reached: too many
// watched directories, too many watcher instances, or too many queued
// events. The watcher keeps running without the directory it could not
// watch; Hint says how to raise the limit.
type LimitError struct {
	Dir   string // the directory that could not be watched; "" for a queue overflow
	Limit string // the setting to raise, such as "fs.inotify.max_user_watches"
	Err   error
	hint  string
}

func (e *LimitError) Error() string {
	if e.Dir == "" {
		return fmt.Sprintf("watching for changes: %s is too low: %v", e.Limit, e.Err)
	}
	return fmt.Sprintf("watching %s: %s is too low: %v", e.Dir, e.Limit, e.Err)
}

// Hint is the one command that raises the limit.
func (e *LimitError) Hint() string { return e.hint }

func (e *LimitError) Unwrap() error { return e.Err }

// errNotWatchable marks a directory that vanished before it could be
// watched; that is not worth reporting.
var errNotWatchable = errors.New("directory vanished")
