package events

// CheckStatus is a trust check's outcome. The doctor decides it, devstack
// up publishes it in a KindCheck event, and the screens colour it: one type
// from the check to the user.
type CheckStatus string

// The statuses, from the most to the least urgent.
const (
	// Fail: it breaks here, now (a redirect loop, a 403, http links).
	Fail CheckStatus = "fail"
	// NotRun: the check could not run (the app did not import with the
	// settings asked for, a request it needs failed); Detail says why.
	NotRun CheckStatus = "not-run"
	// Warn: it works here but will break or leak in production.
	Warn CheckStatus = "warn"
	// Info: hardening advice, shown only by devstack doctor --all.
	Info CheckStatus = "info"
	Pass CheckStatus = "pass"
)

// CheckStatuses lists every status, most urgent first (a report's order).
var CheckStatuses = []CheckStatus{Fail, NotRun, Warn, Info, Pass}

// CheckResult is one check's finding. ID is stable: scripts may rely on it.
type CheckResult struct {
	ID     string      `json:"id"`
	Status CheckStatus `json:"status"`
	// Summary says in one line what was found.
	Summary string `json:"summary"`
	// Detail is the evidence: what the app saw, the setting's value.
	Detail string `json:"detail,omitempty"`
	// Fix is what to change; empty when the check passed.
	Fix string `json:"fix,omitempty"`
	// Module is the Django settings module the check evaluated
	// ("config.settings.local"); empty for other apps.
	Module string `json:"module,omitempty"`
	// Where is the file and line the deciding setting is set at
	// ("config/settings/base.py:14"), or the file it belongs in when it
	// is not set.
	Where string `json:"where,omitempty"`
}
