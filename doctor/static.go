package doctor

import (
	"fmt"
	"strings"
)

// IDStaticProduction is the check that something will serve STATIC_URL in
// production.
const IDStaticProduction = "static-production"

// checkStaticProduction warns when the project has static files for its
// pages but nothing would serve them in production: with DEBUG off (and
// under gunicorn even with it on) Django serves none, so either a proxy
// serves what collectstatic wrote to STATIC_ROOT, or whitenoise serves
// them from the app. Locally devstack's proxy serves them from the
// finders, as runserver did, which would hide the gap until the first
// deploy.
func checkStaticProduction(ev Evidence) (Result, bool) {
	rep := ev.Probe.Static
	if rep == nil || rep.Error != "" || rep.StaticURL == "" {
		return Result{}, false
	}
	r := Result{ID: IDStaticProduction, Status: Pass}
	switch {
	case !strings.HasPrefix(rep.StaticURL, "/") || strings.HasPrefix(rep.StaticURL, "//"):
		r.Summary = fmt.Sprintf("STATIC_URL %q is served by another host", rep.StaticURL)
	case len(rep.AppServes) > 0:
		r.Summary = fmt.Sprintf("the app serves its static files itself (%s), locally and in production", strings.Join(rep.AppServes, ", "))
	case rep.StaticRoot != "":
		r.Summary = "STATIC_ROOT is set: collectstatic gathers the files a production proxy serves (devstack export writes its location)"
		r.Detail = "STATIC_ROOT = " + quote(rep.StaticRoot)
	case !rep.HasFiles:
		r.Summary = "the project has no static files to serve"
	default:
		r.Status = Warn
		r.Summary = fmt.Sprintf("nothing will serve %s in production: STATIC_ROOT is not set and no whitenoise", rep.StaticURL)
		r.Detail = fmt.Sprintf("the staticfiles finders hold files for pages to link (%d directories searched); DEBUG = %s, "+
			"but Django serves no static file under gunicorn or uvicorn either way, and with DEBUG off not even under runserver. "+
			"devstack's proxy serves them locally from the finders, as production's proxy would serve STATIC_ROOT",
			len(rep.Roots), map[bool]string{true: "True", false: "False"}[rep.Debug])
		r.Fix = `set STATIC_ROOT = BASE_DIR / "staticfiles" and run "python manage.py collectstatic --noinput" on every deploy, ` +
			`then serve it from the proxy ("devstack export nginx" or "devstack export caddy" writes the location); ` +
			`or let the app serve them: pip install whitenoise and add "whitenoise.middleware.WhiteNoiseMiddleware" to MIDDLEWARE right after SecurityMiddleware`
	}
	return r, true
}

// IDStaticPublishesCode is the check that no directory a production proxy
// publishes holds the project's settings.
const IDStaticPublishesCode = "static-publishes-code"

// checkStaticPublishesCode fails when a directory whose files a production
// proxy serves (a STATICFILES_DIRS entry, which collectstatic copies into
// STATIC_ROOT, or STATIC_ROOT or MEDIA_ROOT itself) holds the settings
// file: SECRET_KEY and the database password become public URLs.
func checkStaticPublishesCode(ev Evidence) (Result, bool) {
	rep := ev.Probe.Static
	if rep == nil || rep.Error != "" {
		return Result{}, false
	}
	r := Result{ID: IDStaticPublishesCode, Status: Pass, Summary: "no directory served as static or media files holds the settings"}
	if len(rep.Exposed) == 0 {
		return r, true
	}
	e := rep.Exposed[0]
	r.Status = Fail
	r.Summary = fmt.Sprintf("%s publishes the project's code: %s holds the settings file %s, so SECRET_KEY is served to anyone", e.Setting, e.Dir, e.File)
	var all []string
	for _, e := range rep.Exposed {
		all = append(all, fmt.Sprintf("%s %s", e.Setting, quote(e.Dir)))
	}
	r.Detail = "served as files: " + strings.Join(all, ", ")
	r.Fix = fmt.Sprintf(`point %s at a directory holding only files meant to be public (e.g. BASE_DIR / "static" for STATICFILES_DIRS, BASE_DIR / "staticfiles" for STATIC_ROOT, BASE_DIR / "media" for MEDIA_ROOT), and change SECRET_KEY if it was ever deployed this way`, e.Setting)
	return r, true
}
