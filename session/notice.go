package session

// Notice is something the user should know that is not an error: a CA was
// created, a setting in the project looks wrong. Hint, when set, is the one
// thing to do about it.
type Notice struct {
	Warning bool // a problem to look at, rather than news
	Text    string
	Hint    string
}
