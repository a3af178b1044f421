package project

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// djangoApp is what the static reading of a Django project found.
type djangoApp struct {
	ManagePy       string
	SettingsModule string
	SettingsSource string // "DJANGO_SETTINGS_MODULE", "devstack.toml", ".env", "manage.py"
	SettingsFile   string // "" when the module is not a file under Dir
	WSGITarget     string // "mysite.wsgi:application", "" if none
	WSGIFile       string
	ASGITarget     string // from ASGI_APPLICATION or <pkg>/asgi.py
	ASGIFile       string
	// ASGIOnly is true when the settings name ASGI_APPLICATION and not
	// WSGI_APPLICATION (startproject writes WSGI_APPLICATION, so leaving it
	// out while setting ASGI_APPLICATION is a choice, whatever files exist).
	ASGIOnly bool
}

var (
	manageSettingsRE = regexp.MustCompile(`DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([A-Za-z_][\w.]*)['"]`)
	wsgiSettingRE    = regexp.MustCompile(`(?m)^WSGI_APPLICATION\s*=\s*['"]([A-Za-z_][\w.]*)['"]`)
	asgiSettingRE    = regexp.MustCompile(`(?m)^ASGI_APPLICATION\s*=\s*['"]([A-Za-z_][\w.]*)['"]`)
	starImportRE     = regexp.MustCompile(`(?m)^from\s+(\.*[\w.]*)\s+import\s+\*`)
	moduleRE         = regexp.MustCompile(`^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$`)
)

// settingsChoice is the settings module from the sources above manage.py.
type settingsChoice struct {
	module, source string
}

// detectDjango reads manage.py and the settings file. settings is the
// module chosen by the environment, the config or an env file, if any.
func detectDjango(dir, managePy string, settings settingsChoice) (*djangoApp, error) {
	d := &djangoApp{ManagePy: managePy, SettingsModule: settings.module, SettingsSource: settings.source}
	if d.SettingsModule == "" {
		src, err := os.ReadFile(managePy)
		if err != nil {
			return nil, &Error{Msg: "reading manage.py", Err: err, Fix: "make manage.py readable"}
		}
		m := manageSettingsRE.FindSubmatch(src)
		if m == nil {
			return nil, &Error{
				Msg: "cannot tell the Django settings module: manage.py does not set DJANGO_SETTINGS_MODULE",
				Fix: "set DJANGO_SETTINGS_MODULE=mysite.settings in .env, or settings = \"mysite.settings\" in " + ConfigFileName,
			}
		}
		d.SettingsModule, d.SettingsSource = string(m[1]), "manage.py"
	}
	d.SettingsFile = moduleFile(dir, d.SettingsModule)

	var wsgiSetting, asgiSetting string
	if d.SettingsFile != "" {
		wsgiSetting = findSetting(dir, d.SettingsModule, d.SettingsFile, wsgiSettingRE, 0)
		asgiSetting = findSetting(dir, d.SettingsModule, d.SettingsFile, asgiSettingRE, 0)
	}
	if wsgiSetting != "" {
		d.WSGITarget = dottedToTarget(wsgiSetting)
		d.WSGIFile = moduleFile(dir, strings.SplitN(d.WSGITarget, ":", 2)[0])
	}
	d.ASGIOnly = wsgiSetting == "" && asgiSetting != ""
	if asgiSetting != "" {
		d.ASGITarget = dottedToTarget(asgiSetting)
		d.ASGIFile = moduleFile(dir, strings.SplitN(d.ASGITarget, ":", 2)[0])
	}
	// Fallback: wsgi.py / asgi.py next to the settings, or in a parent
	// package (mysite.settings.dev → mysite.settings → mysite).
	pkgs := strings.Split(d.SettingsModule, ".")
	for i := len(pkgs) - 1; i >= 1 && (d.WSGITarget == "" || d.ASGITarget == ""); i-- {
		pkg := strings.Join(pkgs[:i], ".")
		if d.WSGITarget == "" {
			if f := moduleFile(dir, pkg+".wsgi"); f != "" {
				d.WSGITarget, d.WSGIFile = pkg+".wsgi:application", f
			}
		}
		if d.ASGITarget == "" {
			if f := moduleFile(dir, pkg+".asgi"); f != "" {
				d.ASGITarget, d.ASGIFile = pkg+".asgi:application", f
			}
		}
	}
	return d, nil
}

// findSetting looks for a setting in a settings file and, one star import
// at a time (from .base import *), in the files it builds on.
func findSetting(dir, module, file string, re *regexp.Regexp, depth int) string {
	src, err := os.ReadFile(file)
	if err != nil || depth > 4 {
		return ""
	}
	if m := re.FindSubmatch(src); m != nil {
		return string(m[1])
	}
	// Later star imports override earlier ones: search them last first.
	imports := starImportRE.FindAllSubmatch(src, -1)
	for i := len(imports) - 1; i >= 0; i-- {
		mod := resolveRelative(module, file, string(imports[i][1]))
		if f := moduleFile(dir, mod); f != "" {
			if v := findSetting(dir, mod, f, re, depth+1); v != "" {
				return v
			}
		}
	}
	return ""
}

// resolveRelative turns "from .base import *" in module into "pkg.base".
func resolveRelative(module, file, from string) string {
	dots := len(from) - len(strings.TrimLeft(from, "."))
	if dots == 0 {
		return from
	}
	parts := strings.Split(module, ".")
	// A package's __init__.py is its own package; a module's package is its parent.
	if filepath.Base(file) != "__init__.py" {
		parts = parts[:len(parts)-1]
	}
	up := dots - 1
	if up > len(parts) {
		return ""
	}
	parts = parts[:len(parts)-up]
	if rest := from[dots:]; rest != "" {
		parts = append(parts, rest)
	}
	return strings.Join(parts, ".")
}

// moduleFile returns the file of a dotted module under dir (pkg/mod.py or
// pkg/mod/__init__.py), or "".
func moduleFile(dir, module string) string {
	if !moduleRE.MatchString(module) {
		return ""
	}
	base := filepath.Join(append([]string{dir}, strings.Split(module, ".")...)...)
	for _, f := range []string{base + ".py", filepath.Join(base, "__init__.py")} {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			return f
		}
	}
	return ""
}

// dottedToTarget turns "mysite.wsgi.application" into "mysite.wsgi:application".
func dottedToTarget(dotted string) string {
	i := strings.LastIndexByte(dotted, '.')
	if i < 0 {
		return dotted
	}
	return dotted[:i] + ":" + dotted[i+1:]
}

// noDjangoTargetError explains a Django project without WSGI/ASGI entry.
func noDjangoTargetError(d *djangoApp, dir string) error {
	where := d.SettingsModule + " (not found under " + dir + ")"
	if d.SettingsFile != "" {
		where = relTo(dir, d.SettingsFile)
	}
	return &Error{
		Msg: fmt.Sprintf("cannot find the Django app: no WSGI_APPLICATION or ASGI_APPLICATION in %s, and no wsgi.py or asgi.py next to it", where),
		Fix: "set app = \"mysite.wsgi:application\" in " + ConfigFileName,
	}
}
