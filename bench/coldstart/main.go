//go:build unix

// Command coldstart measures what `devstack up` adds to starting a project.
//
// It builds devstack once, then on testdata/django-site alternates two
// contenders for -rounds rounds:
//
//   - devstack: `devstack up` with an empty CAROOT and an empty
//     DEVSTACK_CACHE_DIR, as on a first run (a CA and a leaf are minted, the
//     interpreter is searched), from exec to the first HTTPS 200 from
//     /whoami/ through the proxy, by a client that trusts the new CA;
//   - gunicorn: `python3 -m gunicorn mysite.wsgi:application --bind
//     127.0.0.1:PORT` alone, from exec to the first HTTP 200 from /whoami/.
//
// Both are polled every 5 ms. It prints the median, min and max of each,
// the difference of the medians, and whether it is within the goal.
//
//	go run ./bench/coldstart [-rounds 10] [-goal 100ms]
//
// The machine's load is printed at the end; with more load from other work
// than it has cores, no verdict is printed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/devstack-dev/devstack/bench/internal/loadgate"
	"github.com/devstack-dev/devstack/bench/internal/loopback"
	"github.com/devstack-dev/devstack/bench/internal/stats"
	"github.com/devstack-dev/devstack/internal/repo"
)

type config struct {
	rounds   int
	warmup   int
	dir      string
	python   string
	devstack string
	goal     time.Duration
	poll     time.Duration
	timeout  time.Duration
	verbose  bool
	again    bool
}

func main() {
	var cfg config
	flag.IntVar(&cfg.rounds, "rounds", 10, "measured rounds of each contender")
	flag.IntVar(&cfg.warmup, "warmup", 1, "unmeasured rounds of each first, so both start from a warm page cache")
	flag.StringVar(&cfg.dir, "dir", "testdata/django-site", "the Django project, relative to the module root")
	flag.StringVar(&cfg.python, "python", "/usr/bin/python3", "the interpreter that runs gunicorn alone")
	flag.StringVar(&cfg.devstack, "devstack", "", "a devstack binary to measure instead of building one")
	flag.DurationVar(&cfg.goal, "goal", 100*time.Millisecond, "the most devstack may add (median)")
	flag.DurationVar(&cfg.poll, "poll", 5*time.Millisecond, "interval between requests")
	flag.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "longest wait for one start")
	flag.BoolVar(&cfg.again, "again", true, "after each first run, run devstack up again with the CA, leaf and interpreter check it kept")
	flag.BoolVar(&cfg.verbose, "v", false, "print devstack's output of each round, each line timed from exec")
	flag.Parse()
	if cfg.rounds < 1 {
		fmt.Fprintln(os.Stderr, "coldstart: -rounds must be at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "coldstart: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	watch := loadgate.Start(os.Getpid())
	root, err := repo.Root()
	if err != nil {
		return fmt.Errorf("%w: run from the devstack checkout", err)
	}
	if !filepath.IsAbs(cfg.dir) {
		cfg.dir = filepath.Join(root, cfg.dir)
	}
	if cfg.devstack == "" {
		tmp, err := os.MkdirTemp("", "coldstart-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		cfg.devstack = filepath.Join(tmp, "devstack")
		build := exec.CommandContext(ctx, "go", "build", "-o", cfg.devstack, ".")
		build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building devstack: %w", err)
		}
	}

	fmt.Printf("cold start on %s, %d rounds (+%d warm-up), polling every %s; load average %s\n",
		cfg.dir, cfg.rounds, cfg.warmup, cfg.poll, loadAverage())
	fmt.Printf("%-6s %10s %10s %10s %10s %10s %10s\n", "round", "gunicorn", "devstack", "ready line", "again", "cpu guni", "cpu dev")
	var guni, dev, announced, guniCPU, devCPU, devAgain, devAgainCPU []time.Duration
	for i := -cfg.warmup; i < cfg.rounds; i++ {
		// Alternate which goes first, so neither always runs right after
		// the other's clean-up.
		var g, d, again outcome
		steps := []func() error{
			func() (err error) { g, err = runGunicorn(ctx, cfg); return err },
			func() (err error) { d, again, err = runDevstack(ctx, cfg); return err },
		}
		if i%2 != 0 {
			slices.Reverse(steps)
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		label := "warm"
		if i >= 0 {
			label = strconv.Itoa(i + 1)
			guni, dev = append(guni, g.firstOK), append(dev, d.firstOK)
			guniCPU, devCPU = append(guniCPU, g.cpu), append(devCPU, d.cpu)
			if cfg.again {
				devAgain, devAgainCPU = append(devAgain, again.firstOK), append(devAgainCPU, again.cpu)
			}
			if d.announced > 0 {
				announced = append(announced, d.announced)
			}
		}
		said := "never"
		if d.announced > 0 {
			said = ms(d.announced)
		}
		fmt.Printf("%-6s %10s %10s %10s %10s %10s %10s\n", label, ms(g.firstOK), ms(d.firstOK), said, ms(again.firstOK), ms(g.cpu), ms(d.cpu))
		if cfg.verbose {
			fmt.Printf("%s%8s first HTTPS 200\n", d.output, ms(d.firstOK))
		}
	}
	fmt.Printf("load average now %s\n", loadAverage())
	summarize(cfg, guni, dev, announced, guniCPU, devCPU, devAgain, devAgainCPU, watch.Stop())
	return nil
}

func runGunicorn(ctx context.Context, cfg config) (outcome, error) {
	port, err := loopback.FreePort()
	if err != nil {
		return outcome{}, err
	}
	o, err := measure(ctx, start{
		argv:    []string{cfg.python, "-m", "gunicorn", "mysite.wsgi:application", "--bind", "127.0.0.1:" + strconv.Itoa(port)},
		dir:     cfg.dir,
		env:     os.Environ(),
		url:     fmt.Sprintf("http://127.0.0.1:%d/whoami/", port),
		appPort: port,
	}, cfg.poll, cfg.timeout)
	return o, err
}

// runDevstack measures a first run, with a new CAROOT and cache directory,
// then, with -again, a second run that finds what the first one kept.
func runDevstack(ctx context.Context, cfg config) (first, again outcome, err error) {
	caroot, err := os.MkdirTemp("", "coldstart-caroot-")
	if err != nil {
		return first, again, err
	}
	defer os.RemoveAll(caroot)
	cache, err := os.MkdirTemp("", "coldstart-cache-")
	if err != nil {
		return first, again, err
	}
	defer os.RemoveAll(cache)
	if first, err = runDevstackWith(ctx, cfg, caroot, cache); err != nil || !cfg.again {
		return first, again, err
	}
	again, err = runDevstackWith(ctx, cfg, caroot, cache)
	return first, again, err
}

func runDevstackWith(ctx context.Context, cfg config, caroot, cache string) (outcome, error) {
	port, err := loopback.FreePort()
	if err != nil {
		return outcome{}, err
	}
	appPort, err := loopback.FreePort()
	if err != nil {
		return outcome{}, err
	}
	if appPort == port {
		return outcome{}, errors.New("got the same free port twice")
	}
	return measure(ctx, start{
		argv: []string{cfg.devstack, "up", "--dir", cfg.dir,
			"--port", strconv.Itoa(port), "--app-port", strconv.Itoa(appPort)},
		dir:         cfg.dir,
		env:         append(os.Environ(), "CAROOT="+caroot, "DEVSTACK_CACHE_DIR="+cache),
		url:         fmt.Sprintf("https://localhost:%d/whoami/", port),
		caFile:      filepath.Join(caroot, "rootCA.pem"),
		readyMarker: "devstack | ready https://",
		appPort:     appPort,
	}, cfg.poll, cfg.timeout)
}

func summarize(cfg config, guni, dev, announced, guniCPU, devCPU, devAgain, devAgainCPU []time.Duration, load loadgate.Report) {
	fmt.Println()
	fmt.Printf("%-34s %10s %10s %10s\n", "", "median", "min", "max")
	row := func(name string, d []time.Duration) {
		if len(d) == 0 || slices.Max(d) == 0 {
			return
		}
		fmt.Printf("%-34s %10s %10s %10s\n", name, ms(stats.Median(d)), ms(slices.Min(d)), ms(slices.Max(d)))
	}
	row("gunicorn alone, HTTP 200", guni)
	row("devstack up, HTTPS 200", dev)
	row("devstack says ready", announced)
	row("devstack up again, HTTPS 200", devAgain)
	row("CPU to the 200, gunicorn alone", guniCPU)
	row("CPU to the 200, devstack up", devCPU)
	row("CPU to the 200, devstack again", devAgainCPU)
	if slices.Max(devCPU) > 0 {
		fmt.Printf("\ndevstack's processes use %s more CPU to the first 200 (medians; 10 ms grain)\n", ms(stats.Median(devCPU)-stats.Median(guniCPU)))
	}
	paired := make([]time.Duration, len(dev))
	for i := range dev {
		paired[i] = dev[i] - guni[i]
	}
	added := stats.Median(dev) - stats.Median(guni)
	verdict := "met"
	if added > cfg.goal {
		verdict = "NOT met"
	}
	fmt.Printf("per round, devstack - gunicorn: median %s, min %s, max %s\n", ms(stats.Median(paired)), ms(slices.Min(paired)), ms(slices.Max(paired)))
	fmt.Printf("\n%s\n", load)
	if msg := load.NoVerdict(); msg != "" {
		verdict = msg
	}
	fmt.Printf("devstack adds %s (median devstack - median gunicorn); goal <= %s: %s\n", ms(added), ms(cfg.goal), verdict)
}

// ms formats a duration in whole milliseconds.
func ms(d time.Duration) string {
	return strconv.FormatInt(d.Round(time.Millisecond).Milliseconds(), 10) + " ms"
}
