package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/devstack-dev/devstack/internal/procattr"
	"github.com/devstack-dev/devstack/internal/record"
)

// proc is one server process the bench started, in its own process group so
// that stopping it takes every worker and reloader child along.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}

	lines *record.Log[string] // the last logKeep lines of stdout+stderr
	keep  *regexp.Regexp      // lines matching keep are also kept in kept, all of them
	log   io.Writer           // every line, with the time it was read, if not nil

	mu   sync.Mutex
	kept []string
}

const logKeep = 200

// startProc starts argv in dir with extra environment. Every output line
// matching keep (nil: none) is kept for keptLines; of the others only the
// last few are.
func startProc(dir string, env []string, keep *regexp.Regexp, log io.Writer, argv ...string) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = procattr.Group()
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	p := &proc{cmd: cmd, exited: make(chan struct{}), lines: record.NewBounded[string](logKeep), keep: keep, log: log}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", strings.Join(argv, " "), err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if log != nil {
				fmt.Fprintf(log, "%s %s\n", time.Now().Format("15:04:05.000"), sc.Text())
			}
			if keep != nil && keep.MatchString(sc.Text()) {
				p.mu.Lock()
				p.kept = append(p.kept, sc.Text())
				p.mu.Unlock()
			}
			p.lines.Add(sc.Text())
		}
		io.Copy(io.Discard, r)
	}()
	go func() {
		cmd.Wait()
		w.Close()
		close(p.exited)
	}()
	return p, nil
}

// waitLine waits for an output line matching re, counting from the start.
func (p *proc) waitLine(ctx context.Context, re *regexp.Regexp) error {
	_, _, err := p.lines.Wait(ctx, 0, p.exited, re.MatchString)
	switch {
	case errors.Is(err, record.ErrStopped):
		return fmt.Errorf("exited before printing %q:\n%s", re, p.tail(20))
	case err != nil:
		return fmt.Errorf("no line matching %q: %w\n%s", re, err, p.tail(20))
	}
	return nil
}

// keptLines returns the lines that matched keep so far.
func (p *proc) keptLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.kept...)
}

func (p *proc) tail(n int) string { return strings.Join(p.lines.Last(n), "\n") }

func (p *proc) signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// stop sends SIGTERM to the whole group, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	pgid := p.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
	}
	// Workers or reloader children may outlive their leader.
	syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(grace):
	}
}

// copyTree copies the sample site into dst, leaving out __pycache__.
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if info.IsDir() {
			if info.Name() == "__pycache__" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, info.Mode().Perm())
	})
}
