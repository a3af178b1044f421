package templates

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
)

func readShopStatic(t *testing.T, env ...string) (*StaticReport, error) {
	t.Helper()
	python := testenv.PythonWith(t, "django")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return ReadStatic(ctx, python, testdataDir(t, "django-static"),
		append(testenv.PythonEnv(os.Environ(), ""), append([]string{"DJANGO_SETTINGS_MODULE=shop.settings"}, env...)...))
}

// The report lists the directories Django's finders search, in their order
// (STATICFILES_DIRS, then every installed app's static/, whether it exists
// or not), with STATIC_URL as links are built with it.
func TestStaticReportFollowsTheFinders(t *testing.T) {
	rep, err := readShopStatic(t)
	if err != nil {
		t.Fatal(err)
	}
	dir := testdataDir(t, "django-static")
	if got, want := rep.StaticURL, "/static/"; got != want {
		t.Errorf("StaticURL: got %q, want %q (the relative 'static/' with the script prefix)", got, want)
	}
	if rep.StaticRoot != filepath.Join(dir, "collected") || rep.MediaRoot != filepath.Join(dir, "uploads") || rep.MediaURL != "/media/" {
		t.Errorf("roots: STATIC_ROOT %q, MEDIA_ROOT %q, MEDIA_URL %q", rep.StaticRoot, rep.MediaRoot, rep.MediaURL)
	}
	if !rep.StaticFiles || !rep.HasFiles || !rep.Debug || len(rep.AppServes) != 0 || len(rep.UnservedFinders) != 0 {
		t.Errorf("report: %+v", rep)
	}
	var got []string
	for _, r := range rep.Roots {
		got = append(got, r.Source+" "+r.Prefix)
	}
	want := []string{"STATICFILES_DIRS ", "STATICFILES_DIRS downloads", "app django.contrib.admin ", "app django.contrib.auth ",
		"app django.contrib.contenttypes ", "app django.contrib.sessions ", "app django.contrib.messages ",
		"app django.contrib.staticfiles ", "app catalog "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("roots:\n got %q\nwant %q", got, want)
	}
	if len(rep.Roots) == len(want) {
		if r := rep.Roots[0]; r.Dir != filepath.Join(dir, "assets") || r.Installed {
			t.Errorf("first root: %+v", r)
		}
		if r := rep.Roots[2]; !r.Installed || !strings.HasSuffix(r.Dir, filepath.FromSlash("django/contrib/admin/static")) {
			t.Errorf("the admin's root: %+v, want an installed package's", r)
		}
		if r := rep.Roots[8]; r.Dir != filepath.Join(dir, "catalog", "static") || r.Installed {
			t.Errorf("the project app's root: %+v", r)
		}
	}
	if ok, why := rep.ProxyServesStatic(); !ok || !rep.ProxyServesMedia() {
		t.Errorf("the proxy serves static: %v (%s), media: %v; want both", ok, why, rep.ProxyServesMedia())
	}
}

func TestStaticReportWhitenoiseServes(t *testing.T) {
	rep, err := readShopStatic(t, "SHOP_WHITENOISE=1")
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := rep.ProxyServesStatic(); ok || !strings.Contains(why, "whitenoise.middleware.WhiteNoiseMiddleware") {
		t.Errorf("with whitenoise: the proxy serves static %v (%s), want the app", ok, why)
	}
	if !rep.ProxyServesMedia() {
		t.Error("with whitenoise: media not served by the proxy (whitenoise never serves MEDIA_ROOT)")
	}
}

func TestStaticReportSettingsError(t *testing.T) {
	_, err := readShopStatic(t, "DJANGO_SETTINGS_MODULE=shop.nonexistent")
	if err == nil || !strings.Contains(err.Error(), "shop.nonexistent") {
		t.Errorf("settings that do not import: %v, want the import error", err)
	}
}

// The probe answers at StaticPath in a worker, with the worker's identity.
func TestProbeAnswersStatic(t *testing.T) {
	python := testenv.PythonWith(t, "django")
	run := runDir(t)
	script := `
import json, os, sys
sys.path.insert(0, sys.argv[1])
import devstack_probe
from django.core.wsgi import get_wsgi_application
app = devstack_probe.wrap_wsgi(get_wsgi_application(), None, 7)
out = {}
def start_response(status, headers):
    out["status"] = status
body = b"".join(app({"PATH_INFO": os.environ["DEVSTACK_PROBE_PATH"] + "/static", "REQUEST_METHOD": "GET",
                     "wsgi.url_scheme": "http", "SERVER_NAME": "x", "SERVER_PORT": "80"}, start_response))
print(out["status"])
print(body.decode())
`
	cmd := exec.Command(python, "-c", script, run)
	cmd.Dir = testdataDir(t, "django-static")
	cmd.Env = append(testenv.PythonEnv(os.Environ(), ""), "DJANGO_SETTINGS_MODULE=shop.settings",
		EnvProbePath+"=/.devstack/probe/test")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	status, body, _ := strings.Cut(string(out), "\n")
	if status != "200 OK" {
		t.Fatalf("status %q\n%s", status, out)
	}
	var ans StaticAnswer
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if ans.Generation != 7 || ans.PID == 0 || ans.Static == nil || ans.Static.StaticURL != "/static/" || len(ans.Static.Roots) != 9 {
		t.Errorf("answer: %+v, static %+v", ans, ans.Static)
	}
}

func TestLocalURL(t *testing.T) {
	for u, want := range map[string]bool{
		"/static/": true, "/assets/v2/": true, "/": false, "": false, "static/": false,
		"//cdn.example.com/static/": false, "https://cdn.example.com/static/": false, "/static": false,
	} {
		if got := LocalURL(u); got != want {
			t.Errorf("LocalURL(%q) = %v, want %v", u, got, want)
		}
	}
}

// STATICFILES_DIRS holding the project directory publishes the settings.
func TestStaticReportExposedSettings(t *testing.T) {
	rep, err := readShopStatic(t, "SHOP_PUBLISH_BASE_DIR=1")
	if err != nil {
		t.Fatal(err)
	}
	dir := testdataDir(t, "django-static")
	if len(rep.Exposed) != 1 || rep.Exposed[0].Setting != "STATICFILES_DIRS" || rep.Exposed[0].Dir != dir ||
		rep.Exposed[0].File != filepath.Join(dir, "shop", "settings.py") {
		t.Errorf("exposed: %+v", rep.Exposed)
	}
	if rep, err := readShopStatic(t); err != nil || len(rep.Exposed) != 0 {
		t.Errorf("the sample's own layout: exposed %+v (%v)", rep.Exposed, err)
	}
}
