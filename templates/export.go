package templates

import (
	"bytes"
	"embed"
	"fmt"
	"slices"
	"strings"
	"text/template"
)

//go:embed export/*.tmpl
var exportFiles embed.FS

// ExportKinds are the production proxies Export writes a configuration for.
var ExportKinds = []string{"caddy", "nginx"}

// ExportConfig is what the production proxy's configuration is made from:
// the same policy as devstack's local proxy.
type ExportConfig struct {
	Domain   string // the site's name, e.g. "example.com"
	Upstream string // the gateway's address, "127.0.0.1:8000"
	Describe string // what is behind it, for the opening comment
	MaxBody  int64  // the largest request body, in bytes

	// The forwarding headers the proxy sets, as devstack's proxy does.
	ForwardedHost bool // X-Forwarded-Host
	ForwardedSSL  bool // X-Forwarded-Ssl: on
	RealIP        bool // X-Real-IP

	// Static is where a Django app's static and media files are; nil for
	// other apps, which serve their own files.
	Static *StaticReport
}

// exportLocation is one location the production proxy serves from disk.
type exportLocation struct {
	URL     string // "/static/"
	Dir     string // STATIC_ROOT, with a final slash for nginx's alias
	Setting string // "STATIC_ROOT" or "MEDIA_ROOT"
	Static  bool   // collected files: precompressed siblings are served
}

// fileLocations are the locations the production proxy serves from disk
// for rep, and comments on what it leaves to the app and why.
func fileLocations(rep *StaticReport) (locs []exportLocation, notes []string) {
	if rep == nil {
		return nil, nil
	}
	if ok, why := rep.ProxyServesStatic(); !ok {
		if rep.StaticURL != "" {
			notes = append(notes, fmt.Sprintf("%s is left to the app: %s.", rep.StaticURL, why))
		}
	} else if rep.StaticRoot == "" {
		notes = append(notes, fmt.Sprintf(`%s is not served from disk: STATIC_ROOT is not set. Set it (STATIC_ROOT = BASE_DIR / "staticfiles"), run "python manage.py collectstatic" on every deploy, and export again.`, rep.StaticURL))
	} else {
		locs = append(locs, exportLocation{URL: rep.StaticURL, Dir: withSlash(rep.StaticRoot), Setting: "STATIC_ROOT", Static: true})
	}
	if rep.ProxyServesMedia() {
		locs = append(locs, exportLocation{URL: rep.MediaURL, Dir: withSlash(rep.MediaRoot), Setting: "MEDIA_ROOT"})
	}
	return locs, notes
}

// withSlash ends dir with a slash (nginx's alias maps the location's
// prefix to it) and quotes it when nginx or Caddy would split it.
func withSlash(dir string) string {
	dir = strings.TrimSuffix(dir, "/") + "/"
	if strings.ContainsAny(dir, " \t;{}#\"'\\$") {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(dir) + `"`
	}
	return dir
}

// header is one header line of a template.
type header struct{ Name, Value string }

// clearable are the forwarding headers a proxy must not pass on from a
// client when it does not set them itself: gunicorn, Django and Werkzeug
// read some of them as the scheme, host or client.
var clearable = []string{"Forwarded", "X-Forwarded-Host", "X-Forwarded-Ssl", "X-Forwarded-Protocol",
	"X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Scheme", "X-Url-Scheme", "X-Real-IP"}

// Export renders the configuration of kind ("caddy" or "nginx").
func Export(kind string, c ExportConfig) ([]byte, error) {
	name := map[string]string{"caddy": "Caddyfile.tmpl", "nginx": "nginx.conf.tmpl"}[kind]
	if name == "" {
		return nil, fmt.Errorf("no %q export: choose one of %v", kind, ExportKinds)
	}
	t, err := template.ParseFS(exportFiles, "export/"+name)
	if err != nil {
		return nil, err
	}
	nginxSet := []header{{"X-Forwarded-Proto", "$scheme"}, {"X-Forwarded-For", "$remote_addr"}}
	var caddySet []header // Caddy sets X-Forwarded-Proto/-For/-Host itself
	set := []string{"X-Forwarded-Proto", "X-Forwarded-For"}
	if c.ForwardedHost {
		nginxSet = append(nginxSet, header{"X-Forwarded-Host", "$http_host"})
		set = append(set, "X-Forwarded-Host")
	}
	if c.ForwardedSSL {
		nginxSet = append(nginxSet, header{"X-Forwarded-Ssl", "on"})
		caddySet = append(caddySet, header{"X-Forwarded-Ssl", "on"})
		set = append(set, "X-Forwarded-Ssl")
	}
	if c.RealIP {
		nginxSet = append(nginxSet, header{"X-Real-IP", "$remote_addr"})
		caddySet = append(caddySet, header{"X-Real-IP", "{remote_host}"})
		set = append(set, "X-Real-IP")
	}
	var clear []string
	for _, h := range clearable {
		if !slices.Contains(set, h) {
			clear = append(clear, h)
		}
	}
	files, fileNotes := fileLocations(c.Static)
	var out bytes.Buffer
	err = t.Execute(&out, map[string]any{
		"Files":        files,
		"FileNotes":    fileNotes,
		"Domain":       c.Domain,
		"Upstream":     c.Upstream,
		"Describe":     c.Describe,
		"UpstreamName": "app",
		"MaxBody":      nginxSize(c.MaxBody),
		"MaxBodyCaddy": caddySize(c.MaxBody),
		"BufferCaddy":  caddySize(min(c.MaxBody, 16<<20)),
		"Set":          nginxSet,
		"SetCaddy":     caddySet,
		"Clear":        clear,
	})
	return out.Bytes(), err
}

// sizeUnit is one unit of a size written for a proxy's configuration.
type sizeUnit struct {
	suffix string
	bytes  int64
}

var (
	nginxUnits = []sizeUnit{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"", 1}}
	caddyUnits = []sizeUnit{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
)

// writeSize writes n bytes in the largest of units (largest first) that n
// reaches, rounding up.
func writeSize(n int64, units []sizeUnit) string {
	for _, u := range units {
		if n >= u.bytes || u.bytes == 1 {
			return fmt.Sprintf("%d%s", (n+u.bytes-1)/u.bytes, u.suffix)
		}
	}
	return fmt.Sprint(n)
}

// nginxSize writes n bytes in nginx's units (k, m, g).
func nginxSize(n int64) string { return writeSize(n, nginxUnits) }

// caddySize writes n bytes in Caddy's units (KiB, MiB, GiB).
func caddySize(n int64) string { return writeSize(n, caddyUnits) }
