package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/doctor"
	"github.com/devstack-dev/devstack/internal/testenv"
)

// getFile sends GET path through the proxy and returns the response with
// its body.
func (r *upRun) getFile(path string) (*http.Response, string) {
	r.t.Helper()
	resp, err := r.httpsClient().Get(r.url(path))
	if err != nil {
		r.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// The first page a Django user opens after switching from runserver: the
// admin of a fresh startproject site, DEBUG = True, no whitenoise, behind
// gunicorn (which serves no static file). Its stylesheet comes from
// Django's own admin app, found through the project's finders.
func TestUpStartprojectAdminCSS(t *testing.T) {
	for _, tc := range []struct{ name, suite string }{{"django3.2", ""}, {"django5.2", "sid"}} {
		t.Run(tc.name, func(t *testing.T) {
			python := testenv.SystemPython(t)
			var env []string
			pythonpath := ""
			if tc.suite != "" {
				pythonpath = testenv.PythonSuite(t, tc.suite)
				env = []string{"PYTHONPATH=" + pythonpath}
			}
			dir := filepath.Join(t.TempDir(), "site")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(python, "-m", "django", "startproject", "mysite", dir)
			cmd.Env = testenv.PythonEnv(os.Environ(), pythonpath)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("startproject: %v\n%s", err, out)
			}
			r := startUp(t, upConfig{dir: dir, env: env})

			code, page := r.get("/admin/login/")
			if code != http.StatusOK || !strings.Contains(page, `href="/static/admin/css/base.css"`) {
				t.Fatalf("GET /admin/login/: %d, want the login page linking its stylesheet\n%.500s", code, page)
			}
			resp, css := r.getFile("/static/admin/css/base.css")
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
				t.Fatalf("GET /static/admin/css/base.css: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			loc := exec.Command(python, "-c", "import django, os; print(os.path.dirname(django.__file__))")
			loc.Env = testenv.PythonEnv(os.Environ(), pythonpath)
			out, err := loc.Output()
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "contrib", "admin", "static", "admin", "css", "base.css"))
			if err != nil {
				t.Fatal(err)
			}
			if css != string(want) {
				t.Errorf("base.css through devstack differs from Django's own (%d bytes, want %d)", len(css), len(want))
			}
			r.waitLine(`proxy +\| GET /static/admin/css/base.css 200`, 10*time.Second)
		})
	}
}

// Every place a Django project keeps files is served, files added while up
// runs are served at once, and a settings change is picked up at the reload.
func TestUpServesStaticAndMedia(t *testing.T) {
	testenv.SystemPython(t)
	r := startUp(t, upConfig{project: "django-static"})
	dir := strings.TrimSuffix(r.cmd.Args[3], "/")
	r.waitLine(`static files: /static/ served by devstack from the 9 directories the staticfiles finders search, then STATIC_ROOT; /media/ served by devstack from MEDIA_ROOT`, 10*time.Second)

	for path, want := range map[string]string{
		"/static/css/site.css":             "body { font-family: sans-serif; }\n",
		"/static/catalog/catalog.css":      ".product { border: 1px solid #ccc; }\n",
		"/static/downloads/price-list.csv": "item,price\nshoe,40\n",
		"/static/only-collected.css":       "/* written by collectstatic only */\n",
	} {
		if resp, body := r.getFile(path); resp.StatusCode != http.StatusOK || body != want {
			t.Errorf("GET %s: %d %q, want %q", path, resp.StatusCode, body, want)
		}
	}
	if resp, _ := r.getFile("/static/admin/js/core.js"); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /static/admin/js/core.js: %d", resp.StatusCode)
	}

	// A new stylesheet and an upload are served without a reload.
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := r.lineCount()
	write("assets/css/new.css", "new")
	write("uploads/photos/shoe.png", "\x89PNG")
	if resp, body := r.getFile("/static/css/new.css"); resp.StatusCode != http.StatusOK || body != "new" {
		t.Errorf("a stylesheet added while up runs: %d %q", resp.StatusCode, body)
	}
	if resp, body := r.getFile("/media/photos/shoe.png"); resp.StatusCode != http.StatusOK || body != "\x89PNG" ||
		resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("an upload: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// Nor do they reload the app (the watcher groups changes within 30 ms).
	time.Sleep(time.Second)
	for _, l := range r.lines.Items()[before:] {
		if strings.Contains(l, "reloading") {
			t.Errorf("a served file's change reloaded the app: %s", l)
		}
	}
	for _, path := range []string{"/static/../shop/settings.py", "/static/%2e%2e/shop/settings.py", "/media/%2E%2E/manage.py"} {
		if resp, body := r.getFile(path); resp.StatusCode != http.StatusBadRequest || strings.Contains(body, "SECRET_KEY") {
			t.Errorf("GET %s: %d, want 400", path, resp.StatusCode)
		}
	}

	// A new STATICFILES_DIRS entry is served after the reload its save causes.
	write("extra/banner.css", "banner")
	mark := r.lineCount()
	settings, err := os.ReadFile(filepath.Join(dir, "shop", "settings.py"))
	if err != nil {
		t.Fatal(err)
	}
	write("shop/settings.py", strings.Replace(string(settings), "    BASE_DIR / 'assets',\n",
		"    BASE_DIR / 'assets',\n    ('extra', BASE_DIR / 'extra'),\n", 1))
	r.waitLineAfter(mark, `static files: /static/ served by devstack from the 10 directories`, 60*time.Second)
	if resp, body := r.getFile("/static/extra/banner.css"); resp.StatusCode != http.StatusOK || body != "banner" {
		t.Errorf("a STATICFILES_DIRS entry added while up runs: %d %q", resp.StatusCode, body)
	}
}

// A project with whitenoise serves its own static files, under devstack as
// in production: the proxy leaves STATIC_URL to the app (whitenoise's own
// headers reach the browser) and still serves MEDIA_ROOT, which whitenoise
// never serves.
func TestUpLeavesStaticToWhitenoise(t *testing.T) {
	testenv.PythonWith(t, "django", "gunicorn", "whitenoise")
	r := startUp(t, upConfig{project: "django-static", env: []string{"SHOP_WHITENOISE=1"}})
	dir := r.cmd.Args[3]
	r.waitLine(`static files: /static/ left to the app: the app serves them itself \(whitenoise.middleware.WhiteNoiseMiddleware\); /media/ served by devstack from MEDIA_ROOT`, 10*time.Second)

	resp, body := r.getFile("/static/css/site.css")
	if resp.StatusCode != http.StatusOK || body != "body { font-family: sans-serif; }\n" {
		t.Fatalf("GET /static/css/site.css: %d %q", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Server"); got != "gunicorn" && !strings.HasPrefix(got, "gunicorn/") {
		t.Errorf("/static/css/site.css came from %q, want the app (gunicorn, through whitenoise)", got)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("no whitenoise header on /static/css/site.css: %v", resp.Header)
	}
	if err := os.MkdirAll(filepath.Join(dir, "uploads"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "uploads", "a.png"), []byte("png"), 0o644); err != nil {
		t.Fatal(err)
	}
	if resp, body := r.getFile("/media/a.png"); resp.StatusCode != http.StatusOK || body != "png" || resp.Header.Get("Server") != "" {
		t.Errorf("an upload beside whitenoise: %d %q from %q, want devstack's answer", resp.StatusCode, body, resp.Header.Get("Server"))
	}
}

// With DEBUG off and a manifest storage, pages link the hashed names
// collectstatic wrote to STATIC_ROOT: those are served from there, with
// the .gz siblings the compressing storage wrote, as nginx's gzip_static
// serves them.
func TestUpServesCollectedManifestFiles(t *testing.T) {
	python := testenv.PythonWith(t, "django", "gunicorn", "whitenoise")
	dir := copyProject(t, "django-static")
	env := []string{"SHOP_DEBUG=0", "SHOP_STORAGE=compressed-manifest"}
	collect := exec.Command(python, "manage.py", "collectstatic", "--noinput")
	collect.Dir = dir
	collect.Env = append(testenv.PythonEnv(os.Environ(), ""), env...)
	if out, err := collect.CombinedOutput(); err != nil {
		t.Fatalf("collectstatic: %v\n%s", err, out)
	}
	r := startUp(t, upConfig{dir: dir, env: env})
	code, page := r.get("/")
	// The admin's base.css: large enough to be worth compressing (a
	// compressing storage keeps a .gz only when it is smaller).
	_, link, ok := strings.Cut(page, `href="/static/admin/css/base.`)
	link, _, _ = strings.Cut(link, `"`)
	if code != http.StatusOK || !ok || link == "css" {
		t.Fatalf("GET /: %d, want a link to the hashed base.css\n%s", code, page)
	}
	path := "/static/admin/css/base." + link
	req, _ := http.NewRequest("GET", r.url(path), nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: r.httpsClient().Transport.(*http.Transport).TLSClientConfig,
		DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	zipped, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("GET %s with gzip: %d, Content-Encoding %q, Vary %q", path, resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
	}
	want, err := os.ReadFile(filepath.Join(dir, "collected", "admin", "css", "base."+link+".gz"))
	if err != nil || string(zipped) != string(want) {
		t.Errorf("GET %s with gzip: not the .gz collectstatic wrote (%v)", path, err)
	}
	if resp, body := r.getFile(path); resp.StatusCode != http.StatusOK || !strings.Contains(body, "DJANGO Admin styles") {
		t.Errorf("GET %s: %d %.80q", path, resp.StatusCode, body)
	}
}

// Flask serves its own static folder, under devstack as before: the proxy
// serves files for Django only, where gunicorn serves none.
func TestUpLeavesFlaskStaticToFlask(t *testing.T) {
	testenv.PythonWith(t, "flask", "gunicorn")
	dir := copyProject(t, "flask-app")
	if err := os.MkdirAll(filepath.Join(dir, "static"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "static", "app.css"), []byte("p { margin: 0 }"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startUp(t, upConfig{dir: dir})
	resp, body := r.getFile("/static/app.css")
	if resp.StatusCode != http.StatusOK || body != "p { margin: 0 }" {
		t.Fatalf("GET /static/app.css: %d %q", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Server"); !strings.HasPrefix(got, "gunicorn") {
		t.Errorf("/static/app.css came from %q, want Flask under gunicorn", got)
	}
	if strings.Contains(r.output(), "static files:") {
		t.Errorf("devstack claims static files for a Flask app:\n%s", r.output())
	}
}

// The doctor fails a project whose static files would include its settings.
func TestDoctorFailsPublishedSettings(t *testing.T) {
	testenv.SystemPython(t)
	code, r := doctorJSON(t, copyProject(t, "django-static"), []string{"SHOP_PUBLISH_BASE_DIR=1"})
	if code != 1 || r.status(doctor.IDStaticPublishesCode) != doctor.Fail {
		t.Errorf("STATICFILES_DIRS = [BASE_DIR]: exit %d, %s %q; want 1 and a failure", code, doctor.IDStaticPublishesCode, r.status(doctor.IDStaticPublishesCode))
	}
	if code, r := doctorJSON(t, copyProject(t, "django-static"), nil); code != 0 || r.status(doctor.IDStaticPublishesCode) != doctor.Pass {
		t.Errorf("the sample's own layout: exit %d, %s %q", code, doctor.IDStaticPublishesCode, r.status(doctor.IDStaticPublishesCode))
	}
}

// Django under uvicorn (its ASGI application) gets the same static files:
// the probe answers the stack's question in the ASGI app too.
func TestUpServesStaticUnderUvicorn(t *testing.T) {
	testenv.PythonWith(t, "django", "uvicorn")
	r := startUp(t, upConfig{project: "django-site", args: []string{"--app", "mysite.asgi:application"}})
	r.waitLine(`django app mysite.asgi:application .* served by uvicorn`, 10*time.Second)
	r.waitLine(`static files: /static/ served by devstack from the 7 directories the staticfiles finders search`, 10*time.Second)
	if resp, body := r.getFile("/static/admin/css/base.css"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "DJANGO Admin styles") {
		t.Errorf("GET /static/admin/css/base.css under uvicorn: %d %.80q", resp.StatusCode, body)
	}
}
