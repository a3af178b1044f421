package record

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWaitSeesLaterItemsAfterTheMark(t *testing.T) {
	l := New[string]()
	l.Add("booting")
	l.Add("ready 1")
	mark := l.Len()
	go func() {
		time.Sleep(10 * time.Millisecond)
		l.Add("reloading")
		l.Add("ready 2")
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, i, err := l.Wait(ctx, mark, nil, func(s string) bool { return strings.HasPrefix(s, "ready") })
	if err != nil || got != "ready 2" || i != 3 {
		t.Errorf("got %q at %d, %v; want the ready after the mark, at 3", got, i, err)
	}
	if got := l.Last(2); len(got) != 2 || got[0] != "reloading" {
		t.Errorf("Last(2): %q", got)
	}
}

func TestWaitEndsOnStopAndOnContext(t *testing.T) {
	l := New[int]()
	stop := make(chan struct{})
	l.Add(1)
	close(stop)
	if _, _, err := l.Wait(context.Background(), 0, stop, func(n int) bool { return n == 2 }); !errors.Is(err, ErrStopped) {
		t.Errorf("after stop: got %v, want ErrStopped", err)
	}
	if v, _, err := l.Wait(context.Background(), 0, stop, func(n int) bool { return n == 1 }); err != nil || v != 1 {
		t.Errorf("an item added before the stop: got %d, %v", v, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := l.Wait(ctx, 0, nil, func(n int) bool { return n == 2 }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("after the deadline: got %v", err)
	}
}

func TestBoundedKeepsTheLastItemsAndCountsAll(t *testing.T) {
	l := NewBounded[int](3)
	for i := range 100 {
		l.Add(i)
	}
	if got := l.Len(); got != 100 {
		t.Errorf("Len: got %d, want 100", got)
	}
	if got := l.Last(3); len(got) != 3 || got[0] != 97 || got[2] != 99 {
		t.Errorf("Last(3): got %v", got)
	}
	if items := l.Items(); len(items) > 6 {
		t.Errorf("kept %d items, want at most twice the limit", len(items))
	}
	v, i, err := l.Wait(context.Background(), 0, nil, func(n int) bool { return n%2 == 0 && n > 90 })
	if err != nil || v != 92 && v != 94 && v != 96 && v != 98 || i != v {
		t.Errorf("Wait over a bounded log: got %d at %d, %v", v, i, err)
	}
}
