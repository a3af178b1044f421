package watch_test

import (
	"context"
	"log"

	"github.com/devstack-dev/devstack/orchestrator/watch"
)

// How the up engine drives a reload strategy from the watcher: one reload
// at a time, with every change made during a reload delivered in exactly
// one more.
func Example() {
	w, err := watch.New(watch.Options{
		Root:         ".",
		RestartFiles: []string{"config/gunicorn.py", ".env.dev"},
		VenvDirs:     []string{".venv"},
		IgnorePaths:  []string{"/srv/app/static"}, // the project's STATIC_ROOT
	})
	if err != nil {
		log.Fatal(err) // a *watch.LimitError carries a Hint()
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for err := range w.Errors() {
			log.Printf("watch: %v", err)
		}
	}()
	go w.Run(ctx)
	_ = watch.Loop(ctx, w.Batches(), func(ctx context.Context, b watch.Batch) {
		if b.NeedsRestart {
			log.Printf("restarting: %s", b.Reason())
		} else {
			log.Printf("reloading: %s", b.Reason())
		}
		// Extra processes opt in with their own globs.
		if watch.Matches([]string{"worker/**", "*.py"}, b.Paths) {
			log.Print("restarting the worker")
		}
	})
}
