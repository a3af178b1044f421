package doctor

// The nginx configuration a project ships for production, read as nginx
// reads it: a block that sets any proxy_set_header of its own inherits
// none from the blocks around it, so a location added later for one extra
// header silently stops sending X-Forwarded-Proto; and Host $host drops
// the port the browser used.

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// IDNginxConfig is the check of the project's own nginx configuration.
const IDNginxConfig = "nginx-config"

// nginxDirective is one directive of an nginx configuration, with its
// block's directives when it has one.
type nginxDirective struct {
	name  string
	args  []string
	line  int
	block []*nginxDirective // nil for a simple directive
}

// parseNginx reads an nginx configuration into its directives. It is
// lenient: unbalanced braces end the file's blocks, and what cannot be a
// directive is skipped, since only proxying locations matter here.
func parseNginx(src []byte) []*nginxDirective {
	var (
		root  []*nginxDirective
		stack []*[]*nginxDirective
		words []string
		first int
	)
	cur := &root
	line := 1
	flush := func(withBlock bool) *nginxDirective {
		if len(words) == 0 {
			return nil
		}
		d := &nginxDirective{name: words[0], args: words[1:], line: first}
		if withBlock {
			d.block = []*nginxDirective{}
		}
		*cur = append(*cur, d)
		words = nil
		return d
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\n':
			line++
		case c == ' ' || c == '\t' || c == '\r':
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
		case c == ';':
			flush(false)
		case c == '{':
			d := flush(true)
			if d == nil {
				d = &nginxDirective{line: line, block: []*nginxDirective{}}
				*cur = append(*cur, d)
			}
			stack = append(stack, cur)
			cur = &d.block
		case c == '}':
			flush(false)
			if len(stack) > 0 {
				cur, stack = stack[len(stack)-1], stack[:len(stack)-1]
			}
		default:
			if len(words) == 0 {
				first = line
			}
			var w []byte
			if c == '"' || c == '\'' {
				quote := c
				for i++; i < len(src) && src[i] != quote; i++ {
					if src[i] == '\\' && i+1 < len(src) {
						i++
					}
					if src[i] == '\n' {
						line++
					}
					w = append(w, src[i])
				}
			} else {
				for ; i < len(src) && !bytes.ContainsRune([]byte(" \t\r\n;{}#"), rune(src[i])); i++ {
					w = append(w, src[i])
				}
				i--
			}
			words = append(words, string(w))
		}
	}
	return root
}

// nginxFinding is one problem in one proxying location.
type nginxFinding struct {
	where string // file:line of the location (or server) that proxies
	text  string
	fix   string
	info  bool // hardening advice, not a warning
}

const nginxHeadersFix = "in every location that proxies, repeat the whole list: proxy_set_header Host $http_host; " +
	"proxy_set_header X-Forwarded-Proto $scheme; proxy_set_header X-Forwarded-For $remote_addr " +
	`(or keep them in one file and include it in each; "devstack export nginx" writes such a configuration)`

// headerSet is the proxy_set_header list in force in a block, and where
// it was written.
type headerSet struct {
	values  map[string]string // lower-case name → value
	line    int               // the first proxy_set_header of the level that set them
	unknown bool              // an include this check cannot read may set more
	// lostProto is the block that set its own list without the
	// X-Forwarded-Proto of the list around it ("" when none did).
	lostProto          string
	lostLine, lostFrom int
}

// debianProxyParams is what Debian's and Ubuntu's /etc/nginx/proxy_params
// sets, for "include proxy_params;".
var debianProxyParams = map[string]string{"host": "$http_host", "x-real-ip": "$remote_addr",
	"x-forwarded-for": "$proxy_add_x_forwarded_for", "x-forwarded-proto": "$scheme"}

// nginxApp is what the app behind the proxy reads besides
// X-Forwarded-Proto and Host, which a proxy must not pass on from clients.
type nginxApp struct {
	schemeHeaders []string // gunicorn's other secure_scheme_headers
	forwardedHost bool     // Django's USE_X_FORWARDED_HOST
}

// nginxProxyFindings walks the directives as nginx applies them and
// reports each proxying block that loses a forwarding header, or the port.
// Included files are read from the project when they are there.
// app says which other headers the app behind reads.
func nginxProxyFindings(root, file string, dirs []*nginxDirective, app nginxApp) []nginxFinding {
	var out []nginxFinding
	// ports are the server's listening ports; plain, those that take
	// plain http.
	var walk func(ds []*nginxDirective, inherited headerSet, ports, plain []string, label string)
	walk = func(ds []*nginxDirective, inherited headerSet, ports, plain []string, label string) {
		own := headerSet{values: map[string]string{}}
		sslOn := false
		for _, d := range ds {
			if d.name == "proxy_set_header" && len(d.args) >= 2 {
				if own.line == 0 {
					own.line = d.line
				}
				own.values[strings.ToLower(d.args[0])] = d.args[1]
			}
			if d.name == "include" && len(d.args) == 1 {
				included, ok := includedHeaders(root, file, d.args[0])
				if own.line == 0 && (len(included) > 0 || !ok) {
					own.line = d.line
				}
				own.unknown = own.unknown || !ok
				for k, v := range included {
					own.values[k] = v
				}
			}
			if d.name == "listen" && len(d.args) > 0 {
				ssl := slices.Contains(d.args, "ssl") || slices.Contains(d.args, "quic") // HTTP/3 is always TLS
				ports = append(slices.Clip(ports), listenPort(d.args[0], ssl))
				if !ssl {
					plain = append(slices.Clip(plain), listenPort(d.args[0], false))
				}
			}
			if d.name == "ssl" && len(d.args) == 1 && d.args[0] == "on" {
				sslOn = true // nginx before 1.25: every listen of the server is https
			}
		}
		if sslOn {
			plain = nil
		}
		effective := inherited
		if own.line != 0 {
			_, had := inherited.values["x-forwarded-proto"]
			if _, has := own.values["x-forwarded-proto"]; had && !has {
				own.lostProto, own.lostLine, own.lostFrom = label, own.line, inherited.line
			} else if !has {
				own.lostProto, own.lostLine, own.lostFrom = inherited.lostProto, inherited.lostLine, inherited.lostFrom
			}
			effective = own
		}
		for _, d := range ds {
			if d.name == "proxy_pass" {
				out = append(out, proxyBlockFindings(file, label, d.line, effective, ports, plain, app)...)
			}
		}
		for _, d := range ds {
			if d.block == nil {
				continue
			}
			l := label
			switch d.name {
			case "location":
				l = "location " + strings.Join(d.args, " ")
			case "server", "http":
				l = "the " + d.name + " block"
			}
			p, pl := ports, plain
			if d.name == "server" {
				p, pl = nil, nil
			}
			walk(d.block, effective, p, pl, l)
		}
	}
	walk(dirs, headerSet{values: map[string]string{}}, nil, nil, "the top level")
	return out
}

// proxyBlockFindings judges one proxy_pass against the headers in force.
func proxyBlockFindings(file, label string, line int, effective headerSet, ports, plain []string, app nginxApp) []nginxFinding {
	if effective.unknown {
		return nil
	}
	where := fmt.Sprintf("%s:%d", file, line)
	var out []nginxFinding
	proto, hasProto := effective.values["x-forwarded-proto"]
	switch {
	case !hasProto && effective.lostProto != "":
		out = append(out, nginxFinding{where, fmt.Sprintf("%s sets proxy_set_header of its own (line %d), so it inherits none of the enclosing block's "+
			"(line %d): X-Forwarded-Proto is not sent to the app from %s, and it sees http there", effective.lostProto, effective.lostLine, effective.lostFrom, label), nginxHeadersFix, false})
	case !hasProto:
		out = append(out, nginxFinding{where, label + " proxies without X-Forwarded-Proto: the app cannot tell the request was https", nginxHeadersFix, false})
	case proto == "http":
		out = append(out, nginxFinding{where, label + " sends X-Forwarded-Proto: http", "proxy_set_header X-Forwarded-Proto $scheme", false})
	case strings.EqualFold(proto, "https") && len(plain) > 0:
		out = append(out, nginxFinding{where, fmt.Sprintf("%s sends X-Forwarded-Proto: https for plain-http requests too (listen %s): "+
			"the app takes every request for https, so none is redirected to https, and a page served over http sets Secure cookies the browser never sends back",
			label, strings.Join(plain, ", ")),
			"send the scheme the request came with: proxy_set_header X-Forwarded-Proto $scheme (behind a TLS load balancer: $http_x_forwarded_proto)", false})
	}
	host, hasHost := effective.values["host"]
	var odd []string
	for _, p := range ports {
		if p != "80" && p != "443" {
			odd = append(odd, p)
		}
	}
	switch {
	case !hasHost:
		out = append(out, nginxFinding{where, label + " does not set Host: nginx sends the upstream's name ($proxy_host), " +
			"so ALLOWED_HOSTS and the CSRF origin check see the gateway's address instead of the site's", nginxHeadersFix, false})
	case (host == "$host" || host == "$server_name") && len(odd) > 0:
		out = append(out, nginxFinding{where, fmt.Sprintf("%s sends Host %s, which drops the port the browser uses (listen %s): "+
			"the app builds links without it and Django refuses forms whose Origin has it (403 Origin checking failed)",
			label, host, strings.Join(odd, ", ")), "send the Host the browser sent, with its port: proxy_set_header Host $http_host", false})
	}
	if _, set := effective.values["x-forwarded-host"]; app.forwardedHost && !set {
		out = append(out, nginxFinding{where, label + " passes the client's X-Forwarded-Host on while Django takes the host from it " +
			"(USE_X_FORWARDED_HOST): any client chooses the host of password-reset links and absolute URLs",
			"set it from what the browser sent: proxy_set_header X-Forwarded-Host $http_host; or remove USE_X_FORWARDED_HOST", false})
	}
	var passed, clear []string
	for _, h := range app.schemeHeaders {
		if _, set := effective.values[strings.ToLower(h)]; !set {
			passed = append(passed, h)
			clear = append(clear, fmt.Sprintf("proxy_set_header %s \"\";", h))
		}
	}
	if len(passed) > 0 {
		example := passed[0] + ": http"
		if slices.Contains(passed, "X-Forwarded-Ssl") {
			example = "X-Forwarded-Ssl: off"
		}
		out = append(out, nginxFinding{where: where, info: true,
			text: fmt.Sprintf("%s passes the client's %s on to gunicorn, which reads the scheme from them too: "+
				"any client can flip the scheme or get 400 Contradictory scheme headers (e.g. %s)", label, strings.Join(passed, ", "), example),
			fix: "clear them in every location that proxies: " + strings.Join(clear, " ") +
				`, or let gunicorn read X-Forwarded-Proto only: secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}`})
	}
	return out
}

// includedHeaders are the proxy_set_header values of an included file:
// Debian's proxy_params, or a file of the project (relative to the
// configuration's directory or the project's); ok is false when the file
// cannot be read here, so what it sets is unknown.
func includedHeaders(root, file, name string) (map[string]string, bool) {
	if filepath.Base(name) == "proxy_params" && !strings.ContainsAny(name, "*?[") {
		if !filepath.IsAbs(name) {
			if data, err := os.ReadFile(filepath.Join(root, filepath.Dir(file), name)); err == nil {
				return headersOf(data), true
			}
		}
		return debianProxyParams, true
	}
	if filepath.IsAbs(name) || strings.ContainsAny(name, "*?[") {
		return nil, !strings.Contains(name, "proxy")
	}
	for _, base := range []string{filepath.Join(root, filepath.Dir(file)), root} {
		if data, err := os.ReadFile(filepath.Join(base, name)); err == nil {
			return headersOf(data), true
		}
	}
	return nil, false
}

// headersOf is the proxy_set_header list of a file's top level.
func headersOf(data []byte) map[string]string {
	out := map[string]string{}
	for _, d := range parseNginx(data) {
		if d.name == "proxy_set_header" && len(d.args) >= 2 {
			out[strings.ToLower(d.args[0])] = d.args[1]
		}
	}
	return out
}

// listenPort is the port of a listen directive's address ("8443",
// "[::]:443", "127.0.0.1:8080", "unix:/…").
func listenPort(addr string, ssl bool) string {
	if strings.HasPrefix(addr, "unix:") {
		return "80"
	}
	if i := strings.LastIndex(addr, ":"); i >= 0 && !strings.HasSuffix(addr, "]") {
		return addr[i+1:]
	}
	if strings.Trim(addr, "0123456789") == "" {
		return addr
	}
	if ssl {
		return "443"
	}
	return "80"
}

// nginxConfig is one nginx configuration file of the project.
type nginxConfig struct {
	rel  string // relative to the project
	data []byte
}

// nginxConfigFiles finds the nginx configurations a project ships: files
// named *.conf (or nginx*), up to a few directories deep, that proxy.
func nginxConfigFiles(dir string) []nginxConfig {
	var files []nginxConfig
	skip := map[string]bool{".git": true, "node_modules": true, "__pycache__": true, "site-packages": true,
		".venv": true, "venv": true, "env": true, ".tox": true, "static": true, "staticfiles": true, "media": true}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			if path != dir && (skip[d.Name()] || strings.Count(rel, string(filepath.Separator)) >= 3) {
				return filepath.SkipDir
			}
			return nil
		}
		name := strings.ToLower(d.Name())
		if !strings.HasSuffix(name, ".conf") && !strings.HasPrefix(name, "nginx") && !strings.HasSuffix(name, ".conf.template") {
			return nil
		}
		if info, err := d.Info(); err != nil || info.Size() > 256<<10 || len(files) >= 20 {
			return nil
		}
		data, err := os.ReadFile(path)
		if err == nil && bytes.Contains(data, []byte("proxy_pass")) {
			files = append(files, nginxConfig{rel: rel, data: data})
		}
		return nil
	})
	return files
}

// checkNginxConfig: does the nginx configuration the project ships pass the
// forwarding headers in every location that proxies to the app?
func checkNginxConfig(ev Evidence) (Result, bool) {
	if ev.Dir == "" {
		return Result{}, false
	}
	files := nginxConfigFiles(ev.Dir)
	if len(files) == 0 {
		return Result{}, false
	}
	var app nginxApp
	app.forwardedHost, _ = ev.Probe.Settings["USE_X_FORWARDED_HOST"].(bool)
	if sv := ev.Probe.Server; sv != nil && sv.Name == "gunicorn" && sv.Uvicorn == nil {
		for name := range sv.SecureSchemeHeaders {
			if !strings.EqualFold(name, "X-Forwarded-Proto") {
				app.schemeHeaders = append(app.schemeHeaders, http.CanonicalHeaderKey(name))
			}
		}
		slices.Sort(app.schemeHeaders)
	}
	var findings []nginxFinding
	var names []string
	for _, f := range files {
		names = append(names, f.rel)
		findings = append(findings, nginxProxyFindings(ev.Dir, filepath.ToSlash(f.rel), parseNginx(f.data), app)...)
	}
	r := Result{ID: IDNginxConfig}
	if len(findings) == 0 {
		r.Status = Pass
		r.Summary = "the project's nginx configuration (" + strings.Join(names, ", ") + ") sends X-Forwarded-Proto and the browser's Host wherever it proxies"
		return r, true
	}
	// Warnings first; advice alone makes the result advice.
	slices.SortStableFunc(findings, func(a, b nginxFinding) int {
		switch {
		case a.info == b.info:
			return 0
		case b.info:
			return -1
		}
		return 1
	})
	r.Status = Warn
	if findings[0].info {
		r.Status = Info
	}
	r.Summary = "the project's nginx configuration: " + findings[0].text
	r.Where = findings[0].where
	var more []string
	for _, f := range findings[1:] {
		more = append(more, f.where+": "+f.text)
	}
	r.Detail = strings.Join(more, "; ")
	r.Fix = findings[0].fix
	return r, true
}
