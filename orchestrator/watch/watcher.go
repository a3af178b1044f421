// Package watch tells the `up` engine when the project's files change: it
// watches the project tree (recursively, skipping ignored directories),
// debounces bursts of events into batches, and classifies each batch as a
// graceful reload or a full restart.
package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Options configure a Watcher. Only Root is required.
type Options struct {
	// Root is the project directory, watched recursively.
	Root string
	// Include, when set, limits which changed files trigger a reload to
	// those matching these globs (gitignore syntax, "**" allowed). Default:
	// every file not ignored. Restart files trigger regardless.
	Include []string
	// Exclude globs are ignored on top of the defaults and .gitignore.
	Exclude []string
	// IgnorePaths are files or directories, absolute or relative to Root,
	// never watched: the project's STATIC_ROOT and MEDIA_ROOT, devstack's
	// own run directory and log files. Default: none beyond the built-in
	// ignores.
	IgnorePaths []string
	// RestartFiles are files, absolute or relative to Root (inside or
	// outside it, ignored or not), whose change needs a full restart: the
	// gunicorn config in use, the env files loaded. The built-in list
	// (gunicorn.conf.py, .env, dependency manifests, devstack.toml,
	// Procfile.dev…) always applies.
	RestartFiles []string
	// VenvDirs are the project's virtualenvs. They are never watched for
	// reloads, but their pyvenv.cfg and the top level of site-packages are:
	// a package installed or removed needs a full restart.
	VenvDirs []string
	// Quiet is how long no event must arrive before a batch is delivered.
	// Once a batch holds many files (a checkout, a formatter run) it waits
	// burstQuietFactor times longer: splitting such a burst costs a
	// second reload, while a single save stays quick. Default DefaultQuiet.
	Quiet time.Duration
	// MaxWait caps how long a batch waits for quiet, so a process writing
	// without pause cannot hold reloads back. Default DefaultMaxWait.
	MaxWait time.Duration
}

const (
	// DefaultQuiet is well above the gaps between the events of one save
	// (under a millisecond) and of a `git checkout` of hundreds of files
	// on an idle machine (under 10 ms), and small next to the time a
	// reload takes: it is added to every save-to-response time.
	DefaultQuiet = 30 * time.Millisecond
	// DefaultMaxWait bounds the delay a continuous writer can cause.
	DefaultMaxWait = time.Second
)

// Watcher watches one project tree. Create it with New, start it with Run,
// read Batches (and Errors), stop it by cancelling Run's context or Close.
type Watcher struct {
	opts      Options
	root      string
	fsw       *fsnotify.Watcher
	rules     *rules
	restart   map[string]bool      // RestartFiles inside root, root-relative
	dirs      map[string]bool      // watched directories of the tree
	links     linkedDirs           // which of them are reached through a link
	extra     map[string]*extraDir // watched directories outside the tree
	venvs     map[string]bool      // VenvDirs, absolute
	collected collector            // the batch being debounced
	out       Batch                // a batch ready, waiting for the reader
	hasOut    bool

	batches chan Batch
	errs    chan error

	// testOnlyInLoop runs functions on Run's goroutine, which owns the
	// watcher's state, so tests can look at it without a data race.
	testOnlyInLoop chan func()
	// testOnlyEvent, when set, sees every event as it is read.
	testOnlyEvent func(fsnotify.Event, time.Time)
	// testOnlyFlushed, when set, sees every batch as it is debounced.
	testOnlyFlushed func(Batch)

	mu       sync.Mutex
	state    int // stateIdle, stateRunning, stateDone
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

const (
	stateIdle = iota
	stateRunning
	stateDone
)

// New checks the options and watches the tree, so that every change made
// after New returns is reported once Run runs. The error for a watch limit
// is a *LimitError with a Hint.
func New(opts Options) (*Watcher, error) {
	if opts.Root == "" {
		return nil, errors.New("watch: no project directory given")
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", opts.Root, err)
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("watching %s: %w", root, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("watching %s: not a directory", root)
	}
	include, err := CompileGlobs(opts.Include)
	if err != nil {
		return nil, fmt.Errorf("watch include: %w", err)
	}
	exclude, err := CompileGlobs(opts.Exclude)
	if err != nil {
		return nil, fmt.Errorf("watch exclude: %w", err)
	}
	if opts.Quiet <= 0 {
		opts.Quiet = DefaultQuiet
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = DefaultMaxWait
	}
	opts.MaxWait = max(opts.MaxWait, opts.Quiet)

	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		if lerr := limitError("", err); lerr != nil {
			return nil, lerr
		}
		return nil, fmt.Errorf("watching %s: %w", root, err)
	}
	w := &Watcher{
		opts:    opts,
		root:    root,
		fsw:     fsw,
		rules:   newRules(root, opts.IgnorePaths, include, exclude),
		restart: map[string]bool{},
		dirs:    map[string]bool{},
		links:   newLinkedDirs(root),
		extra:   map[string]*extraDir{},
		venvs:   map[string]bool{},
		batches: make(chan Batch),
		errs:    make(chan error, 16),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),

		testOnlyInLoop: make(chan func()),
	}
	for _, v := range opts.VenvDirs {
		if !filepath.IsAbs(v) {
			v = filepath.Join(root, v)
		}
		w.venvs[filepath.Clean(v)] = true
	}
	if err := w.addTree(root, "", time.Time{}); err != nil {
		fsw.Close()
		return nil, err
	}
	w.watchRestartFiles()
	for v := range w.venvs {
		w.refreshVenv(v, time.Time{})
	}
	w.watchVenvParents()
	return w, nil
}

// Batches delivers debounced changes. While the reader is busy, new
// changes are merged into the batch waiting to be delivered, so nothing is
// lost and nothing queues up. It is closed when Run returns.
func (w *Watcher) Batches() <-chan Batch { return w.batches }

// Errors delivers problems that do not stop the watching: a directory that
// could not be watched (permission, a *LimitError), lost events. Reading it
// is optional; errors nobody reads are dropped. It is closed when Run
// returns.
func (w *Watcher) Errors() <-chan error { return w.errs }

// Root is the absolute project directory.
func (w *Watcher) Root() string { return w.root }

// Run watches until ctx is done or Close is called; it returns nil then.
// It may be called once.
func (w *Watcher) Run(ctx context.Context) error {
	w.mu.Lock()
	if w.state != stateIdle {
		w.mu.Unlock()
		return errors.New("watch: Run called twice or after Close")
	}
	w.state = stateRunning
	w.mu.Unlock()
	defer w.finish()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		var send chan<- Batch
		if w.hasOut {
			send = w.batches
		}
		wasEmpty := w.collected.empty()
		select {
		case <-ctx.Done():
			return nil
		case <-w.stop:
			return nil
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return errors.New("watch: the system watcher stopped")
			}
			now := time.Now()
			if w.testOnlyEvent != nil {
				w.testOnlyEvent(ev, now)
			}
			w.handle(ev, now)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return errors.New("watch: the system watcher stopped")
			}
			w.handleError(err, time.Now())
		case now := <-timer.C:
			c := &w.collected
			due := c.last.Add(w.quietFor(c))
			if capAt := c.first.Add(w.opts.MaxWait); capAt.Before(due) {
				due = capAt
			}
			if now.Before(due) {
				timer.Reset(due.Sub(now))
				continue
			}
			if b, ok := c.batch(); ok {
				if w.testOnlyFlushed != nil {
					w.testOnlyFlushed(b)
				}
				if w.hasOut {
					w.out = w.out.Merge(b)
				} else {
					w.out, w.hasOut = b, true
				}
			}
			continue
		case f := <-w.testOnlyInLoop:
			f()
		case send <- w.out:
			w.out, w.hasOut = Batch{}, false
			continue
		}
		// The first event of a batch starts the clock; later ones only
		// move the deadline, checked when the timer fires.
		if wasEmpty && !w.collected.empty() {
			timer.Reset(w.opts.Quiet)
		}
	}
}

// Past burstPaths files in a batch, the quiet window grows by
// burstQuietFactor: on a busy machine a checkout's events can be tens of
// milliseconds apart (measured: up to 300 ms at a load of 7 on 2 cores).
const (
	burstPaths       = 8
	burstQuietFactor = 4
)

// quietFor is how long the batch being collected waits for quiet.
func (w *Watcher) quietFor(c *collector) time.Duration {
	if len(c.paths) >= burstPaths {
		return burstQuietFactor * w.opts.Quiet
	}
	return w.opts.Quiet
}

// finish releases everything once Run stops.
func (w *Watcher) finish() {
	w.fsw.Close()
	w.mu.Lock()
	w.state = stateDone
	w.mu.Unlock()
	close(w.batches)
	close(w.errs)
	close(w.done)
}

// Close stops the watcher and releases its system resources, waiting for
// Run to return. It is safe to call more than once and without Run.
func (w *Watcher) Close() error {
	w.stopOnce.Do(func() { close(w.stop) })
	w.mu.Lock()
	state := w.state
	if state == stateIdle {
		w.state = stateDone
	}
	w.mu.Unlock()
	switch state {
	case stateIdle:
		err := w.fsw.Close()
		close(w.batches)
		close(w.errs)
		close(w.done)
		return err
	default:
		<-w.done
	}
	return nil
}

// report sends a non-fatal error without ever blocking the watching.
func (w *Watcher) report(err error) {
	select {
	case w.errs <- err:
	default:
	}
}

// handleError deals with an error from the system watcher.
func (w *Watcher) handleError(err error, now time.Time) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		// Events were lost: nobody knows what changed, so restart, and
		// pick up directories created meanwhile.
		w.collected.overflow = true
		w.collected.touch(now)
		w.rescan(w.root)
		w.report(overflowError(err))
		return
	}
	w.report(fmt.Errorf("watching %s: %w", w.root, err))
}
