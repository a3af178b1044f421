package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/devstack-dev/devstack/orchestrator/watch"
	"github.com/devstack-dev/devstack/proxy"
	"github.com/devstack-dev/devstack/templates"
)

func shopReport() *templates.StaticReport {
	return &templates.StaticReport{
		Framework: "django", StaticURL: "/static/", StaticFiles: true,
		StaticRoot: "/p/collected", MediaURL: "/media/", MediaRoot: "/p/uploads",
		Roots: []templates.StaticRoot{
			{Dir: "/p/assets", Source: "STATICFILES_DIRS"},
			{Prefix: "downloads", Dir: "/p/downloads", Source: "STATICFILES_DIRS"},
			{Dir: "/usr/lib/python3/dist-packages/django/contrib/admin/static", Source: "app django.contrib.admin", Installed: true},
		},
	}
}

func TestFileRoots(t *testing.T) {
	got := fmt.Sprint(FileRoots(shopReport()))
	want := fmt.Sprint([]proxy.FileRoot{
		{URLPrefix: "/static/", Dir: "/p/assets", Collected: true},
		{URLPrefix: "/static/downloads/", Dir: "/p/downloads", Collected: true},
		{URLPrefix: "/static/", Dir: "/usr/lib/python3/dist-packages/django/contrib/admin/static", Collected: true, FollowLinks: true},
		{URLPrefix: "/static/", Dir: "/p/collected"},
		{URLPrefix: "/media/", Dir: "/p/uploads"},
	})
	if got != want {
		t.Errorf("FileRoots:\n got %s\nwant %s", got, want)
	}

	whitenoise := shopReport()
	whitenoise.AppServes = []string{"whitenoise.middleware.WhiteNoiseMiddleware"}
	cdn := shopReport()
	cdn.StaticURL, cdn.MediaURL = "https://cdn.example.com/static/", "https://cdn.example.com/media/"
	noApp := shopReport()
	noApp.StaticFiles = false
	for name, c := range map[string]struct {
		rep  *templates.StaticReport
		want []proxy.FileRoot
	}{
		"whitenoise serves /static/":           {whitenoise, []proxy.FileRoot{{URLPrefix: "/media/", Dir: "/p/uploads"}}},
		"a CDN":                                {cdn, nil},
		"not Django":                           {nil, nil},
		"no staticfiles app: STATIC_ROOT only": {noApp, []proxy.FileRoot{{URLPrefix: "/static/", Dir: "/p/collected"}, {URLPrefix: "/media/", Dir: "/p/uploads"}}},
	} {
		if got, want := fmt.Sprint(FileRoots(c.rep)), fmt.Sprint(c.want); got != want {
			t.Errorf("%s: got %s, want %s", name, got, want)
		}
	}
}

// An upload or a stylesheet edit needs no reload: the proxy serves the
// file as it is on disk.
func TestServedFilesNeedNoReload(t *testing.T) {
	sf := &staticFiles{}
	roots := FileRoots(shopReport())
	sf.roots.Store(&roots)
	for _, c := range []struct {
		b    watch.Batch
		want bool
	}{
		{watch.Batch{Paths: []string{"uploads/photos/a.png"}}, false},
		{watch.Batch{Paths: []string{"assets/css/site.css", "downloads/x.csv"}}, false},
		{watch.Batch{Paths: []string{"assets/css/site.css", "shop/views.py"}}, true},
		{watch.Batch{Paths: []string{"assets/generate.py"}}, true},
		{watch.Batch{Paths: []string{"uploads/a.png"}, NeedsRestart: true}, true},
		{watch.Batch{Overflow: true, NeedsRestart: true}, true},
		{watch.Batch{Paths: []string{"assets-old/x.css"}}, true},
	} {
		if got := sf.needsReload("/p", c.b); got != c.want {
			t.Errorf("needsReload(%v) = %v, want %v", c.b.Paths, got, c.want)
		}
	}
	// A root holding the whole project tells nothing.
	whole := []proxy.FileRoot{{URLPrefix: "/static/", Dir: "/p"}}
	sf.roots.Store(&whole)
	if !sf.needsReload("/p", watch.Batch{Paths: []string{"templates/index.html"}}) {
		t.Error("STATICFILES_DIRS = [BASE_DIR]: a template edit did not reload")
	}
	var none staticFiles
	if !none.needsReload("/p", watch.Batch{Paths: []string{"uploads/a.png"}}) {
		t.Error("before the app answered: no reload")
	}
}

// After a reload the stack waits (briefly) for a worker of the new
// generation: an old worker still answering has the old settings.
func TestStaticRefreshWaitsForTheNewGeneration(t *testing.T) {
	var asked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gen, dir := 1, "/old"
		if asked.Add(1) > 3 {
			gen, dir = 2, "/new"
		}
		rep := shopReport()
		rep.Roots = []templates.StaticRoot{{Dir: dir}}
		json.NewEncoder(w).Encode(templates.StaticAnswer{PID: 1, Generation: gen, Static: rep})
	}))
	defer srv.Close()
	sf := newStaticFiles(strings.TrimPrefix(srv.URL, "http://"), "/.devstack/probe/x")
	if msg := sf.refresh(context.Background(), 2); !strings.Contains(msg, "/static/ served by devstack from the 1 directory the staticfiles finders search, then STATIC_ROOT") {
		t.Errorf("summary %q", msg)
	}
	if roots := sf.current(); len(roots) == 0 || roots[0].Dir != "/new" {
		t.Errorf("roots %+v, want the new generation's", roots)
	}
	if msg := sf.refresh(context.Background(), 2); msg != "" {
		t.Errorf("the same roots again: %q, want no line", msg)
	}
}

func TestStaticRefreshWithoutAnAnswer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	sf := newStaticFiles(strings.TrimPrefix(srv.URL, "http://"), "/.devstack/probe/x")
	if msg := sf.refresh(context.Background(), 0); !strings.Contains(msg, "could not ask the app") {
		t.Errorf("summary %q", msg)
	}
	if msg := sf.refresh(context.Background(), 0); msg != "" {
		t.Errorf("said twice: %q", msg)
	}
	if roots := sf.current(); roots != nil {
		t.Errorf("roots %+v without an answer", roots)
	}
}
