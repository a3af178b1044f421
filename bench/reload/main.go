// Command reload measures how long a saved change takes to be served, and
// how many requests fail meanwhile, for devstack and for the usual ways of
// reloading the same app:
//
//   - -app django (testdata/django-site): manage.py runserver, gunicorn
//     --reload, and gunicorn with a SIGHUP sent right after the save (with
//     and without framework modules pre-imported in the master); devstack
//     is compared with gunicorn + SIGHUP.
//   - -app fastapi (testdata/fastapi-app): uvicorn --reload, and uvicorn
//     stopped and started again right after the save; devstack is compared
//     with uvicorn --reload.
//
// -edit code rewrites a marker in a view; -edit template rewrites one in a
// template (Django template, Jinja2), which must be live as fast.
//
// Every contender serves its own copy of the app. The saves are
// interleaved (round 1: each contender once, round 2: each again in a
// rotated order…) so that noise from other work on the machine spreads over
// all of them. For each save a poller asks /whoami/ every 5 ms until the
// answer carries the marker just written; meanwhile a few
// clients send requests in the background and every connection error or
// non-200 answer counts as failed. A save not served within -timeout is
// missed.
//
//	go run ./bench/reload                   10 saves per contender
//	go run ./bench/reload -saves 20 -only devstack,hup
//	go run ./bench/reload -app fastapi -edit template
//
// The machine's load is printed before and after; with more load from
// other work than it has cores, no verdict is printed.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/devstack-dev/devstack/bench/internal/loadgate"
	"github.com/devstack-dev/devstack/bench/internal/stats"
)

// bench holds the settings of one run.
type bench struct {
	app      string
	edit     edit
	editKind string
	python   string
	devstack string
	site     string
	saves    int
	clients  int
	think    time.Duration
	gap      time.Duration
	timeout  time.Duration
	only     []string
	verbose  bool
	logDir   string
}

// logFor returns where the output of contender key is written (-logs), or nil.
func (b *bench) logFor(key string) io.Writer {
	if b.logDir == "" {
		return nil
	}
	f, err := os.Create(filepath.Join(b.logDir, key+".log"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench/reload: %v\n", err)
		return nil
	}
	return f // closed when the bench exits
}

// result is what one contender did over the run.
type result struct {
	c        contender
	site     string // its copy of the sample site
	srv      *server
	startErr error
	latency  []time.Duration // of the saves served
	missed   int
	requests atomic.Int64
	failed   atomic.Int64
	firstErr atomic.Value // string: the first failure, for the report
}

func main() {
	var b bench
	var only string
	flag.StringVar(&b.app, "app", "django", "the sample app: django or fastapi")
	flag.StringVar(&b.editKind, "edit", "code", "what each save changes: code (a view) or template")
	flag.StringVar(&b.python, "python", "/usr/bin/python3", "the interpreter with the app's framework and server")
	flag.StringVar(&b.devstack, "devstack", "", "the devstack binary (default: built from this module)")
	flag.StringVar(&b.site, "site", "", "the sample app, copied once per contender (default testdata/django-site or testdata/fastapi-app)")
	flag.IntVar(&b.saves, "saves", 10, "saves per contender")
	flag.IntVar(&b.clients, "clients", 4, "background clients sending requests during each save")
	flag.DurationVar(&b.think, "think", 10*time.Millisecond, "pause of each background client between requests")
	flag.DurationVar(&b.gap, "gap", 700*time.Millisecond, "pause after each save is served")
	flag.DurationVar(&b.timeout, "timeout", 10*time.Second, "a save not served within this is missed")
	flag.StringVar(&only, "only", "", "comma-separated contenders to run: devstack,runserver,reload,hup,hup-preimport (django); devstack,uvicorn-reload,uvicorn-restart (fastapi)")
	flag.BoolVar(&b.verbose, "v", false, "print every save")
	flag.StringVar(&b.logDir, "logs", "", "write each contender's output, with read times, to DIR/<contender>.log")
	flag.Parse()
	if only != "" {
		b.only = strings.Split(only, ",")
	}
	e, ok := edits[b.app][b.editKind]
	if !ok {
		fmt.Fprintf(os.Stderr, "bench/reload: -app must be django or fastapi and -edit code or template\n")
		os.Exit(2)
	}
	b.edit = e
	if b.site == "" {
		b.site = map[string]string{"django": "testdata/django-site", "fastapi": "testdata/fastapi-app"}[b.app]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := b.run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "bench/reload: %v\n", err)
		os.Exit(1)
	}
}

func (b *bench) run(ctx context.Context) error {
	watch := loadgate.Start(os.Getpid())
	work, err := os.MkdirTemp("", "devstack-reload-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if b.devstack == "" && b.wants("devstack") {
		b.devstack = filepath.Join(work, "bin", "devstack")
		fmt.Println("building devstack…")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", b.devstack, ".").CombinedOutput(); err != nil {
			return fmt.Errorf("building devstack (run from the module root): %v\n%s", err, out)
		}
	}

	var results []*result
	defer func() {
		for _, r := range results {
			if r.srv != nil {
				r.srv.stop()
			}
		}
	}()
	for _, c := range contenders[b.app] {
		if !b.wants(c.key) {
			continue
		}
		dir := filepath.Join(work, c.key)
		site := filepath.Join(dir, filepath.Base(b.site))
		r := &result{c: c, site: site}
		results = append(results, r)
		if err := copyTree(b.site, site); err != nil {
			return fmt.Errorf("copying %s: %w", b.site, err)
		}
		fmt.Printf("starting %s…\n", c.label)
		sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		r.srv, r.startErr = c.start(sctx, b, site, dir)
		cancel()
		if r.startErr != nil {
			r.srv = nil
			fmt.Printf("  %s did not start: %v\n", c.label, r.startErr)
		}
	}

	for round := range b.saves {
		for i := range results {
			r := results[(i+round)%len(results)]
			if r.srv == nil {
				continue
			}
			if err := b.measure(ctx, r, fmt.Sprintf("%s-%d-%d", r.c.key, round, time.Now().UnixNano()%1e6)); err != nil {
				return err
			}
		}
	}
	b.report(results, watch.Stop())
	return nil
}

func (b *bench) wants(key string) bool { return len(b.only) == 0 || slices.Contains(b.only, key) }

// measure saves the view once with a new marker and times it until served,
// with the background clients running from before the save until after.
func (b *bench) measure(ctx context.Context, r *result, marker string) error {
	path, data, err := b.edit.apply(r.site, marker)
	if err != nil {
		return err
	}
	stopLoad := b.load(r)
	defer stopLoad()
	sleep(ctx, 100*time.Millisecond)

	saved := time.Now()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	if err := r.srv.afterSave(); err != nil {
		return fmt.Errorf("%s: signalling after the save: %w", r.c.label, err)
	}
	want := fmt.Sprintf(b.edit.want, marker)
	pctx, cancel := context.WithDeadline(ctx, saved.Add(b.timeout))
	defer cancel()
	served := false
	for pctx.Err() == nil {
		_, body, err := r.srv.get(pctx, b.edit.path)
		if err == nil && strings.Contains(body, want) {
			served = true
			break
		}
		sleep(pctx, 5*time.Millisecond)
	}
	took := time.Since(saved)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if served {
		r.latency = append(r.latency, took)
	} else {
		r.missed++
	}
	if b.verbose {
		state := "served"
		if !served {
			state = "MISSED"
		}
		fmt.Printf("  %s saved  %-32s %s after %s\n", saved.Format("15:04:05.000"), r.c.label, state, took.Round(time.Millisecond))
	}
	sleep(ctx, 200*time.Millisecond)
	stopLoad()
	sleep(ctx, b.gap)
	return nil
}

// load starts the background clients and returns the function that stops
// them (and waits for their last requests); calling it again does nothing.
func (b *bench) load(r *result) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range b.clients {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				code, _, err := r.srv.get(context.Background(), "/whoami/")
				r.requests.Add(1)
				if err == nil && code != http.StatusOK {
					err = fmt.Errorf("status %d", code)
				}
				if err != nil {
					r.failed.Add(1)
					r.firstErr.CompareAndSwap(nil, err.Error())
				}
				select {
				case <-done:
					return
				case <-time.After(b.think):
				}
			}
		})
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func (b *bench) report(results []*result, load loadgate.Report) {
	fmt.Printf("\n%d saves per contender of %s on %s; %d background clients\n\n", b.saves, b.edit.file, b.site, b.clients)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "contender\tmedian\tmax\tmissed saves\trequests\tfailed\t")
	medians := map[string]time.Duration{}
	for _, r := range results {
		if r.startErr != nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t(did not start)\n", r.c.label)
			continue
		}
		med, mx := stats.Median(r.latency), slices.Max(append([]time.Duration{0}, r.latency...))
		medians[r.c.key] = med
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t\n", r.c.label, secs(med), secs(mx), r.missed, r.requests.Load(), r.failed.Load())
	}
	tw.Flush()
	for _, r := range results {
		if e, ok := r.firstErr.Load().(string); ok {
			fmt.Printf("first failure, %s: %s\n", r.c.label, e)
		}
	}
	for _, r := range results {
		if r.c.key == "devstack" && r.srv != nil {
			fmt.Printf("devstack's own log (first event to new worker booted): median %s\n", secs(stats.Median(reportedDurations(r.srv))))
		}
	}
	fmt.Printf("\n%s\n", load)
	d, okD := medians["devstack"]
	anchor := anchors[b.app]
	a, okA := medians[anchor]
	if okD && b.editKind == "template" {
		// The anchors may not reload at all for a template (Jinja2 and
		// Django's DEBUG loaders read it again on each request): the goal
		// is devstack's code-edit time, from a run with -edit code.
		verdict := fmt.Sprintf("compare with devstack's median under -edit code (a template edit must be live as fast as a code edit); %d failed, %d missed", devstackFailed(results), devstackMissed(results))
		if msg := load.NoVerdict(); msg != "" {
			verdict = msg
		}
		fmt.Printf("devstack median for a template edit = %s: %s\n", secs(d), verdict)
		return
	}
	if okD && okA && a > 0 {
		ratio := float64(d) / float64(a)
		var dev *result
		for _, r := range results {
			if r.c.key == "devstack" {
				dev = r
			}
		}
		met := ratio <= 0.5 && dev.failed.Load() == 0 && dev.missed == 0
		verdict := "met"
		if !met {
			verdict = "NOT met"
		}
		if msg := load.NoVerdict(); msg != "" {
			verdict = msg
		}
		label := anchor
		for _, r := range results {
			if r.c.key == anchor {
				label = r.c.label
			}
		}
		fmt.Printf("devstack median / %s median = %.2f; goal ≤ 0.50 with 0 failed requests and 0 missed saves: %s\n", label, ratio, verdict)
	}
}

func devstackFailed(results []*result) int64 {
	for _, r := range results {
		if r.c.key == "devstack" {
			return r.failed.Load()
		}
	}
	return 0
}

func devstackMissed(results []*result) int {
	for _, r := range results {
		if r.c.key == "devstack" {
			return r.missed
		}
	}
	return 0
}

// reportedDurations reads devstack's "reloaded in 412ms" lines.
func reportedDurations(s *server) []time.Duration {
	var out []time.Duration
	for _, l := range s.proc.keptLines() {
		if m := s.reported.FindStringSubmatch(l); m != nil {
			if d, err := time.ParseDuration(m[1]); err == nil {
				out = append(out, d)
			}
		}
	}
	return out
}

func secs(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f s", d.Seconds())
}
