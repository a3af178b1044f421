package project

// This file is the only one that knows the configuration file format. Every
// field states its default; the logic that uses the values lives in
// detect.go.

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// ConfigFileName is the project's own configuration file. Without it,
// devstack reads [tool.devstack] from pyproject.toml.
const ConfigFileName = "devstack.toml"

// fileConfig is devstack.toml, or [tool.devstack] in pyproject.toml. Pointer
// fields are nil when the key is absent, so that defaults and the
// environment can be told apart from explicit values.
type fileConfig struct {
	// Port is the HTTPS proxy's port. Default 8080.
	Port *int `toml:"port"`
	// AppPort is the gateway's port on Host. Default 8000.
	AppPort *int `toml:"app_port"`
	// Host is the address the gateway binds to. Default "127.0.0.1".
	Host *string `toml:"host"`
	// Bind is another name for Host; set one or the other.
	Bind *string `toml:"bind"`
	// Hosts are extra host names the browser uses (for the certificate and
	// the ALLOWED_HOSTS checks). Default none: localhost, 127.0.0.1 and ::1
	// are always included.
	Hosts []string `toml:"hosts"`
	// Python is the interpreter to use. Default: searched (.venv, venv,
	// $VIRTUAL_ENV, python3 on PATH, /usr/bin/python3).
	Python *string `toml:"python"`
	// App is the gateway target "pkg.module:callable". Default: detected.
	App *string `toml:"app"`
	// Settings is the Django settings module. Default: $DJANGO_SETTINGS_MODULE,
	// then the env files, then manage.py.
	Settings *string `toml:"settings"`
	// Server is "gunicorn", "uvicorn" or "command". Default: gunicorn for a
	// WSGI app, uvicorn for an ASGI app, command when Command is set.
	Server *string `toml:"server"`
	// Command replaces the gateway: an argv list or a command string; "{port}"
	// is replaced by the app port. Default none.
	Command *commandValue `toml:"command"`
	// Args are extra arguments appended to the gunicorn or uvicorn command.
	// Default none.
	Args []string `toml:"args"`
	// EnvFiles are read, in order, into the children's environment. Default
	// [".env"] (a missing .env is fine; a missing listed file is an error
	// only when set here).
	EnvFiles *[]string `toml:"env_files"`
	// Env adds variables to every child's environment, over the env files'
	// (devstack's own environment still wins). Default none.
	Env map[string]string `toml:"env"`
	// CABundle gives every child a CA bundle (the system's roots, certifi's
	// and devstack's CA) through SSL_CERT_FILE, REQUESTS_CA_BUNDLE,
	// CURL_CA_BUNDLE and NODE_EXTRA_CA_CERTS, each unless the user set it,
	// so the app can call its own https URL. Default true.
	CABundle *bool `toml:"ca_bundle"`
	// Watch selects the files whose changes reload the gateway.
	Watch watchConfig `toml:"watch"`
	// Processes run beside the gateway, by name. Default none (plus
	// Procfile.dev; these win on a name clash).
	Processes map[string]processConfig `toml:"processes"`
	// Proxy is the HTTPS proxy's header policy and limits.
	Proxy proxyConfig `toml:"proxy"`
}

type watchConfig struct {
	// Include lists globs whose changes reload. Default ["**"] (everything).
	Include []string `toml:"include"`
	// Exclude lists globs that never reload, added to the built-in ignores
	// (VCS and tool directories, bytecode, virtualenvs, editor temp files,
	// SQLite databases) and the .gitignore patterns. Default none.
	// Default none.
	Exclude []string `toml:"exclude"`
}

type processConfig struct {
	// Command is an argv list or a command string. Required.
	Command *commandValue `toml:"command"`
	// RestartOn lists globs whose changes restart this process. Default none.
	RestartOn []string `toml:"restart_on"`
	// Env adds variables to this process only. Default none.
	Env map[string]string `toml:"env"`
	// Dir is the working directory, relative to the project. Default ".".
	Dir *string `toml:"dir"`
}

type proxyConfig struct {
	// ForwardedProto sends X-Forwarded-Proto. Default true.
	ForwardedProto *bool `toml:"forwarded_proto"`
	// ForwardedFor sends X-Forwarded-For. Default true.
	ForwardedFor *bool `toml:"forwarded_for"`
	// ForwardedHost sends X-Forwarded-Host. Default true.
	ForwardedHost *bool `toml:"forwarded_host"`
	// ForwardedSSL sends X-Forwarded-Ssl: on. Default false.
	ForwardedSSL *bool `toml:"forwarded_ssl"`
	// RealIP sends X-Real-IP. Default false.
	RealIP *bool `toml:"real_ip"`
	// MaxBody is the largest request body, as bytes or "10MB", "64MiB", "1g".
	// Default "100MiB".
	MaxBody *sizeValue `toml:"max_body"`
	// HoldTimeout is how long a request waits for a restarting gateway, as
	// "10s" or seconds. Default "10s".
	HoldTimeout *durationValue `toml:"hold_timeout"`
}

// Defaults of the configuration (see fileConfig).
const (
	DefaultPort        = 8080
	DefaultAppPort     = 8000
	DefaultHost        = "127.0.0.1"
	DefaultMaxBody     = 100 << 20
	DefaultHoldTimeout = 10 * time.Second
)

// DefaultEnvFiles are read when the config does not set env_files.
var DefaultEnvFiles = []string{".env"}

// commandValue is a command given either as an argv list or as one string.
type commandValue struct {
	Argv []string // set when given as a list
	Line string   // set when given as a string
}

func (c *commandValue) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		if strings.TrimSpace(v) == "" {
			return errors.New("must not be empty")
		}
		c.Line = v
		return nil
	case []any:
		if len(v) == 0 {
			return errors.New("must not be an empty list")
		}
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("must be a string or a list of strings, found a %s in the list", tomlTypeName(e))
			}
			c.Argv = append(c.Argv, s)
		}
		return nil
	}
	return fmt.Errorf("must be a string or a list of strings, not a %s", tomlTypeName(v))
}

// sizeValue is a byte count given as an integer or a string with a unit.
type sizeValue int64

func (s *sizeValue) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case int64:
		if v < 0 {
			return errors.New("must not be negative")
		}
		*s = sizeValue(v)
		return nil
	case string:
		n, err := parseSize(v)
		if err != nil {
			return err
		}
		*s = sizeValue(n)
		return nil
	}
	return fmt.Errorf("must be a number of bytes or a size like \"10MB\", not a %s", tomlTypeName(v))
}

var sizeRE = regexp.MustCompile(`^\s*(\d+)\s*([A-Za-z]*)\s*$`)

// parseSize reads "512", "10KB" (1000), "10KiB" (1024) and nginx-style "10k",
// "10m", "1g" (1024).
func parseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size (use bytes or a unit: \"10MB\", \"64MiB\", \"1g\")", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is too large", s)
	}
	units := map[string]int64{
		"": 1, "b": 1,
		"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
		"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
		"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	}
	u, ok := units[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("%q has an unknown unit %q (use B, KB, MB, GB, KiB, MiB or GiB)", s, m[2])
	}
	if n > (1<<62)/u {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * u, nil
}

// durationValue is a duration given as "10s" or as seconds.
type durationValue time.Duration

func (d *durationValue) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case int64:
		if v < 0 {
			return errors.New("must not be negative")
		}
		*d = durationValue(time.Duration(v) * time.Second)
		return nil
	case float64:
		if v < 0 {
			return errors.New("must not be negative")
		}
		*d = durationValue(time.Duration(v * float64(time.Second)))
		return nil
	case string:
		x, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (use \"10s\", \"1m30s\" or seconds)", v)
		}
		if x < 0 {
			return errors.New("must not be negative")
		}
		*d = durationValue(x)
		return nil
	}
	return fmt.Errorf("must be a duration like \"10s\" or a number of seconds, not a %s", tomlTypeName(v))
}

func tomlTypeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case []any, []map[string]any:
		return "list"
	case map[string]any:
		return "table"
	case time.Time:
		return "date"
	}
	return fmt.Sprintf("%T", v)
}

// loadedConfig is the configuration file that was found, if any.
type loadedConfig struct {
	fileConfig
	Path        string   // absolute path, "" when there is no config
	Display     string   // path as shown to the user
	ProcessKeys []string // [processes.NAME] names in file order
	Warnings    []string
}

// loadConfig reads devstack.toml, or else [tool.devstack] from
// pyproject.toml. No configuration at all is not an error.
func loadConfig(dir string) (*loadedConfig, error) {
	own := filepath.Join(dir, ConfigFileName)
	data, err := os.ReadFile(own)
	switch {
	case err == nil:
		lc, err := decodeConfig(own, ConfigFileName, string(data), nil)
		if err != nil {
			return nil, err
		}
		if py, err := os.ReadFile(filepath.Join(dir, "pyproject.toml")); err == nil &&
			regexp.MustCompile(`(?m)^\s*\[\s*tool\s*\.\s*devstack\s*[.\]]`).Match(py) {
			lc.Warnings = append(lc.Warnings, "pyproject.toml has a [tool.devstack] table too; devstack.toml wins and it is ignored")
		}
		return lc, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, &Error{Msg: "reading " + own, Err: err, Fix: "make " + ConfigFileName + " readable, or remove it"}
	}

	py := filepath.Join(dir, "pyproject.toml")
	data, err = os.ReadFile(py)
	if errors.Is(err, os.ErrNotExist) {
		return &loadedConfig{}, nil
	}
	if err != nil {
		return nil, &Error{Msg: "reading " + py, Err: err, Fix: "make pyproject.toml readable"}
	}
	var sections struct {
		Tool map[string]toml.Primitive `toml:"tool"`
	}
	if _, err := toml.Decode(string(data), &sections); err != nil {
		return nil, syntaxError("pyproject.toml", err)
	}
	if _, ok := sections.Tool["devstack"]; !ok {
		return &loadedConfig{}, nil
	}
	return decodeConfig(py, "pyproject.toml", string(data), toml.Key{"tool", "devstack"})
}

// decodeConfig decodes data into a fileConfig found under prefix (nil for
// devstack.toml, tool.devstack for pyproject.toml).
func decodeConfig(path, display, data string, prefix toml.Key) (*loadedConfig, error) {
	lc := &loadedConfig{Path: path, Display: display}
	// Syntax first, so that a syntax error is reported as one and not as a
	// bad value of the last key read.
	var syntax map[string]any
	if _, err := toml.Decode(data, &syntax); err != nil {
		return nil, syntaxError(display, err)
	}
	var md toml.MetaData
	var err error
	if prefix == nil {
		md, err = toml.Decode(data, &lc.fileConfig)
	} else {
		var wrapper struct {
			Tool struct {
				Devstack *fileConfig `toml:"devstack"`
			} `toml:"tool"`
		}
		wrapper.Tool.Devstack = &lc.fileConfig
		md, err = toml.Decode(data, &wrapper)
	}
	if err != nil {
		return nil, tomlError(display, data, prefix, err)
	}

	// Unknown keys: report the first one in file order, skipping the keys
	// inside an unknown table (the table itself is the mistake).
	var unknown []toml.Key
	for _, k := range md.Undecoded() {
		if !hasPrefix(k, prefix) || len(k) == len(prefix) {
			continue // another tool's table in pyproject.toml
		}
		inner := false
		for _, u := range unknown {
			if hasPrefix(k, u) {
				inner = true
				break
			}
		}
		if !inner {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		k := unknown[0]
		rel := k[len(prefix):]
		return nil, &ConfigError{
			File: display,
			Line: findKeyLine(data, k),
			Key:  rel.String(),
			Msg:  fmt.Sprintf("unknown key %q", rel.String()),
			Fix:  unknownKeyFix(rel),
		}
	}

	for _, k := range md.Keys() {
		rel := k[min(len(prefix), len(k)):]
		if hasPrefix(k, prefix) && len(rel) == 2 && rel[0] == "processes" {
			lc.ProcessKeys = append(lc.ProcessKeys, rel[1])
		}
	}
	if err := lc.validate(data, prefix); err != nil {
		return nil, err
	}
	return lc, nil
}

// validate checks what the types alone cannot.
func (lc *loadedConfig) validate(data string, prefix toml.Key) error {
	bad := func(fix string, format string, key ...string) error {
		k := append(append(toml.Key{}, prefix...), key...)
		return &ConfigError{File: lc.Display, Line: findKeyLine(data, k), Key: toml.Key(key).String(),
			Msg: fmt.Sprintf(format, toml.Key(key).String()), Fix: fix}
	}
	for _, p := range []struct {
		v   *int
		key string
	}{{lc.Port, "port"}, {lc.AppPort, "app_port"}} {
		if p.v != nil && (*p.v < 1 || *p.v > 65535) {
			return bad("use a port between 1 and 65535", "%s must be between 1 and 65535", p.key)
		}
	}
	if lc.Host != nil && lc.Bind != nil {
		return bad("keep host and remove bind (they are the same setting)", "%s and host are both set", "bind")
	}
	for _, h := range lc.Hosts {
		if !hostNameRE.MatchString(h) {
			return bad(`list bare host names, e.g. hosts = ["myapp.test"] (no scheme, port or path)`, "%s entry "+strconv.Quote(h)+" is not a host name", "hosts")
		}
	}
	if lc.Server != nil {
		switch *lc.Server {
		case ServerGunicorn, ServerUvicorn, ServerCommand:
		default:
			return bad(`use server = "gunicorn", "uvicorn" or "command"`, "%s must be \"gunicorn\", \"uvicorn\" or \"command\"", "server")
		}
		if *lc.Server == ServerCommand && lc.Command == nil {
			return bad(`add command = ["your-server", "--port", "{port}"], or remove server`, "%s is \"command\" but no command is set", "server")
		}
	}
	for _, k := range sortedKeys(lc.Env) {
		if !envKeyRE.MatchString(k) {
			return bad("use letters, digits and _ in names, not starting with a digit", "%s has a bad variable name "+strconv.Quote(k), "env")
		}
	}
	if lc.App != nil && !targetRE.MatchString(*lc.App) {
		return bad(`write it as app = "package.module:callable", e.g. "mysite.wsgi:application"`, "%s must look like \"package.module:callable\"", "app")
	}
	if lc.Settings != nil && !moduleRE.MatchString(*lc.Settings) {
		return bad(`write it as settings = "mysite.settings"`, "%s must be a dotted module name", "settings")
	}
	for _, g := range lc.Watch.Include {
		if err := checkGlob(g); err != nil {
			return bad("fix the pattern: "+err.Error(), "%s has a bad pattern", "watch", "include")
		}
	}
	for _, g := range lc.Watch.Exclude {
		if err := checkGlob(g); err != nil {
			return bad("fix the pattern: "+err.Error(), "%s has a bad pattern", "watch", "exclude")
		}
	}
	for _, name := range lc.ProcessKeys {
		pc := lc.Processes[name]
		if !processNameRE.MatchString(name) {
			return bad("use letters, digits, - and _ in process names", "process name %s is not valid", "processes", name)
		}
		if pc.Command == nil {
			return bad(`add command = "…" to [processes.`+name+`]`, "%s has no command", "processes", name)
		}
		for _, g := range pc.RestartOn {
			if err := checkGlob(g); err != nil {
				return bad("fix the pattern: "+err.Error(), "%s has a bad pattern", "processes", name, "restart_on")
			}
		}
	}
	return nil
}

// hostNameRE accepts a host name, "*.example.test" or an IP address.
var hostNameRE = regexp.MustCompile(`^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$|^[0-9a-fA-F:.]+$`)

var processNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// sortedKeys returns the keys of m in order, for stable output.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
