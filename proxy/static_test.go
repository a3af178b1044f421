package proxy

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// appCounter answers every request with "upstream <path>" and counts
// them, so a test can tell the proxy's own answers from the app's.
type appCounter struct {
	url   string
	count atomic.Int64
}

func newAppCounter(t *testing.T) *appCounter {
	u := &appCounter{}
	srv := newEchoUpstream(t)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.count.Add(1)
		w.Write([]byte("upstream " + r.URL.Path))
	})
	u.url = srv.URL
	return u
}

// writeFiles creates files (slash-separated names relative to dir) with
// the given contents.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// startFileProxy starts a proxy serving roots in front of a counting
// upstream.
func startFileProxy(t *testing.T, roots ...FileRoot) (*testProxy, *appCounter) {
	t.Helper()
	up := newAppCounter(t)
	tp := startProxy(t, up.url, Config{Files: func() []FileRoot { return roots }})
	return tp, up
}

func TestStaticServesFileWithNginxHeaders(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"admin/css/base.css": "body { color: red }\n", "data.bin": "\x00\x01<html>"})
	tp, up := startFileProxy(t, FileRoot{URLPrefix: "/static/", Dir: dir, Collected: true})

	for _, c := range []*http.Client{tp.h1, tp.h2} {
		resp, body := tp.do(c, "GET", "/static/admin/css/base.css?v=2", nil, nil)
		if resp.StatusCode != 200 || body != "body { color: red }\n" {
			t.Fatalf("GET base.css: %d %q", resp.StatusCode, body)
		}
		if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
			t.Errorf("Content-Type: got %q, want text/css", got)
		}
		if resp.Header.Get("ETag") == "" || resp.Header.Get("Last-Modified") == "" {
			t.Errorf("no ETag or Last-Modified: %v", resp.Header)
		}
		if got := resp.Header.Get("Vary"); got != "" {
			t.Errorf("Vary without a precompressed sibling: %q", got)
		}
	}
	// A type nginx does not know is never sniffed (an uploaded file could
	// otherwise be served as HTML).
	resp, _ := tp.do(tp.h1, "GET", "/static/data.bin", nil, nil)
	if got, want := resp.Header.Get("Content-Type"), "application/octet-stream"; got != want {
		t.Errorf("Content-Type of data.bin: got %q, want %q", got, want)
	}
	if n := up.count.Load(); n != 0 {
		t.Errorf("the upstream was asked %d times for files the proxy holds", n)
	}
	rec := tp.nextAccess()
	if rec.File != filepath.Join(dir, "admin/css/base.css") || rec.Status != 200 || rec.BytesOut != 20 {
		t.Errorf("access record: file %q, status %d, %d bytes", rec.File, rec.Status, rec.BytesOut)
	}
}

func TestStaticConditionalAndRangeRequests(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"app.js": "0123456789"})
	tp, _ := startFileProxy(t, FileRoot{URLPrefix: "/static/", Dir: dir})

	first, _ := tp.do(tp.h1, "GET", "/static/app.js", nil, nil)
	etag, modified := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
	resp, body := tp.do(tp.h1, "GET", "/static/app.js", http.Header{"If-None-Match": {etag}}, nil)
	if resp.StatusCode != 304 || body != "" {
		t.Errorf("If-None-Match with the ETag: %d %q, want 304 and no body", resp.StatusCode, body)
	}
	resp, _ = tp.do(tp.h1, "GET", "/static/app.js", http.Header{"If-Modified-Since": {modified}}, nil)
	if resp.StatusCode != 304 {
		t.Errorf("If-Modified-Since Last-Modified: %d, want 304", resp.StatusCode)
	}
	resp, body = tp.do(tp.h1, "GET", "/static/app.js", http.Header{"Range": {"bytes=2-4"}}, nil)
	if resp.StatusCode != 206 || body != "234" || resp.Header.Get("Content-Range") != "bytes 2-4/10" {
		t.Errorf("Range bytes=2-4: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
	}
	resp, body = tp.do(tp.h1, "HEAD", "/static/app.js", nil, nil)
	if resp.StatusCode != 200 || body != "" || resp.ContentLength != 10 {
		t.Errorf("HEAD: %d %q length %d", resp.StatusCode, body, resp.ContentLength)
	}

	// An edit is served at once, with a new ETag.
	later := time.Now().Add(2 * time.Second)
	writeFiles(t, dir, map[string]string{"app.js": "changed"})
	os.Chtimes(filepath.Join(dir, "app.js"), later, later)
	resp, body = tp.do(tp.h1, "GET", "/static/app.js", http.Header{"If-None-Match": {etag}}, nil)
	if resp.StatusCode != 200 || body != "changed" || resp.Header.Get("ETag") == etag {
		t.Errorf("after an edit: %d %q ETag %q (was %q)", resp.StatusCode, body, resp.Header.Get("ETag"), etag)
	}
}

func TestStaticPrecompressedSiblings(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("plain text"))
	zw.Close()
	writeFiles(t, dir, map[string]string{"a.css": "plain text", "a.css.gz": gz.String(), "a.css.br": "brotli bytes",
		"b.css": "only gzip", "b.css.gz": gz.String()})
	tp, _ := startFileProxy(t, FileRoot{URLPrefix: "/static/", Dir: dir})

	// Go's transport would decode gzip itself if it asked for it; the
	// tests ask explicitly, so they see the bytes on the wire.
	cases := []struct {
		path, accept, encoding, body string
	}{
		{"/static/a.css", "", "", "plain text"},
		{"/static/a.css", "gzip, deflate", "gzip", gz.String()},
		{"/static/a.css", "gzip, br", "br", "brotli bytes"},
		{"/static/a.css", "br;q=0, gzip;q=0.5", "gzip", gz.String()},
		{"/static/a.css", "gzip;q=0", "", "plain text"},
		{"/static/b.css", "br", "", "only gzip"},
		{"/static/b.css", "br, GZIP", "gzip", gz.String()},
	}
	for _, c := range cases {
		resp, body := tp.do(tp.h1, "GET", c.path, http.Header{"Accept-Encoding": {c.accept}}, nil)
		if resp.StatusCode != 200 || body != c.body || resp.Header.Get("Content-Encoding") != c.encoding {
			t.Errorf("%s with Accept-Encoding %q: %d, encoding %q, body %q; want encoding %q, body %q",
				c.path, c.accept, resp.StatusCode, resp.Header.Get("Content-Encoding"), body, c.encoding, c.body)
		}
		if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
			t.Errorf("%s with Accept-Encoding %q: Content-Type %q, want the original's", c.path, c.accept, got)
		}
		if got := resp.Header.Get("Vary"); got != "Accept-Encoding" {
			t.Errorf("%s with Accept-Encoding %q: Vary %q, want Accept-Encoding", c.path, c.accept, got)
		}
	}
	plain, _ := tp.do(tp.h1, "GET", "/static/a.css", http.Header{"Accept-Encoding": {""}}, nil)
	zipped, _ := tp.do(tp.h1, "GET", "/static/a.css", http.Header{"Accept-Encoding": {"gzip"}}, nil)
	if plain.Header.Get("ETag") == zipped.Header.Get("ETag") {
		t.Errorf("the gzip variant has the ETag of the plain file: %s", plain.Header.Get("ETag"))
	}
}

func TestStaticFallsThroughToTheApp(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"css/site.css": "x", ".env": "SECRET=1", "css/old.css~": "x", "CVS/Entries": "x"})
	tp, up := startFileProxy(t, FileRoot{URLPrefix: "/static/", Dir: dir, Collected: true})

	for _, c := range []struct{ method, path string }{
		{"GET", "/static/missing.css"},
		{"GET", "/static/css/"}, // a directory
		{"GET", "/static/"},     // the root itself
		{"POST", "/static/css/site.css"},
		{"GET", "/static"}, // not under the prefix
		{"GET", "/other/site.css"},
		{"GET", "/static/.env"}, // collectstatic never collects hidden files
		{"GET", "/static/css/old.css~"},
		{"GET", "/static/CVS/Entries"},
	} {
		before := up.count.Load()
		resp, body := tp.do(tp.h1, c.method, c.path, nil, strings.NewReader(""))
		if resp.StatusCode != 200 || body != "upstream "+c.path || up.count.Load() != before+1 {
			t.Errorf("%s %s: %d %q; want the app's answer", c.method, c.path, resp.StatusCode, body)
		}
	}
}

func TestStaticRefusesPathsOutOfTheRoot(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "static")
	writeFiles(t, base, map[string]string{"secret.txt": "secret", "static/ok.css": "ok", "static/sub/in.css": "in"})
	if err := os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(dir, "leak.css")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(base, filepath.Join(dir, "up")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/in.css", filepath.Join(dir, "inside.css")); err != nil {
		t.Fatal(err)
	}
	// Out of its own directory, but not out of the root.
	writeFiles(t, dir, map[string]string{"other/plain.css": "plain"})
	if err := os.Symlink("../sub/in.css", filepath.Join(dir, "other", "sibling.css")); err != nil {
		t.Fatal(err)
	}
	tp, up := startFileProxy(t, FileRoot{URLPrefix: "/static/", Dir: dir})

	for _, c := range []struct {
		path   string
		status int
	}{
		{"/static/../secret.txt", 400},
		{"/static/sub/../../secret.txt", 400},
		{"/static/%2e%2e/secret.txt", 400},
		{"/static/%2E%2E%2fsecret.txt", 400},
		{"/static/ok.css%00.png", 400},
		{"/static/sub/..", 400},
		{"/static/leak.css", 403},
		{"/static/up/secret.txt", 403},
	} {
		resp, body := tp.do(tp.h1, "GET", c.path, nil, nil)
		if resp.StatusCode != c.status || strings.Contains(body, "secret") {
			t.Errorf("GET %s: %d %q, want %d", c.path, resp.StatusCode, body, c.status)
		}
		if rec := tp.nextAccess(); rec.ClientError == nil {
			t.Errorf("GET %s: the access record gives no reason for the refusal", c.path)
		}
	}
	if n := up.count.Load(); n != 0 {
		t.Errorf("refused requests reached the upstream %d times", n)
	}
	// A link that stays inside the tree is an ordinary file.
	for _, path := range []string{"/static/inside.css", "/static/other/sibling.css"} {
		if resp, body := tp.do(tp.h1, "GET", path, nil, nil); resp.StatusCode != 200 || body != "in" {
			t.Errorf("%s, a link inside the tree: %d %q", path, resp.StatusCode, body)
		}
	}
}

func TestStaticFollowsLinksOfInstalledPackages(t *testing.T) {
	base := t.TempDir()
	writeFiles(t, base, map[string]string{"share/jquery.js": "jquery", "pkg/static/admin/x.css": "x"})
	if err := os.Symlink(filepath.Join(base, "share/jquery.js"), filepath.Join(base, "pkg/static/admin/jquery.js")); err != nil {
		t.Fatal(err)
	}
	tp, _ := startFileProxy(t, FileRoot{URLPrefix: "/static/", Dir: filepath.Join(base, "pkg/static"), FollowLinks: true})
	if resp, body := tp.do(tp.h1, "GET", "/static/admin/jquery.js", nil, nil); resp.StatusCode != 200 || body != "jquery" {
		t.Errorf("a link of an installed package: %d %q", resp.StatusCode, body)
	}
	if resp, _ := tp.do(tp.h1, "GET", "/static/../share/jquery.js", nil, nil); resp.StatusCode != 400 {
		t.Errorf(`".." under a root that follows links: %d, want 400`, resp.StatusCode)
	}
}

// The roots are searched in order, as Django's finders are, and a root
// created while the proxy runs (MEDIA_ROOT before the first upload) serves
// at once.
func TestStaticRootsInOrder(t *testing.T) {
	base := t.TempDir()
	first, second, media := filepath.Join(base, "first"), filepath.Join(base, "second"), filepath.Join(base, "media")
	writeFiles(t, base, map[string]string{"first/a.css": "first", "second/a.css": "second", "second/b.css": "second b",
		"downloads/report.csv": "1,2"})
	tp, _ := startFileProxy(t,
		FileRoot{URLPrefix: "/static/", Dir: first},
		FileRoot{URLPrefix: "/static/", Dir: second},
		FileRoot{URLPrefix: "/static/downloads/", Dir: filepath.Join(base, "downloads")},
		FileRoot{URLPrefix: "/media/", Dir: media},
	)
	for path, want := range map[string]string{
		"/static/a.css":                "first",
		"/static/b.css":                "second b",
		"/static/downloads/report.csv": "1,2",
		"/media/upload.png":            "upstream /media/upload.png",
	} {
		if _, body := tp.do(tp.h1, "GET", path, nil, nil); body != want {
			t.Errorf("GET %s: %q, want %q", path, body, want)
		}
	}
	writeFiles(t, media, map[string]string{"upload.png": "png"})
	if resp, body := tp.do(tp.h1, "GET", "/media/upload.png", nil, nil); body != "png" || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("an upload: %q %q", resp.Header.Get("Content-Type"), body)
	}
}

func TestAcceptedEncodings(t *testing.T) {
	for header, want := range map[string]string{
		"":                        "",
		"gzip":                    "gzip",
		"gzip, deflate, br, zstd": "gzip deflate br zstd",
		"br;q=0, GZip ; q=0.8":    "gzip",
		"gzip;q=0.000, identity":  "identity",
		"gzip;q=bogus":            "",
	} {
		if got := strings.Join(acceptedEncodings(header), " "); got != want {
			t.Errorf("acceptedEncodings(%q) = %q, want %q", header, got, want)
		}
	}
}
