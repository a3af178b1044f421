//go:build !linux

package orchestrator

import "fmt"

// findPortHolder asks lsof who listens on port: there is no /proc here.
func findPortHolder(host string, port int) (portHolder, bool) {
	return findPortHolderLsof(host, port)
}

// portLookupHint names the command that shows who listens on port, for
// when devstack could not tell (another user's process).
func portLookupHint(port int) string {
	return fmt.Sprintf("\"sudo lsof -nP -iTCP:%d -sTCP:LISTEN\" names it", port)
}
