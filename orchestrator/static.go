package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/orchestrator/watch"
	"github.com/devstack-dev/devstack/proxy"
	"github.com/devstack-dev/devstack/templates"
)

// staticFiles holds the directories the proxy serves static and media
// files from, as the app's own settings and finders name them. The app is
// asked once it first answers and again after every reload (the settings
// are code); the files themselves are looked up per request, so adding or
// editing one needs no reload.
type staticFiles struct {
	roots  atomic.Pointer[[]proxy.FileRoot]
	client *http.Client
	url    string // the probe's StaticPath on the gateway, over plain http

	mu          sync.Mutex // one refresh at a time
	lastSummary string
}

func newStaticFiles(gatewayAddr, probePath string) *staticFiles {
	return &staticFiles{
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}},
		url:    "http://" + gatewayAddr + templates.StaticPath(probePath),
	}
}

// current is the proxy's Config.Files.
func (sf *staticFiles) current() []proxy.FileRoot {
	if r := sf.roots.Load(); r != nil {
		return *r
	}
	return nil
}

// ask fetches the app's static answer straight from the gateway; the proxy
// is not involved, so it shows in no access log.
func (sf *staticFiles) ask(ctx context.Context) (templates.StaticAnswer, error) {
	var ans templates.StaticAnswer
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sf.url, nil)
	if err != nil {
		return ans, err
	}
	resp, err := sf.client.Do(req)
	if err != nil {
		return ans, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ans, &answerError{resp.Status}
	}
	err = json.NewDecoder(resp.Body).Decode(&ans)
	return ans, err
}

// answerError is an answer other than the probe's JSON.
type answerError struct{ status string }

func (e *answerError) Error() string { return "the app answered " + e.status }

// refresh asks the app where its files are, from a worker of generation
// minGen or later (0: any), trying for up to two seconds while older
// workers still answer, and installs the roots. It returns a line for the
// log when what is served changed, "" otherwise.
func (sf *staticFiles) refresh(ctx context.Context, minGen int) string {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var ans templates.StaticAnswer
	var err error
	for {
		ans, err = sf.ask(ctx)
		var answered *answerError
		if errors.As(err, &answered) || err == nil && (ans.Generation >= minGen || ans.Generation == 0) {
			break // asking again would get the same answer
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
			continue
		}
		break
	}
	if err != nil {
		// Keep what was served: the gateway may be restarting. Say so
		// once, since until the next reload the files go to the app.
		summary := fmt.Sprintf("static files: could not ask the app where they are (%v); asking again at the next reload", err)
		if sf.current() != nil || sf.lastSummary == summary {
			return ""
		}
		sf.lastSummary = summary
		return summary
	}
	roots := FileRoots(ans.Static)
	sf.roots.Store(&roots)
	summary := describeStatic(ans.Static)
	if summary == sf.lastSummary {
		return ""
	}
	sf.lastSummary = summary
	return summary
}

// FileRoots are the directories a proxy serves for rep: STATIC_URL from
// the finders' directories then STATIC_ROOT, MEDIA_URL from MEDIA_ROOT,
// each only where the app does not serve them itself (see
// templates.StaticReport.ProxyServesStatic).
func FileRoots(rep *templates.StaticReport) []proxy.FileRoot {
	var roots []proxy.FileRoot
	if ok, _ := rep.ProxyServesStatic(); ok {
		if rep.StaticFiles {
			for _, r := range rep.Roots {
				prefix := rep.StaticURL
				if r.Prefix != "" {
					prefix += r.Prefix + "/"
				}
				roots = append(roots, proxy.FileRoot{URLPrefix: prefix, Dir: r.Dir, Collected: true, FollowLinks: r.Installed})
			}
		}
		if rep.StaticRoot != "" {
			roots = append(roots, proxy.FileRoot{URLPrefix: rep.StaticURL, Dir: rep.StaticRoot})
		}
	}
	if rep.ProxyServesMedia() {
		roots = append(roots, proxy.FileRoot{URLPrefix: rep.MediaURL, Dir: rep.MediaRoot})
	}
	return roots
}

// describeStatic says who serves the static and media files, for the log.
func describeStatic(rep *templates.StaticReport) string {
	if rep == nil {
		return "" // not Django: the app serves its own files, as always
	}
	if rep.Error != "" {
		return "static files: the settings could not be read: " + rep.Error
	}
	var parts []string
	if ok, why := rep.ProxyServesStatic(); ok {
		from := "STATIC_ROOT"
		if rep.StaticFiles {
			n := len(rep.Roots)
			from = fmt.Sprintf("the %d director%s the staticfiles finders search", n, map[bool]string{true: "y", false: "ies"}[n == 1])
			if rep.StaticRoot != "" {
				from += ", then STATIC_ROOT"
			}
		}
		parts = append(parts, fmt.Sprintf("%s served by devstack from %s", rep.StaticURL, from))
		if len(rep.UnservedFinders) > 0 {
			parts = append(parts, fmt.Sprintf("the files of %s go to the app", strings.Join(rep.UnservedFinders, ", ")))
		}
	} else if rep.StaticURL != "" {
		parts = append(parts, fmt.Sprintf("%s left to the app: %s", rep.StaticURL, why))
	}
	if rep.ProxyServesMedia() {
		parts = append(parts, fmt.Sprintf("%s served by devstack from MEDIA_ROOT (%s)", rep.MediaURL, rep.MediaRoot))
	}
	if len(parts) == 0 {
		return ""
	}
	return "static files: " + strings.Join(parts, "; ")
}

// needsReload reports whether b, a batch of changes under root, holds
// anything besides files the proxy serves from disk: an upload to
// MEDIA_ROOT or a stylesheet edit is live at once, without reloading the
// app (the watcher's built-in ignores only know the usual directory names).
func (sf *staticFiles) needsReload(root string, b watch.Batch) bool {
	roots := sf.current()
	if b.NeedsRestart || b.Overflow || len(b.Paths) == 0 || len(roots) == 0 {
		return true
	}
	// A root holding the whole project (STATICFILES_DIRS = [BASE_DIR])
	// says nothing about which files are code.
	served := func(p string) bool {
		return slices.ContainsFunc(roots, func(r proxy.FileRoot) bool { return !within(root, r.Dir) && within(p, r.Dir) })
	}
	for _, p := range b.Paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, filepath.FromSlash(p))
		}
		if strings.HasSuffix(p, ".py") || !served(p) {
			return true
		}
	}
	return false
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// followStatic asks the app where its files are again after every reload
// that succeeded, until ctx ends.
func (s *Stack) followStatic(ctx context.Context) {
	sub := s.bus.Subscribe()
	defer sub.Close()
	go func() { <-ctx.Done(); sub.Close() }()
	for e := range sub.Events() {
		if e.Kind == events.KindReloadFinish && e.Reload != nil && e.Reload.Err == "" {
			_, gen, _ := s.marks.snapshot()
			s.announceStatic(s.files.refresh(ctx, gen))
		}
	}
}

func (s *Stack) announceStatic(summary string) {
	if summary != "" {
		s.bus.Publish(events.Event{Kind: events.KindMessage, Source: events.SourceDevstack, Text: summary})
	}
}
