package orchestrator

import (
	"os"
	"slices"
	"strings"

	"github.com/devstack-dev/devstack/project"
)

// CABundleVars are the variables that point the child's TLS clients at
// devstack's CA bundle: OpenSSL and Python's ssl module (SSL_CERT_FILE),
// requests (REQUESTS_CA_BUNDLE), curl (CURL_CA_BUNDLE) and Node, which
// ignores the system store (NODE_EXTRA_CA_CERTS).
var CABundleVars = []string{"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"}

// withCABundle adds the CA bundle variables to env, leaving out each one
// the user set already (in devstack's environment, an env file or the
// config's env): a value the user chose is never replaced. An empty value
// counts as unset, as it does for OpenSSL and requests.
func withCABundle(env []string, bundle string) []string {
	if bundle == "" {
		return env
	}
	out := append([]string(nil), env...)
	kept := userCAVars(env)
	for _, k := range CABundleVars {
		if !slices.Contains(kept, k) {
			out = append(out, k+"="+bundle)
		}
	}
	return out
}

// userCAVars lists the CABundleVars the user set to a non-empty value, in
// devstack's environment or in env.
func userCAVars(env []string) []string {
	var set []string
	for _, k := range CABundleVars {
		if os.Getenv(k) != "" || lookupEnvIn(env, k) != "" {
			set = append(set, k)
		}
	}
	return set
}

// lookupEnvIn is the value of key in env (later entries win), "" if none.
func lookupEnvIn(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}

// sayKeptCAVars tells the user, once at start, which of their own CA
// variables the app keeps: its calls to its own https URL then trust only
// what those files hold.
func (s *Stack) sayKeptCAVars() {
	if s.opts.CABundle == "" {
		return
	}
	if kept := userCAVars(s.p.Env); len(kept) > 0 {
		s.say("CA bundle: %s set by you %s kept; the app trusts devstack's certificate through them only if they hold its CA (devstack ca install adds it to the system store)",
			strings.Join(kept, ", "), map[bool]string{true: "is", false: "are"}[len(kept) == 1])
	}
}

// project is the project as it runs now: the one Start was given, with the
// environment read again at the latest restart.
func (s *Stack) project() *project.Project {
	if p := s.current.Load(); p != nil {
		return p
	}
	return s.p
}

// processEnv is the environment added for an extra process.
func (s *Stack) processEnv(p *project.Project, ep project.Process) []string {
	return withCABundle(append(append([]string(nil), p.Env...), ep.Env...), s.opts.CABundle)
}

// refreshEnv reads the env files and the config's env again before a
// restart, so that an edit takes effect, and says which variables changed
// (their names only: values may be secrets). The gateway starts with the
// new environment; an extra process whose environment changed is
// restarted with it. A line it skips is told once (the start told the
// first ones). A file that can no longer be read keeps the values read
// before, and says why.
func (s *Stack) refreshEnv() {
	before := s.project()
	env, changed, warnings, err := project.ReadEnv(before)
	if err != nil {
		s.say("environment not read again: %v; keeping the previous values", err)
		return
	}
	if s.envWarned == nil {
		s.envWarned = map[string]bool{}
		for _, w := range s.p.Warnings {
			s.envWarned[w] = true
		}
	}
	for _, w := range warnings {
		if !s.envWarned[w] {
			s.envWarned[w] = true
			s.say("warning: %s", w)
		}
	}
	if len(changed) == 0 {
		return
	}
	s.say("environment: %s changed", strings.Join(changed, ", "))
	p := *before
	p.Env = env
	s.current.Store(&p)
	if err := s.gateway.SetEnv(gatewaySpec(&p, s.opts.RunDir, s.probePath, s.opts.CABundle).Env); err != nil {
		s.say("environment: %v", err)
	}
	for _, ep := range p.Processes {
		proc := s.extraNamed(ep.Name)
		if proc == nil {
			continue
		}
		if err := proc.SetEnv(s.processEnv(&p, ep)); err != nil {
			continue // it has stopped: nothing to restart
		}
		s.say("restarting %s: its environment changed", ep.Name)
		if err := proc.Restart(); err != nil {
			s.say("restarting %s: %v", ep.Name, err)
		}
	}
}
