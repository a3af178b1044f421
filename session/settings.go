package session

// doctor --settings: another Django settings module checked behind the
// local proxy, with stand-ins for what only production has.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/devstack-dev/devstack/doctor"
	"github.com/devstack-dev/devstack/project"
	"github.com/devstack-dev/devstack/templates"
)

func missingVariable(lines []string) string {
	m := missingVariableRE.FindStringSubmatch(lastError(lines))
	for _, g := range m[min(1, len(m)):] {
		if g != "" {
			return g
		}
	}
	return ""
}

// placeholderFor is a value that lets settings load without reaching any
// production service: URLs that name nothing that answers, a marked
// non-secret otherwise.
// hosts are the names the requests use, for host and origin lists (in the
// form djangoVersion reads: host names before 4.0).
func placeholderFor(name string, hosts []string, djangoVersion string) string {
	switch {
	case strings.Contains(name, "DATABASE") && strings.HasSuffix(name, "URL"):
		return "sqlite://:memory:"
	case strings.Contains(name, "CACHE") && strings.HasSuffix(name, "URL"):
		return "locmemcache://"
	case strings.Contains(name, "REDIS") || strings.Contains(name, "BROKER"):
		return "redis://127.0.0.1:1/0"
	case strings.HasSuffix(name, "URL"):
		return "https://placeholder.invalid/"
	case strings.HasSuffix(name, "HOSTS"):
		return strings.Join(hosts, ",")
	case strings.HasSuffix(name, "ORIGINS"):
		origins := make([]string, len(hosts))
		for i, h := range hosts {
			origins[i] = "https://" + h
			if major, _, _ := strings.Cut(djangoVersion, "."); major < "4" && len(major) == 1 {
				origins[i] = h
			}
		}
		return strings.Join(origins, ",")
	case strings.HasSuffix(name, "DSN"):
		return "" // an error reporter's DSN: empty turns it off
	}
	return "devstack-doctor-placeholder"
}

// withoutApp is doctor --settings' report when the app does not start
// with the module asked for: each live check could not run, with the
// app's own error as the reason, and the checks the settings files can
// answer are judged from them.
func withoutApp(ctx context.Context, p *project.Project, module, origin string, err error, lines []string) (Report, error) {
	reason := err.Error()
	if last := lastError(lines); last != "" {
		reason = "the app does not start with " + module + ": " + last
	}
	static, serr := readSettings(ctx, p, module)
	if serr != nil {
		static = nil
	}
	about := About{Dir: p.Dir, Origin: origin, Via: "a short-lived stack that did not start", Settings: module,
		Framework: strings.TrimSpace(string(p.Framework) + " " + p.Interpreter.FrameworkVersion),
		Server:    strings.TrimSpace(p.Server + " " + p.Interpreter.GatewayVersion)}
	return Report{About: about, Checks: doctor.CheckWithoutApp(module, reason, static, p.Interpreter.FrameworkVersion, origin)}, nil
}

// lastError is the exception line of a Python traceback among the
// gateway's last lines ("KeyError: 'DATABASE_URL'"), or "".
func lastError(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if name, _, ok := strings.Cut(l, ": "); ok && !strings.Contains(name, " ") &&
			(strings.HasSuffix(name, "Error") || strings.HasSuffix(name, "Exception") || strings.HasSuffix(name, "ImproperlyConfigured")) {
			return l
		}
	}
	return ""
}

// readSettings reads what module's files set, without running them, with
// the project's interpreter (templates.SettingsReader).
func readSettings(ctx context.Context, p *project.Project, module string) (*templates.SettingsModule, error) {
	dir, err := os.MkdirTemp("", "devstack-settings-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := templates.WriteTo(dir); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.Interpreter.Path, filepath.Join(dir, templates.SettingsReader), module)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), p.Env...)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("reading the settings module %s: %w", module, err)
	}
	var m templates.SettingsModule
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("reading the settings module %s: %w", module, err)
	}
	return &m, nil
}

// maxPlaceholders bounds how many missing variables doctor --settings
// stands in for before it reports the checks as not run.
const maxPlaceholders = 8

// missingVariableRE finds the variable a settings module stopped at, in
// the exception line of its traceback: os.environ["X"] (KeyError: 'X'),
// django-environ (Set the X environment variable), environs (Environment
// variable "X" not set), python-decouple (X not found. Declare it as
// envvar…).
var missingVariableRE = regexp.MustCompile(`^(?:KeyError: '([A-Z][A-Z0-9_]*)'|\S*ImproperlyConfigured: Set the ([A-Z][A-Z0-9_]*) environment variable|\S*EnvError: Environment variable "([A-Z][A-Z0-9_]*)" not set|\S*UndefinedValueError: ([A-Z][A-Z0-9_]*) not found)`)
