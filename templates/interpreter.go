package templates

import _ "embed"

// InterpreterScript reports an interpreter's Python version, import path
// and where the modules named on its command line would be imported from,
// without importing them. project runs it with `python -c` on every
// candidate interpreter; it is not one of the files WriteTo writes. See the
// file for its output format.
//
//go:embed devstack_interpreter.py
var InterpreterScript string
