package project

import (
	"fmt"
	"strconv"
	"strings"
)

// Overrides are the settings that beat the configuration file: the CLI
// fills one from its flags and one from the environment (EnvOverrides), and
// passes flags.Or(env) to Detect. Zero values mean "not set".
type Overrides struct {
	Python  string   // --python / DEVSTACK_PYTHON: the interpreter, a path or a name on PATH
	Port    int      // --port / DEVSTACK_PORT: the HTTPS proxy port
	AppPort int      // --app-port / DEVSTACK_APP_PORT: the gateway port
	Host    string   // --host / DEVSTACK_HOST: the gateway bind address
	App     string   // --app / DEVSTACK_APP: the target "pkg.module:callable"
	Server  string   // --server / DEVSTACK_SERVER: gunicorn, uvicorn or command
	Command []string // -- COMMAND… / DEVSTACK_COMMAND; a single element with spaces is a command line

	// Environ is devstack's own environment (PATH, VIRTUAL_ENV,
	// DJANGO_SETTINGS_MODULE…); nil means os.Environ().
	Environ []string

	// testOnlySystemPythons replaces /usr/bin/python3 and
	// /usr/local/bin/python3 at the end of the search, so that a test can
	// build a machine without them.
	testOnlySystemPythons []string

	// fromEnv names the fields that came from the environment, so messages
	// name DEVSTACK_PYTHON rather than --python.
	fromEnv map[string]bool
}

// EnvOverrides reads the DEVSTACK_* variables through lookup (os.LookupEnv
// in the CLI). A malformed number is an error naming the variable.
func EnvOverrides(lookup func(string) (string, bool)) (Overrides, error) {
	var o Overrides
	o.fromEnv = map[string]bool{}
	str := func(name string, dst *string, field string) {
		if v, ok := lookup(name); ok && v != "" {
			*dst = v
			o.fromEnv[field] = true
		}
	}
	port := func(name string, dst *int, field string) error {
		v, ok := lookup(name)
		if !ok || v == "" {
			return nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 65535 {
			return &Error{Msg: fmt.Sprintf("%s=%q is not a port number", name, v), Fix: "set " + name + " to a number between 1 and 65535, or unset it"}
		}
		*dst = n
		o.fromEnv[field] = true
		return nil
	}
	if err := port("DEVSTACK_PORT", &o.Port, "Port"); err != nil {
		return Overrides{}, err
	}
	if err := port("DEVSTACK_APP_PORT", &o.AppPort, "AppPort"); err != nil {
		return Overrides{}, err
	}
	str("DEVSTACK_PYTHON", &o.Python, "Python")
	str("DEVSTACK_HOST", &o.Host, "Host")
	str("DEVSTACK_APP", &o.App, "App")
	str("DEVSTACK_SERVER", &o.Server, "Server")
	var cmd string
	str("DEVSTACK_COMMAND", &cmd, "Command")
	if cmd != "" {
		o.Command = []string{cmd}
	}
	return o, nil
}

// Or returns o with every unset field taken from lower: flags.Or(env).
func (o Overrides) Or(lower Overrides) Overrides {
	out := o
	out.fromEnv = map[string]bool{}
	for k, v := range o.fromEnv {
		out.fromEnv[k] = v
	}
	take := func(field string, unset bool, set func()) {
		if unset {
			set()
			out.fromEnv[field] = lower.fromEnv[field]
		}
	}
	take("Python", o.Python == "", func() { out.Python = lower.Python })
	take("Port", o.Port == 0, func() { out.Port = lower.Port })
	take("AppPort", o.AppPort == 0, func() { out.AppPort = lower.AppPort })
	take("Host", o.Host == "", func() { out.Host = lower.Host })
	take("App", o.App == "", func() { out.App = lower.App })
	take("Server", o.Server == "", func() { out.Server = lower.Server })
	take("Command", len(o.Command) == 0, func() { out.Command = lower.Command })
	if out.Environ == nil {
		out.Environ = lower.Environ
	}
	return out
}

// source names where an override came from, for messages.
func (o Overrides) source(field, flag, env string) string {
	if o.fromEnv[field] {
		return env
	}
	return flag
}
