package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/events"
)

// lockedBuffer is an output the program's renderer may write to while the
// test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runUI starts Run with keys from the returned writer and reports its
// result on the returned channel.
func runUI(t *testing.T, ctx context.Context, ch chan []events.Event, opts Options) (io.Writer, <-chan error) {
	t.Helper()
	t.Setenv("NO_COLOR", "1")
	keys, input := io.Pipe()
	t.Cleanup(func() { keys.Close(); input.Close() })
	opts.Input, opts.Output = keys, &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, ch, fakeStatus, opts) }()
	return input, done
}

// result waits for Run to end, for at most 10 seconds.
func result(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s")
		return nil
	}
}

func TestRunEndsWhenTheBusCloses(t *testing.T) {
	ch := make(chan []events.Event, 10)
	var quits atomic.Int32
	input, done := runUI(t, context.Background(), ch, Options{OnQuit: func() { quits.Add(1) }})
	ch <- []events.Event{logEvent("web", "hello")}
	if _, err := input.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	// The caller stops the stack, then closes the bus.
	deadline := time.Now().Add(10 * time.Second)
	for quits.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if quits.Load() != 1 {
		t.Fatalf("q did not reach OnQuit (called %d times)", quits.Load())
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) before the bus closed: the stop would not be shown", err)
	default:
	}
	close(ch)
	if err := result(t, done); err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestRunReturnsErrQuitWithoutHook(t *testing.T) {
	ch := make(chan []events.Event)
	input, done := runUI(t, context.Background(), ch, Options{})
	if _, err := input.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	if err := result(t, done); !errors.Is(err, ErrQuit) {
		t.Errorf("Run: got %v, want ErrQuit", err)
	}
}

func TestRunEndsWithItsContext(t *testing.T) {
	ch := make(chan []events.Event)
	ctx, cancel := context.WithCancel(context.Background())
	_, done := runUI(t, ctx, ch, Options{})
	cancel()
	if err := result(t, done); err != nil {
		t.Errorf("Run after its context ended: %v", err)
	}
}

func TestInteractive(t *testing.T) {
	t.Setenv("TERM", "xterm-256color")
	if Interactive(&bytes.Buffer{}) {
		t.Error("a buffer is interactive")
	}
	tty := openPTY(t)
	if !Interactive(tty) {
		t.Error("a terminal is not interactive")
	}
	t.Setenv("TERM", "dumb")
	if Interactive(tty) {
		t.Error("TERM=dumb is interactive")
	}
}
