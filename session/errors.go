package session

// Notice is something the user should know that is not an error: a CA was
// created, a setting in the project looks wrong. Hint, when set, is the one
// thing to do about it.
type Notice struct {
	Warning bool // a problem to look at, rather than news
	Text    string
	Hint    string
}

// hintError is an error with the one thing the user should do about it.
type hintError struct {
	err  error
	hint string
}

func (e hintError) Error() string { return e.err.Error() }
func (e hintError) Unwrap() error { return e.err }
func (e hintError) Hint() string  { return e.hint }
