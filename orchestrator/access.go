package orchestrator

import (
	"fmt"
	"strings"

	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/proxy"
)

// AccessRecordOf is the proxy's record of one request as events carry it.
// Only a failed request pays for its error's text.
func AccessRecordOf(r *proxy.AccessRecord) events.AccessRecord {
	a := events.AccessRecord{
		Method: r.Method, Path: r.Path, Status: r.Status, Duration: r.Duration, Bytes: r.BytesOut, Remote: r.RemoteAddr,
		Held: r.Held, Redirected: r.Redirected,
	}
	if r.UpstreamError != nil {
		a.UpstreamError = r.UpstreamError.Error()
	}
	if r.ClientError != nil {
		a.ClientError = r.ClientError.Error()
	}
	return a
}

// downPageAdvice ends the reason of a gateway that stays down: the 502
// page shows the gateway's last log lines under it.
const downPageAdvice = " Fix the error below and save: devstack restarts it on the next file change."

// downReason is the reason the 502 page gives for a gateway that stays
// down, cause being what happened ("gunicorn exited (exit code 3) before
// it could serve the app").
func downReason(cause string) string { return cause + "." + downPageAdvice }

// downLogReason words a down reason (see downReason) for the access log,
// where nothing follows the line: the gateway's error is in its own lines
// just before. A hint after the reason (a module the app cannot import)
// is kept.
func downLogReason(reason, gateway string) string {
	page, hint, _ := strings.Cut(reason, "\n\n")
	cause, ok := strings.CutSuffix(page, downPageAdvice)
	if !ok {
		return reason
	}
	s := fmt.Sprintf("%s; its error is in the %s log lines just before; fix it and save: devstack restarts it on the next file change", strings.TrimSuffix(cause, "."), gateway)
	if hint != "" {
		s += "\n\n" + hint
	}
	return s
}
