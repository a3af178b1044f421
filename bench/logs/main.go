//go:build unix

// Command logs measures devstack's log path: a process writing -lines lines
// (short, long, written in two parts, ANSI-coloured, in that rotation, each
// numbered) through `devstack up`, against the same process writing straight
// to a file.
//
//   - direct: the writer's output redirected to a file; the time is from the
//     writer's start to its exit.
//   - cat: the writer's output through a pipe that cat(1) copies to the
//     file; the time is until cat exits. No goal: it is the least any
//     reader of a process's pipe costs, devstack included.
//   - plain: the writer is a Procfile.dev process of `devstack up --no-tui`
//     whose output goes to a file; the time is from the writer's start until
//     its last line is in that file (or, if that line was lost, the note
//     that the writer exited). Every numbered line must be there; the lines
//     devstack said it skipped are printed beside those lost.
//   - tui: the same under a pseudo-terminal (script(1), 120x40), the TUI
//     drawing; the time is until the writer's last line is on the screen.
//     The TUI's "N lines skipped" figure is read off the screen and printed
//     (the screen cannot show which lines were drawn, so its exactness is
//     the TUI tests' to check).
//
// Rounds interleave the contenders. It prints the median time of each, the
// ratios to direct (goals: plain <= 1.2x, tui <= 1.5x), lines lost in plain
// mode (goal: none), the TUI's skipped count, and devstack's peak RSS
// (VmHWM) in each mode. The machine's load is printed, and with more load
// from other work than it has cores, no verdict is.
//
//	go run ./bench/logs                  3 rounds of 200,000 lines (~1 minute)
//	go run ./bench/logs -rounds 5 -lines 500000
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/devstack-dev/devstack/bench/internal/loadgate"
	"github.com/devstack-dev/devstack/bench/internal/loopback"
	"github.com/devstack-dev/devstack/bench/internal/stats"
	"github.com/devstack-dev/devstack/internal/repo"
)

// doneLine ends the writer's output: when it is seen, every line was.
const doneLine = "logs-bench-writer-done"

func main() {
	write := flag.Int("write", 0, "writer mode: write this many lines to stdout once -go exists, then exit")
	goFile := flag.String("go", "", "writer mode: wait for this file before writing")
	serve := flag.String("serve", "", "server mode: answer HTTP on this loopback port")
	rounds := flag.Int("rounds", 3, "rounds of each contender")
	lines := flag.Int("lines", 200000, "lines the writer writes")
	only := flag.String("only", "direct,cat,plain,tui", "contenders to run")
	devstack := flag.String("devstack", "", "a devstack binary to measure instead of building one")
	flag.Parse()
	switch {
	case *write > 0:
		os.Exit(writer(*write, *goFile))
	case *serve != "":
		ln, err := net.Listen("tcp", "127.0.0.1:"+*serve)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) }))
		return
	}
	b := &bench{rounds: *rounds, lines: *lines, devstack: *devstack, only: strings.Split(*only, ",")}
	if err := b.run(); err != nil {
		fmt.Fprintf(os.Stderr, "bench/logs: %v\n", err)
		os.Exit(1)
	}
}

// writer writes n numbered lines once goFile exists: short, long, in two
// writes, ANSI-coloured, in rotation, through a 4 KiB buffer as a
// line-buffered program's stdio would batch them, then the done line.
func writer(n int, goFile string) int {
	for goFile != "" {
		if _, err := os.Stat(goFile); err == nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	w := bufio.NewWriterSize(os.Stdout, 4096)
	long := strings.Repeat("lorem ipsum dolor sit amet ", 60) // ~1600 bytes
	for i := range n {
		switch i % 4 {
		case 0:
			fmt.Fprintf(w, "seq=%d short\n", i)
		case 1:
			fmt.Fprintf(w, "seq=%d long %s\n", i, long)
		case 2:
			fmt.Fprintf(w, "seq=%d partial first half, ", i)
			w.Flush()
			fmt.Fprintf(w, "second half\n")
		case 3:
			fmt.Fprintf(w, "\x1b[32mINFO\x1b[0m seq=%d \x1b[1mcoloured\x1b[0m request handled\n", i)
		}
	}
	fmt.Fprintln(w, doneLine)
	if err := w.Flush(); err != nil {
		return 1
	}
	return 0
}

type bench struct {
	rounds   int
	lines    int
	devstack string
	only     []string
	self     string
	work     string
}

// result is one contender's measurements over the rounds.
type result struct {
	name    string
	times   []time.Duration
	lost    []int // plain: numbered lines missing from the output
	skipped []int // tui: the skipped count on the screen, -1 if none shown
	rss     []int // devstack's peak RSS in KiB
}

func (b *bench) run() error {
	watch := loadgate.Start(os.Getpid())
	root, err := repo.Root()
	if err != nil {
		return fmt.Errorf("%w: run from the devstack checkout", err)
	}
	if b.work, err = os.MkdirTemp("", "devstack-logs-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.work)
	b.self = filepath.Join(b.work, "logsbench")
	fmt.Println("building devstack and the writer…")
	if out, err := exec.Command("go", "build", "-C", root, "-o", b.self, "./bench/logs").CombinedOutput(); err != nil {
		return fmt.Errorf("building the writer: %v\n%s", err, out)
	}
	if b.devstack == "" {
		b.devstack = filepath.Join(b.work, "devstack")
		if out, err := exec.Command("go", "build", "-C", root, "-o", b.devstack, ".").CombinedOutput(); err != nil {
			return fmt.Errorf("building devstack: %v\n%s", err, out)
		}
	}
	results := map[string]*result{}
	var order []string
	for _, name := range []string{"direct", "cat", "plain", "tui"} {
		if slices.Contains(b.only, name) {
			results[name] = &result{name: name}
			order = append(order, name)
		}
	}
	for round := range b.rounds {
		for i := range order {
			r := results[order[(i+round)%len(order)]]
			var err error
			switch r.name {
			case "direct":
				err = b.direct(r)
			case "cat":
				err = b.throughCat(r)
			case "plain":
				err = b.throughUp(r, false)
			case "tui":
				err = b.throughUp(r, true)
			}
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", r.name, round+1, err)
			}
			fmt.Printf("  round %d %-6s %s\n", round+1, r.name, r.times[len(r.times)-1].Round(time.Millisecond))
		}
	}
	b.report(order, results, watch.Stop())
	return nil
}

// outputFile creates the file a contender's output goes to, in a
// directory of its own.
func (b *bench) outputFile(contender string) (*os.File, error) {
	dir, err := os.MkdirTemp(b.work, contender+"-")
	if err != nil {
		return nil, err
	}
	return os.Create(filepath.Join(dir, "out.log"))
}

func (b *bench) direct(r *result) error {
	out, err := b.outputFile("direct")
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(b.self, "-write", strconv.Itoa(b.lines))
	cmd.Stdout = out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return err
	}
	r.times = append(r.times, time.Since(start))
	return nil
}

// throughCat runs the writer into a pipe that cat(1) copies to a file:
// what any reader of a process's pipe pays before doing anything with the
// lines (the time is until cat exits).
func (b *bench) throughCat(r *result) error {
	out, err := b.outputFile("cat")
	if err != nil {
		return err
	}
	defer out.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	writer := exec.Command(b.self, "-write", strconv.Itoa(b.lines))
	writer.Stdout = pw
	cat := exec.Command("cat")
	cat.Stdin, cat.Stdout = pr, out
	start := time.Now()
	if err := cat.Start(); err != nil {
		pr.Close()
		pw.Close()
		return err
	}
	pr.Close()
	err = writer.Run()
	pw.Close()
	if werr := cat.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	r.times = append(r.times, time.Since(start))
	return nil
}

// throughUp runs the writer as a Procfile.dev process of devstack up, in
// plain mode to a file or in the TUI under a pseudo-terminal.
func (b *bench) throughUp(r *result, tui bool) error {
	dir, err := os.MkdirTemp(b.work, r.name+"-")
	if err != nil {
		return err
	}
	goFile := filepath.Join(dir, "go")
	procfile := fmt.Sprintf("writer: %s -write %d -go %s\n", b.self, b.lines, goFile)
	if err := os.WriteFile(filepath.Join(dir, "Procfile.dev"), []byte(procfile), 0o644); err != nil {
		return err
	}
	port, err := loopback.FreePort()
	if err != nil {
		return err
	}
	appPort, err := loopback.FreePort()
	if err != nil {
		return err
	}
	args := []string{"up", "--dir", dir, "--port", strconv.Itoa(port), "--app-port", strconv.Itoa(appPort)}
	if !tui {
		args = append(args, "--no-tui")
	}
	args = append(args, "--", b.self, "-serve", "{port}")
	outPath := filepath.Join(dir, "out.log")
	out, err := os.Create(outPath)
	if err != nil {
		return err
	}
	defer out.Close()
	var cmd *exec.Cmd
	if tui {
		// script(1) gives devstack a terminal of 120x40 and copies the
		// screen to its stdout.
		line := "stty cols 120 rows 40; exec " + shellQuote(append([]string{b.devstack}, args...))
		cmd = exec.Command("script", "-qfec", line, "/dev/null")
	} else {
		cmd = exec.Command(b.devstack, args...)
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CAROOT="+filepath.Join(b.work, "ca"), "DEVSTACK_CACHE_DIR="+filepath.Join(b.work, "cache"), "TERM=xterm-256color")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if !waitFor(ctx, outPath, []byte("ready https://localhost:"+strconv.Itoa(port))) {
		return fmt.Errorf("devstack up did not say ready:\n%s", tail(outPath))
	}
	pid := devstackPID(cmd.Process.Pid, tui)
	start := time.Now()
	if err := os.WriteFile(goFile, nil, 0o644); err != nil {
		return err
	}
	// The writer's last line, or, if devstack dropped it, the note that
	// the writer exited, which comes after all its output.
	if !waitFor(ctx, outPath, []byte(doneLine), []byte("exited (exit code")) {
		return fmt.Errorf("neither the writer's last line nor its exit arrived:\n%s", tail(outPath))
	}
	r.times = append(r.times, time.Since(start))
	r.rss = append(r.rss, peakRSS(pid))
	stop()
	data, err := os.ReadFile(outPath)
	if err != nil {
		return err
	}
	if tui {
		r.skipped = append(r.skipped, lastSkipped(data))
	} else {
		r.lost = append(r.lost, missing(data, b.lines))
		r.skipped = append(r.skipped, skippedNotes(data))
	}
	return nil
}

var seqRE = regexp.MustCompile(`seq=(\d+) `)

// missing counts the numbered lines 0..n-1 absent from data.
func missing(data []byte, n int) int {
	seen := make([]bool, n)
	for _, m := range seqRE.FindAllSubmatch(data, -1) {
		if i, err := strconv.Atoi(string(m[1])); err == nil && i < n {
			seen[i] = true
		}
	}
	lost := 0
	for _, ok := range seen {
		if !ok {
			lost++
		}
	}
	return lost
}

var skippedNoteRE = regexp.MustCompile(`skipped (\d+) lines`)

// skippedNotes adds up the lines plain mode said it skipped.
func skippedNotes(data []byte) int {
	total := 0
	for _, m := range skippedNoteRE.FindAllSubmatch(data, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		total += n
	}
	return total
}

var skippedRE = regexp.MustCompile(`(\d+) lines skipped`)

// lastSkipped is the last "N lines skipped" the TUI drew, -1 if none.
func lastSkipped(screen []byte) int {
	all := skippedRE.FindAllSubmatch(screen, -1)
	if len(all) == 0 {
		return -1
	}
	n, _ := strconv.Atoi(string(all[len(all)-1][1]))
	return n
}

// waitFor polls path every 5 ms, reading only what was added, until it
// holds want or one of also. Of what was added it reads at most the last
// waitTail bytes: the lines waited for are among the last written (only
// devstack's own few lines may follow them), and reading all of a plain
// run's 90 MB as it grows would take the CPU devstack is measured on.
func waitFor(ctx context.Context, path string, want []byte, also ...[]byte) bool {
	needles := append([][]byte{want}, also...)
	longest := 0
	for _, n := range needles {
		longest = max(longest, len(n))
	}
	var off int64
	var carry []byte
	buf := make([]byte, 1<<20)
	for ctx.Err() == nil {
		f, err := os.Open(path)
		if err == nil {
			if fi, err := f.Stat(); err == nil && fi.Size()-off > waitTail {
				off, carry = fi.Size()-waitTail, nil
			}
			for {
				n, _ := f.ReadAt(buf, off)
				if n == 0 {
					break
				}
				off += int64(n)
				chunk := append(carry, buf[:n]...)
				for _, needle := range needles {
					if bytes.Contains(chunk, needle) {
						f.Close()
						return true
					}
				}
				carry = append([]byte(nil), chunk[max(0, len(chunk)-longest):]...)
			}
			f.Close()
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// waitTail is the most waitFor reads of what was added since its last look.
const waitTail = 256 << 10

// devstackPID is the devstack process: the command itself, or script's
// child under a terminal.
func devstackPID(pid int, underScript bool) int {
	if !underScript {
		return pid
	}
	for range 100 {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		if f := strings.Fields(string(data)); len(f) > 0 {
			if child, err := strconv.Atoi(f[0]); err == nil {
				return child
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return pid
}

// peakRSS is the process's peak resident set (VmHWM) in KiB, 0 if unknown.
func peakRSS(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

func tail(path string) string {
	data, _ := os.ReadFile(path)
	return string(data[max(0, len(data)-2000):])
}

func shellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

func (b *bench) report(order []string, results map[string]*result, load loadgate.Report) {
	fmt.Printf("\n%d lines per run (short, long ~1.6 KB, in two writes, ANSI-coloured), %d rounds\n\n", b.lines, b.rounds)
	fmt.Printf("%-7s %10s %10s   %s\n", "mode", "median", "max", "details")
	direct := stats.Median(resultTimes(results["direct"]))
	var verdicts []string
	for _, name := range order {
		r := results[name]
		med := stats.Median(r.times)
		details := ""
		if len(r.rss) > 0 {
			details += fmt.Sprintf("devstack peak RSS %.1f MiB; ", float64(slices.Max(r.rss))/1024)
		}
		switch name {
		case "cat":
			if direct > 0 {
				details += fmt.Sprintf("%.2fx direct: the floor for any reader of the pipe", float64(med)/float64(direct))
			}
		case "plain":
			lost := slices.Max(r.lost)
			details += fmt.Sprintf("lines lost %v, said skipped %v", r.lost, r.skipped)
			if direct > 0 {
				ratio := float64(med) / float64(direct)
				ok := ratio <= 1.2 && lost == 0
				verdicts = append(verdicts, fmt.Sprintf("plain / direct = %.2f (goal <= 1.20, no line lost): %s", ratio, metWord(ok)))
			}
		case "tui":
			details += fmt.Sprintf("skipped shown %v", r.skipped)
			if direct > 0 {
				ratio := float64(med) / float64(direct)
				ok := ratio <= 1.5
				verdicts = append(verdicts, fmt.Sprintf("tui / direct = %.2f (goal <= 1.50): %s", ratio, metWord(ok)))
			}
		}
		fmt.Printf("%-7s %10s %10s   %s\n", name, med.Round(time.Millisecond), slices.Max(r.times).Round(time.Millisecond), details)
	}
	fmt.Printf("\n%s\n", load)
	if msg := load.NoVerdict(); msg != "" {
		for _, v := range verdicts {
			fmt.Println(strings.TrimSuffix(strings.TrimSuffix(v, ": met"), ": NOT met"))
		}
		fmt.Println(msg)
		return
	}
	for _, v := range verdicts {
		fmt.Println(v)
	}
}

func resultTimes(r *result) []time.Duration {
	if r == nil {
		return nil
	}
	return r.times
}

func metWord(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
