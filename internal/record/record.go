// Package record keeps what a stream said, in order, for code that waits
// until a given thing was said: a process's output lines, a bus's events.
// Tests and benchmarks use it; it does not import testing.
package record

import (
	"context"
	"errors"
	"sync"
)

// ErrStopped is Wait's error when its stop channel closed first (the
// process exited, the stream ended).
var ErrStopped = errors.New("the stream ended")

// Log is an append-only list that others can wait on. The zero value is
// not ready: use New.
type Log[T any] struct {
	mu      sync.Mutex
	items   []T
	dropped int           // items no longer kept, before items[0]
	limit   int           // items kept at most; 0: all
	grew    chan struct{} // closed and replaced on each Add
}

// New returns an empty log that keeps every item.
func New[T any]() *Log[T] { return &Log[T]{grew: make(chan struct{})} }

// NewBounded returns an empty log that keeps only the last limit items,
// for a stream that runs long. Indices still count every item added.
func NewBounded[T any](limit int) *Log[T] {
	return &Log[T]{grew: make(chan struct{}), limit: max(1, limit)}
}

// Add appends v and wakes every waiter.
func (l *Log[T]) Add(v T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, v)
	if l.limit > 0 && len(l.items) > 2*l.limit {
		n := len(l.items) - l.limit
		l.items = append(l.items[:0], l.items[n:]...)
		l.dropped += n
	}
	close(l.grew)
	l.grew = make(chan struct{})
}

// Len is the number of items added so far: a mark for Wait's after.
func (l *Log[T]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped + len(l.items)
}

// Items returns a copy of the items kept so far.
func (l *Log[T]) Items() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]T(nil), l.items...)
}

// Last returns a copy of the last n items (fewer when fewer are kept).
func (l *Log[T]) Last(n int) []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]T(nil), l.items[max(0, len(l.items)-n):]...)
}

// Wait returns the first item after the first `after` ones that match
// accepts, and its index (among the items kept). It returns ctx's error when ctx is done first,
// and ErrStopped when stop (which may be nil) is closed first and no item
// added before that matched.
func (l *Log[T]) Wait(ctx context.Context, after int, stop <-chan struct{}, match func(T) bool) (T, int, error) {
	seen := after
	for {
		l.mu.Lock()
		v, i, ok := l.findLocked(seen, match)
		seen = l.dropped + len(l.items)
		grew := l.grew
		l.mu.Unlock()
		if ok {
			return v, i, nil
		}
		var zero T
		select {
		case <-grew:
		case <-stop:
			// What was added just before the end still counts.
			if v, i, ok := l.find(seen, match); ok {
				return v, i, nil
			}
			return zero, -1, ErrStopped
		case <-ctx.Done():
			return zero, -1, ctx.Err()
		}
	}
}

func (l *Log[T]) find(from int, match func(T) bool) (T, int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.findLocked(from, match)
}

// findLocked is the first item from index from on that matches; l.mu is
// held.
func (l *Log[T]) findLocked(from int, match func(T) bool) (T, int, bool) {
	for i := max(from, l.dropped); i < l.dropped+len(l.items); i++ {
		if v := l.items[i-l.dropped]; match(v) {
			return v, i, true
		}
	}
	var zero T
	return zero, -1, false
}
