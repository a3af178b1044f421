package hint

import (
	"errors"
	"fmt"
	"testing"
)

func TestWrapKeepsTheCauseAndTheHint(t *testing.T) {
	cause := errors.New("no upstream server given")
	err := fmt.Errorf("starting the proxy: %w", Wrap(cause, "pass --to"))
	if !errors.Is(err, cause) {
		t.Error("the cause is lost")
	}
	if got, want := Of(err), "pass --to"; got != want {
		t.Errorf("hint: got %q, want %q", got, want)
	}
	if got := Of(cause); got != "" {
		t.Errorf("hint of a plain error: got %q", got)
	}
	if Wrap(cause, "") != cause || Wrap(nil, "x") != nil {
		t.Error("Wrap must leave an error without a hint, and nil, alone")
	}
}
