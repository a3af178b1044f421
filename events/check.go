package events

// CheckStatus is a trust check's outcome. The doctor decides it, devstack
// up publishes it in a KindCheck event, and the screens colour it: one type
// from the check to the user.
type CheckStatus string

const (
	Pass CheckStatus = "pass"
	Warn CheckStatus = "warn"
	Fail CheckStatus = "fail"
)

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
}
