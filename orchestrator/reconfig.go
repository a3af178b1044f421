package orchestrator

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/devstack-dev/devstack/internal/hint"
	"github.com/devstack-dev/devstack/orchestrator/watch"
	"github.com/devstack-dev/devstack/project"
)

// configFiles are the files, at the project root, that say how the project
// runs: a change to one detects the project again (Options.Redetect).
var configFiles = []string{"devstack.toml", "pyproject.toml", "Procfile", "Procfile.dev"}

// changedConfig lists the config files among b's paths.
func (s *Stack) changedConfig(b watch.Batch) []string {
	var out []string
	for _, rel := range b.Paths {
		if slices.Contains(configFiles, rel) || (s.p.ConfigFile != "" && rel == relTo(s.p.Dir, s.p.ConfigFile)) {
			if !slices.Contains(out, rel) {
				out = append(out, rel)
			}
		}
	}
	return out
}

// relTo is file relative to dir, slash-separated, or file when outside it.
func relTo(dir, file string) string {
	if r, ok := strings.CutPrefix(file, dir+"/"); ok {
		return r
	}
	return file
}

// configChange is what a new detection of the project changes: what the
// next restart applies, and what only a new devstack up can.
type configChange struct {
	applied []string // "gateway args", `process "worker" added`…
	later   []string // "port changed from 8080 to 9000"
	// unwatched are files the new configuration reads that the watcher,
	// set up at start, does not watch: an edit to one restarts the
	// gateway only from the next devstack up.
	unwatched []string
	// added, changed and removed name the extra processes to start,
	// restart with their new command, and stop.
	added, changed, removed []string
}

// diffConfig compares the project that runs with the one detected again.
// configPort is the proxy port the configuration asked for at start.
func diffConfig(old, cur *project.Project, configPort int) configChange {
	var c configChange
	apply := func(what string) { c.applied = append(c.applied, what) }
	later := func(what string, a, b any) {
		c.later = append(c.later, fmt.Sprintf("%s changed from %v to %v", what, a, b))
	}
	gatewayChanged := false
	switch {
	case old.Server != cur.Server && (old.Server == project.ServerCommand || cur.Server == project.ServerCommand):
		later("server", old.Server, cur.Server)
	default:
		if old.Server != cur.Server {
			apply("server " + cur.Server)
			gatewayChanged = true
		}
		if old.Target != cur.Target {
			apply("app " + cur.Target)
			gatewayChanged = true
		}
		if old.SettingsModule != cur.SettingsModule {
			apply("settings " + cur.SettingsModule)
			gatewayChanged = true
		}
		if old.Interpreter.Path != cur.Interpreter.Path {
			apply("interpreter " + cur.Interpreter.Path)
			gatewayChanged = true
		}
		if !gatewayChanged && (!slices.Equal(old.GatewayArgv, cur.GatewayArgv) || old.GatewayShell != cur.GatewayShell ||
			old.AppDir != cur.AppDir || !slices.Equal(old.GatewayEnv, cur.GatewayEnv)) {
			apply("gateway args")
		}
		if names := project.ChangedEnvNames(old.Env, cur.Env); len(names) > 0 {
			apply("environment " + strings.Join(names, ", "))
		}
	}
	if configPort != cur.Port {
		later("port", configPort, cur.Port)
	}
	if old.AppPort != cur.AppPort {
		later("app_port", old.AppPort, cur.AppPort)
	}
	if old.Host != cur.Host {
		later("host", old.Host, cur.Host)
	}
	if !slices.Equal(old.Hosts, cur.Hosts) {
		later("hosts", fmt.Sprintf("%q", old.Hosts), fmt.Sprintf("%q", cur.Hosts))
	}
	if !reflect.DeepEqual(old.Proxy, cur.Proxy) {
		c.later = append(c.later, "the [proxy] settings changed")
	}
	if old.CABundle != cur.CABundle {
		later("ca_bundle", old.CABundle, cur.CABundle)
	}
	if !reflect.DeepEqual(old.Watch, cur.Watch) {
		c.later = append(c.later, "the [watch] patterns changed")
	}

	c.unwatched = unwatchedFiles(old, cur)

	oldProcs := map[string]project.Process{}
	for _, ep := range old.Processes {
		oldProcs[ep.Name] = ep
	}
	for _, ep := range cur.Processes {
		was, ok := oldProcs[ep.Name]
		switch {
		case !ok:
			c.added = append(c.added, ep.Name)
			apply(fmt.Sprintf("process %q added", ep.Name))
		case !sameProcess(was, ep) || !slices.Equal(old.Env, cur.Env):
			c.changed = append(c.changed, ep.Name)
			apply(fmt.Sprintf("process %q changed", ep.Name))
		}
	}
	for _, ep := range old.Processes {
		if !slices.ContainsFunc(cur.Processes, func(n project.Process) bool { return n.Name == ep.Name }) {
			c.removed = append(c.removed, ep.Name)
			apply(fmt.Sprintf("process %q removed", ep.Name))
		}
	}
	return c
}

// unwatchedFiles are the env files and the gunicorn config cur reads that
// old did not, and that the watcher does not know by name (a root .env,
// .env.*, .flaskenv or gunicorn.conf.py always restarts the gateway),
// relative to the project when inside it.
func unwatchedFiles(old, cur *project.Project) []string {
	watched := filesRead(old)
	var out []string
	for _, f := range filesRead(cur) {
		rel := relTo(old.Dir, f)
		if slices.Contains(watched, f) || slices.Contains(out, rel) || knownByName(old.Dir, f) {
			continue
		}
		out = append(out, rel)
	}
	return out
}

// filesRead are the env files and the gunicorn config p reads, in a
// slice of their own (p's lists are shared with the running stack).
func filesRead(p *project.Project) []string {
	files := slices.Clone(p.EnvFilesWatched())
	if p.GunicornConfig != "" {
		files = append(files, p.GunicornConfig)
	}
	return files
}

// knownByName reports whether the watcher restarts the gateway for file
// whatever the configuration: a root .env, .env.*, .flaskenv or
// gunicorn.conf.py.
func knownByName(dir, file string) bool {
	rel, ok := strings.CutPrefix(file, dir+"/")
	if !ok || strings.Contains(rel, "/") {
		return false
	}
	return rel == ".env" || strings.HasPrefix(rel, ".env.") || rel == ".flaskenv" || rel == "gunicorn.conf.py"
}

func sameProcess(a, b project.Process) bool {
	return slices.Equal(a.Argv, b.Argv) && a.Shell == b.Shell && a.Dir == b.Dir &&
		slices.Equal(a.Env, b.Env) && slices.Equal(a.RestartOn, b.RestartOn)
}

// reconfigure detects the project again after its config files changed
// and makes the next restart of the gateway run what it says: its command
// and environment, and the extra processes started, stopped or restarted.
// What only a new devstack up applies is said, never dropped. It returns
// false when the project could not be detected: the stack keeps running
// as it is, and the error is told once until it changes.
func (s *Stack) reconfigure(ctx context.Context, files []string) bool {
	cur, err := s.opts.Redetect()
	if err != nil {
		text := err.Error() + "\n" + hint.Of(err)
		if text != s.configErr {
			s.configErr = text
			s.say("error: %v (%s not applied: the stack keeps running as it was)", err, strings.Join(files, ", "))
			if h := strings.TrimSpace(hint.Of(err)); h != "" {
				for line := range strings.SplitSeq(h, "\n") {
					s.say("hint: %s", line)
				}
			}
		}
		return false
	}
	s.configErr = ""
	old := s.project()
	for _, w := range cur.Warnings {
		if !slices.Contains(old.Warnings, w) {
			s.say("warning: %s", w)
		}
	}
	c := diffConfig(old, cur, s.configPort)
	name := strings.Join(files, ", ")
	for _, l := range c.later {
		s.say("%s: %s; it takes effect on the next devstack up", name, l)
	}
	for _, f := range c.unwatched {
		s.say("%s: %s is read from now on; an edit to it restarts the gateway from the next devstack up", name, f)
	}
	if v := cur.Interpreter.Venv; v != "" && v != old.Interpreter.Venv {
		s.say("%s: a package installed in %s restarts the gateway from the next devstack up", name, relTo(old.Dir, v))
	}
	if len(c.applied) == 0 {
		return true // a comment, or only what takes effect later
	}
	s.say("%s changed: %s", name, strings.Join(c.applied, ", "))

	// What a restart cannot apply stays as it runs.
	next := *cur
	next.Port, next.AppPort, next.Host, next.Hosts, next.Proxy = s.p.Port, old.AppPort, old.Host, old.Hosts, old.Proxy
	next.CABundle, next.Watch, next.Dir = old.CABundle, old.Watch, old.Dir
	if (old.Server == project.ServerCommand) != (cur.Server == project.ServerCommand) {
		next.Server, next.Target, next.GatewayArgv, next.GatewayShell, next.GatewayEnv = old.Server, old.Target, old.GatewayArgv, old.GatewayShell, old.GatewayEnv
	}
	s.current.Store(&next)
	if err := s.gateway.SetCommand(gatewaySpec(&next, s.opts.RunDir, s.probePath, s.opts.CABundle)); err != nil {
		s.say("gateway: %v", err)
	}
	s.applyProcesses(ctx, &next, c)
	return true
}

// applyProcesses starts the extra processes c added, stops the ones it
// removed and restarts the changed ones with their new command; the
// others keep running.
func (s *Stack) applyProcesses(ctx context.Context, p *project.Project, c configChange) {
	byName := map[string]*Process{}
	for _, proc := range s.extraProcesses() {
		byName[proc.Name()] = proc
	}
	for _, name := range c.removed {
		if proc := byName[name]; proc != nil {
			if err := proc.Stop(false); err != nil {
				s.say("stopping %s: %v", name, err)
			}
			delete(byName, name)
		}
	}
	var extras []*Process
	for _, ep := range p.Processes {
		spec := s.processSpec(p, ep)
		proc := byName[ep.Name]
		switch {
		case proc == nil:
			np, err := NewProcess(spec, s.bus.Publish)
			if err == nil {
				err = np.Start(ctx)
			}
			if err != nil {
				s.say("starting %s: %v", ep.Name, err)
				continue
			}
			proc = np
		case slices.Contains(c.changed, ep.Name):
			if err := proc.SetCommand(spec); err != nil {
				s.say("restarting %s: %v", ep.Name, err)
			} else if err := proc.Restart(); err != nil {
				s.say("restarting %s: %v", ep.Name, err)
			}
		}
		extras = append(extras, proc)
	}
	s.mu.Lock()
	s.extras = extras
	s.mu.Unlock()
}

// processSpec is how extra process ep of p runs.
func (s *Stack) processSpec(p *project.Project, ep project.Process) ProcessSpec {
	return ProcessSpec{
		Name: ep.Name, Argv: ep.Argv, Dir: ep.Dir,
		Env:          s.processEnv(p, ep),
		StopTimeout:  s.opts.StopTimeout,
		PublishLines: s.bus.PublishOwned,
	}
}

// extraProcesses are the extra processes as they run now.
func (s *Stack) extraProcesses() []*Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.extras
}

// extraNamed is the running extra process called name, nil if none.
func (s *Stack) extraNamed(name string) *Process {
	for _, proc := range s.extraProcesses() {
		if proc.Name() == name {
			return proc
		}
	}
	return nil
}

// onlyConfig reports whether every path changed is one of files.
func onlyConfig(paths, files []string) bool {
	for _, p := range paths {
		if !slices.Contains(files, p) {
			return false
		}
	}
	return true
}
