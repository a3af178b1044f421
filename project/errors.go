package project

import "fmt"

// Error is a problem with the project that the user can fix; Hint says how.
type Error struct {
	Msg  string // lowercase, no final period
	Fix  string // the one thing to do; may hold several lines
	Err  error  // underlying cause, if any
	File string // file the problem is in, if any (already part of Msg)
	Line int    // line in File, 0 if unknown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Hint is the fix printed after the error.
func (e *Error) Hint() string { return e.Fix }

func (e *Error) Unwrap() error { return e.Err }

// ConfigError is a problem in devstack.toml, pyproject.toml, an env file or
// Procfile.dev, located by file and line.
type ConfigError struct {
	File string // path as shown to the user (relative to the project when inside it)
	Line int    // 1-based, 0 if unknown
	Key  string // dotted key ("proxy.max_body"), "" when not about a key
	Msg  string // what is wrong
	Fix  string // the one thing to do
}

func (e *ConfigError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return loc + ": " + e.Msg
}

// Hint is the fix printed after the error.
func (e *ConfigError) Hint() string { return e.Fix }
