package templates

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Static is the file that reports where a Django project's static and media
// files are, as its own finders see them: in a gateway worker through the
// probe (StaticPath), or run as a script (ReadStatic).
const Static = "devstack_static.py"

// StaticPath is the path, under the per-run probe path, where the probe
// answers with a StaticReport.
func StaticPath(probePath string) string { return probePath + "/static" }

// StaticAnswer is the probe's answer at StaticPath.
type StaticAnswer struct {
	PID        int           `json:"pid"`
	Generation int           `json:"generation"` // gunicorn only; 0 under uvicorn
	Static     *StaticReport `json:"static"`     // nil when the app is not Django
}

// StaticReport is where a Django project's static and media files are.
// The probe answers "null" (a nil *StaticReport) for an app that is not
// Django.
type StaticReport struct {
	Version   int    `json:"version"`
	Framework string `json:"framework"` // "django"
	Debug     bool   `json:"debug"`
	// StaticURL and MediaURL are as the app builds links with them: a
	// relative STATIC_URL ("static/") comes with the script prefix
	// ("/static/"). Empty when not set.
	StaticURL string `json:"static_url"`
	MediaURL  string `json:"media_url"`
	// StaticRoot and MediaRoot are absolute; empty when not set.
	StaticRoot string `json:"static_root"`
	MediaRoot  string `json:"media_root"`
	// StaticFiles is whether django.contrib.staticfiles is installed.
	StaticFiles bool `json:"staticfiles"`
	// AppServes lists the middleware with which the app serves its static
	// files itself (whitenoise).
	AppServes []string `json:"app_serves"`
	// Roots are the directories the staticfiles finders search, in their
	// order (some may not exist yet).
	Roots []StaticRoot `json:"roots"`
	// UnservedFinders are finders whose files are in no directory devstack
	// can see (remote storages, finders without storages).
	UnservedFinders []string `json:"unserved_finders"`
	// HasFiles is whether any finder lists a file: the project has static
	// files for pages to refer to.
	HasFiles bool `json:"has_files"`
	// Exposed are directories a production proxy would publish that hold
	// the settings file (STATICFILES_DIRS = [BASE_DIR]): their files,
	// SECRET_KEY included, become public.
	Exposed []StaticExposure `json:"exposed"`
	// Error is why the report could not be made (the settings failed to
	// load); the other fields are then empty.
	Error string `json:"error,omitempty"`
}

// StaticExposure is a published directory that holds the settings file.
type StaticExposure struct {
	Setting string `json:"setting"` // "STATICFILES_DIRS", "STATIC_ROOT", "MEDIA_ROOT" or "app …"
	Dir     string `json:"dir"`
	File    string `json:"file"` // the settings file
}

// StaticRoot is one directory a staticfiles finder searches.
type StaticRoot struct {
	// Prefix is the path under STATIC_URL the directory is served at, as
	// a STATICFILES_DIRS entry ("downloads", "/opt/stats") gives it; ""
	// for most.
	Prefix string `json:"prefix"`
	Dir    string `json:"dir"`
	// Source says where the directory comes from: "STATICFILES_DIRS",
	// "app django.contrib.admin", or a finder's name.
	Source string `json:"source"`
	// Installed is true for a directory inside an installed distribution
	// (site-packages, dist-packages).
	Installed bool `json:"installed"`
}

// LocalURL reports whether u is a path on the site itself ("/static/"),
// not a URL of another host (a CDN's "https://cdn.example.com/static/").
func LocalURL(u string) bool {
	return len(u) > 1 && strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") && strings.HasSuffix(u, "/")
}

// ProxyServesStatic reports whether a proxy in front of the app should
// serve STATIC_URL itself, and if not, why. The app's own serving wins:
// whitenoise serves static files the same way locally and in production,
// so putting the proxy in its place would hide its behaviour (headers,
// compression, the manifest) until the first deploy.
func (r *StaticReport) ProxyServesStatic() (bool, string) {
	switch {
	case r == nil || r.Framework != "django":
		return false, "the app is not Django: it serves its own static files"
	case r.Error != "":
		return false, "the static settings could not be read: " + r.Error
	case r.StaticURL == "":
		return false, "STATIC_URL is not set"
	case !LocalURL(r.StaticURL):
		return false, fmt.Sprintf("STATIC_URL %q is on another host", r.StaticURL)
	case len(r.AppServes) > 0:
		return false, fmt.Sprintf("the app serves them itself (%s)", strings.Join(r.AppServes, ", "))
	case !r.StaticFiles && r.StaticRoot == "":
		return false, "django.contrib.staticfiles is not installed and STATIC_ROOT is not set"
	}
	return true, ""
}

// ProxyServesMedia reports whether a proxy should serve MEDIA_URL from
// MEDIA_ROOT, as production's nginx does.
func (r *StaticReport) ProxyServesMedia() bool {
	return r != nil && r.Framework == "django" && r.Error == "" && r.MediaRoot != "" &&
		LocalURL(r.MediaURL) && r.MediaURL != r.StaticURL
}

// ReadStatic runs Static with python in dir (the project's directory, with
// env as its environment, DJANGO_SETTINGS_MODULE included) and returns its
// report: the answer without a running gateway.
func ReadStatic(ctx context.Context, python, dir string, env []string) (*StaticReport, error) {
	tmp, err := os.MkdirTemp("", "devstack-static-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	data, err := files.ReadFile(Static)
	if err != nil {
		return nil, err
	}
	script := filepath.Join(tmp, Static)
	if err := os.WriteFile(script, data, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, python, script)
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("reading the static settings with %s: %w: %s", python, err, lastLine(stderr.String()))
	}
	var rep *StaticReport
	if err := json.Unmarshal(out, &rep); err != nil {
		return nil, fmt.Errorf("reading the static settings with %s: %w", python, err)
	}
	if rep != nil && rep.Error != "" {
		return rep, fmt.Errorf("reading the static settings: %s", rep.Error)
	}
	return rep, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
