package orchestrator

import (
	"strings"
	"testing"
)

// The 502 page shows the gateway's error under its reason; the access log
// line has nothing under it, so it says where the error is instead.
func TestDownReasonForTheLog(t *testing.T) {
	page := downReason("gunicorn exited (exit code 3) before it could serve the app")
	if !strings.HasSuffix(page, ". Fix the error below and save: devstack restarts it on the next file change.") {
		t.Errorf("page reason %q", page)
	}
	want := "gunicorn exited (exit code 3) before it could serve the app; its error is in the gunicorn log lines just before; " +
		"fix it and save: devstack restarts it on the next file change"
	if got := downLogReason(page, "gunicorn"); got != want {
		t.Errorf("log reason\n got %q\nwant %q", got, want)
	}
	hint := "The app cannot import redis with .venv/bin/python."
	if got := downLogReason(page+"\n\n"+hint, "gunicorn"); got != want+"\n\n"+hint {
		t.Errorf("with a hint: %q", got)
	}
	if got := downLogReason("something else", "gunicorn"); got != "something else" {
		t.Errorf("another reason changed: %q", got)
	}
}
