package session

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/devstack-dev/devstack/internal/cachedir"
	"github.com/devstack-dev/devstack/orchestrator"
)

// staleGrace is how long the processes of an earlier, killed devstack up get
// between SIGTERM and SIGKILL.
const staleGrace = 2 * time.Second

// recordProcessGroups stops what an earlier devstack up for the project in
// dir left running — it was killed, and its guard could not act either —
// saying so, and then keeps the list of this run's process groups for the
// next up to do the same. It returns the function that ends the recording.
func recordProcessGroups(dir string, notify func(Notice)) (done func()) {
	cache, err := cachedir.Dir()
	if err != nil {
		return func() {}
	}
	path := filepath.Join(cache, "running", projectKey(dir)+".groups.json")
	stale, done := orchestrator.RecordGroups(path, staleGrace)
	for _, g := range stale {
		notify(Notice{Warning: true, Text: fmt.Sprintf("stopped %s (process group %d), left running by an earlier devstack up that was killed", g.Command, g.PGID)})
	}
	return done
}
