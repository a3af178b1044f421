package orchestrator

import (
	"os"
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
// config's env): a value the user chose is never replaced.
func withCABundle(env []string, bundle string) []string {
	if bundle == "" {
		return env
	}
	out := append([]string(nil), env...)
	for _, k := range CABundleVars {
		if _, set := os.LookupEnv(k); set || hasKey(env, k) {
			continue
		}
		out = append(out, k+"="+bundle)
	}
	return out
}

func hasKey(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
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
// restarted with it. A file that no longer parses keeps the values read
// before, and says why.
func (s *Stack) refreshEnv() {
	before := s.project()
	env, changed, err := project.ReadEnv(before)
	if err != nil {
		s.say("environment not read again: %v; keeping the previous values", err)
		return
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
	for i, ep := range p.Processes {
		if i >= len(s.extras) {
			break
		}
		if err := s.extras[i].SetEnv(s.processEnv(&p, ep)); err != nil {
			continue // it has stopped: nothing to restart
		}
		s.say("restarting %s: its environment changed", ep.Name)
		if err := s.extras[i].Restart(); err != nil {
			s.say("restarting %s: %v", ep.Name, err)
		}
	}
}
