//go:build !linux

package watch

import (
	"errors"
	"syscall"
)

// limitError recognises the open-file limit: kqueue (macOS, BSD) needs one
// open descriptor per watched directory.
func limitError(dir string, err error) error {
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		return &LimitError{Dir: dir, Limit: "the open file limit", Err: err,
			hint: "raise the limit in the shell that runs devstack: ulimit -n 10240"}
	}
	return nil
}

// overflowError reports lost events.
func overflowError(err error) error {
	return &LimitError{Limit: "the event buffer", Err: err,
		hint: "exclude large generated directories with exclude globs in devstack.toml"}
}
