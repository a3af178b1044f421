package orchestrator

import (
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
