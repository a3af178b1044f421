package watch

import "context"

// Loop calls reload for the batches read from batches, one reload at a
// time. Batches arriving while a reload runs are merged into one pending
// batch, handed to reload as soon as the current call returns: a save
// during a reload gives exactly one more reload, with every path that
// changed meanwhile, and no change is ever lost.
//
// reload handles its own failures (a failed reload must not stop the
// watching); it gets ctx and should return soon after ctx is done.
// Loop returns nil once batches is closed and the last pending batch has
// been reloaded, or ctx.Err() when ctx is done, after the running reload
// returns.
func Loop(ctx context.Context, batches <-chan Batch, reload func(context.Context, Batch)) error {
	var (
		pending    Batch
		hasPending bool
		running    bool
		open       = true
		finished   = make(chan struct{})
	)
	for {
		if !running && hasPending {
			b := pending
			pending, hasPending, running = Batch{}, false, true
			go func() {
				reload(ctx, b)
				finished <- struct{}{}
			}()
		}
		if !running && !open {
			return nil
		}
		in := batches
		if !open {
			in = nil
		}
		select {
		case b, ok := <-in:
			if !ok {
				open = false
				continue
			}
			if hasPending {
				pending = pending.Merge(b)
			} else {
				pending, hasPending = b, true
			}
		case <-finished:
			running = false
		case <-ctx.Done():
			if running {
				<-finished
			}
			return ctx.Err()
		}
	}
}
