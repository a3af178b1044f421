package doctor

import (
	"strings"
	"testing"

	"github.com/devstack-dev/devstack/templates"
)

func TestStaticProduction(t *testing.T) {
	startproject := func() *templates.StaticReport {
		return &templates.StaticReport{Framework: "django", Debug: true, StaticURL: "/static/", StaticFiles: true, HasFiles: true,
			Roots: []templates.StaticRoot{{Dir: "/usr/lib/python3/dist-packages/django/contrib/admin/static", Installed: true}}}
	}
	withRoot := startproject()
	withRoot.StaticRoot = "/srv/site/staticfiles"
	whitenoise := startproject()
	whitenoise.AppServes = []string{"whitenoise.middleware.WhiteNoiseMiddleware"}
	cdn := startproject()
	cdn.StaticURL = "https://cdn.example.com/static/"
	noFiles := startproject()
	noFiles.HasFiles = false
	for _, c := range []struct {
		name   string
		rep    *templates.StaticReport
		status Status
		want   string
	}{
		{"a fresh startproject", startproject(), Warn, "nothing will serve /static/ in production"},
		{"STATIC_ROOT set", withRoot, Pass, "STATIC_ROOT is set"},
		{"whitenoise", whitenoise, Pass, "whitenoise.middleware.WhiteNoiseMiddleware"},
		{"a CDN", cdn, Pass, "another host"},
		{"no static files", noFiles, Pass, "no static files"},
	} {
		ev := django("4.2.28")
		ev.Probe.Static = c.rep
		r := find(t, Check(ev), IDStaticProduction)
		if r.Status != c.status || !strings.Contains(r.Summary, c.want) {
			t.Errorf("%s: %s %q, want %s containing %q", c.name, r.Status, r.Summary, c.status, c.want)
		}
		if r.Status == Warn && (!strings.Contains(r.Fix, "STATIC_ROOT") || !strings.Contains(r.Fix, "whitenoise") || !strings.Contains(r.Detail, "DEBUG = True")) {
			t.Errorf("%s: fix %q, detail %q", c.name, r.Fix, r.Detail)
		}
	}
	// Without the report (an older probe, a settings error) the check is left out.
	for _, r := range Check(django("4.2.28")) {
		if r.ID == IDStaticProduction {
			t.Errorf("a static check without the report: %+v", r)
		}
	}
}

func TestStaticPublishesCode(t *testing.T) {
	ev := django("4.2.28")
	ev.Probe.Static = &templates.StaticReport{Framework: "django", StaticURL: "/static/", StaticFiles: true}
	if r := find(t, Check(ev), IDStaticPublishesCode); r.Status != Pass {
		t.Errorf("a sound layout: %+v", r)
	}
	ev.Probe.Static.Exposed = []templates.StaticExposure{{Setting: "STATICFILES_DIRS", Dir: "/srv/site", File: "/srv/site/site/settings.py"}}
	r := find(t, Check(ev), IDStaticPublishesCode)
	if r.Status != Fail || !strings.Contains(r.Summary, "/srv/site/site/settings.py") || !strings.Contains(r.Fix, `BASE_DIR / "static"`) {
		t.Errorf("STATICFILES_DIRS = [BASE_DIR]: %+v", r)
	}
	// Development settings do not soften it: the file is public as soon
	// as it is deployed.
	ev.Probe.Settings["DEBUG"] = true
	if r := find(t, Check(ev), IDStaticPublishesCode); r.Status != Fail {
		t.Errorf("with DEBUG on: %s, want fail", r.Status)
	}
}
