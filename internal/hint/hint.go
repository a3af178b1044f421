// Package hint attaches to an error the one thing the user should do
// about it. devstack's command line prints an error, then its hint:
//
//	devstack: error: no upstream server given
//	devstack: hint: say which server to put behind the proxy, …
//
// Any error with a `Hint() string` method is one (project and proxy errors
// carry their own); this package is for the plain ones.
package hint

import "errors"

// Wrap returns err with hint attached; Unwrap gives err back. An empty hint
// returns err unchanged.
func Wrap(err error, hint string) error {
	if err == nil || hint == "" {
		return err
	}
	return &hinted{err: err, hint: hint}
}

type hinted struct {
	err  error
	hint string
}

func (e *hinted) Error() string { return e.err.Error() }
func (e *hinted) Unwrap() error { return e.err }
func (e *hinted) Hint() string  { return e.hint }

// Of returns the hint of the first error in err's chain that has one, or "".
func Of(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}
