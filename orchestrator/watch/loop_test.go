package watch

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

// TestSaveDuringReloadGivesExactlyOneMoreReload edits files while the
// reload function is blocked, with real files and a real watcher: the
// edits must all arrive in exactly one more reload, never lost, never
// split.
func TestSaveDuringReloadGivesExactlyOneMoreReload(t *testing.T) {
	for i := range 20 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			root := project(t, map[string]string{"app.py": "", "blog/views.py": ""})
			w := startWatcher(t, Options{Root: root})
			flushed := map[string]bool{}
			inLoop(t, w, func() {
				w.testOnlyFlushed = func(b Batch) {
					for _, p := range b.Paths {
						flushed[p] = true
					}
				}
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()

			type call struct {
				b       Batch
				release chan struct{}
			}
			calls := make(chan call)
			done := make(chan error, 1)
			go func() {
				done <- Loop(ctx, w.Batches(), func(ctx context.Context, b Batch) {
					c := call{b, make(chan struct{})}
					select {
					case calls <- c:
					case <-ctx.Done():
						return
					}
					select {
					case <-c.release:
					case <-ctx.Done():
					}
				})
			}()
			next := func() call {
				t.Helper()
				select {
				case c := <-calls:
					return c
				case <-time.After(eventually):
					t.Fatal("no reload")
				}
				return call{}
			}

			write(t, filepath.Join(root, "app.py"), "1\n")
			first := next()
			wantPaths(t, first.b, "app.py")

			// While the first reload runs: several saves, some far enough
			// apart to make several batches.
			write(t, filepath.Join(root, "blog/views.py"), "1\n")
			time.Sleep(time.Duration(i%4) * 20 * time.Millisecond)
			write(t, filepath.Join(root, "app.py"), "2\n")
			time.Sleep(time.Duration(i%3) * 30 * time.Millisecond)
			write(t, filepath.Join(root, "blog/models.py"), "1\n")
			// Wait until the watcher has delivered everything to Loop (the
			// sentinel proves the earlier events were all handled).
			waitPending(t, w, func() bool { return flushed["blog/models.py"] })
			close(first.release)

			second := next()
			wantPaths(t, second.b, "app.py", "blog/models.py", "blog/views.py")
			close(second.release)

			// Nothing else: a further save gives one more reload with only it.
			write(t, filepath.Join(root, "blog/urls.py"), "1\n")
			third := next()
			wantPaths(t, third.b, "blog/urls.py")
			close(third.release)

			cancel()
			select {
			case err := <-done:
				if err != context.Canceled {
					t.Errorf("Loop: got %v, want context.Canceled", err)
				}
			case <-time.After(eventually):
				t.Fatal("Loop did not return")
			}
		})
	}
}

// waitPending waits until seen (run on the watcher's goroutine) is true
// and the watcher holds nothing undelivered.
func waitPending(t *testing.T, w *Watcher, seen func() bool) {
	t.Helper()
	waitUntil(t, w, func() bool { return seen() && w.collected.empty() && !w.hasOut })
}

// waitUntil waits until cond, run on the watcher's goroutine, is true.
func waitUntil(t *testing.T, w *Watcher, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(eventually)
	for {
		var ok bool
		inLoop(t, w, func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("condition never met")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLoopDeliversPendingAfterClose(t *testing.T) {
	in := make(chan Batch)
	var got []Batch
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Loop(context.Background(), in, func(_ context.Context, b Batch) {
			got = append(got, b)
			if len(got) == 1 {
				<-release
			}
		})
	}()
	in <- Batch{Paths: []string{"a.py"}}
	in <- Batch{Paths: []string{"b.py"}, NeedsRestart: true, RestartCause: "dependency manifest b.py"}
	in <- Batch{Paths: []string{"a.py", "c.py"}}
	close(in)
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Loop: %v", err)
		}
	case <-time.After(eventually):
		t.Fatal("Loop did not return after its input closed")
	}
	if len(got) != 2 {
		t.Fatalf("reloads: got %d (%v), want 2", len(got), got)
	}
	if want := []string{"a.py", "b.py", "c.py"}; !slices.Equal(got[1].Paths, want) || !got[1].NeedsRestart {
		t.Errorf("second reload: got %+v, want paths %q with a restart", got[1], want)
	}
}

func TestLoopStopsWithContextAfterRunningReload(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	in := make(chan Batch)
	started := make(chan struct{})
	returned := false
	done := make(chan error, 1)
	go func() {
		done <- Loop(ctx, in, func(ctx context.Context, b Batch) {
			close(started)
			<-ctx.Done()
			time.Sleep(20 * time.Millisecond)
			returned = true
		})
	}()
	in <- Batch{Paths: []string{"a.py"}}
	<-started
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Errorf("Loop: got %v, want context.Canceled", err)
		}
		if !returned {
			t.Error("Loop returned before the running reload did")
		}
	case <-time.After(eventually):
		t.Fatal("Loop did not return")
	}
	checkNoLeak(t, before)
}
