package orchestrator

import (
	"slices"
	"testing"

	"github.com/devstack-dev/devstack/orchestrator/watch"
	"github.com/devstack-dev/devstack/project"
)

func reconfigBase() *project.Project {
	return &project.Project{
		Dir: "/p", AppDir: "/p", Server: project.ServerGunicorn, Target: "app:app",
		Interpreter: project.Interpreter{Path: "/usr/bin/python3"},
		GatewayArgv: []string{"/usr/bin/python3", "-m", "gunicorn", "app:app"},
		Env:         []string{"A=1"},
		Port:        8080, AppPort: 8000, Host: "127.0.0.1",
		Processes: []project.Process{
			{Name: "worker", Argv: []string{"celery", "worker"}, Dir: "/p"},
			{Name: "beat", Argv: []string{"celery", "beat"}, Dir: "/p"},
		},
	}
}

func TestDiffConfig(t *testing.T) {
	tests := []struct {
		name        string
		edit        func(p *project.Project)
		applied     []string
		later       []string
		add, change []string
		remove      []string
	}{
		{name: "nothing", edit: func(p *project.Project) {}},
		{name: "args", edit: func(p *project.Project) { p.GatewayArgv = append(p.GatewayArgv, "--threads", "2") },
			applied: []string{"gateway args"}},
		{name: "app and settings", edit: func(p *project.Project) {
			p.Target, p.SettingsModule = "other:app", "mysite.settings_dev"
			p.GatewayArgv[3] = "other:app"
		}, applied: []string{"app other:app", "settings mysite.settings_dev"}},
		{name: "server", edit: func(p *project.Project) { p.Server = project.ServerUvicorn }, applied: []string{"server uvicorn"}},
		{name: "to a custom command", edit: func(p *project.Project) { p.Server = project.ServerCommand },
			later: []string{"server changed from gunicorn to command"}},
		{name: "env", edit: func(p *project.Project) { p.Env = []string{"A=2", "B=1"} },
			applied: []string{"environment A, B", `process "worker" changed`, `process "beat" changed`},
			change:  []string{"worker", "beat"}},
		{name: "processes", edit: func(p *project.Project) {
			p.Processes = []project.Process{
				{Name: "worker", Argv: []string{"celery", "worker", "-l", "info"}, Dir: "/p"},
				{Name: "mail", Argv: []string{"mailpit"}, Dir: "/p"},
			}
		}, applied: []string{`process "worker" changed`, `process "mail" added`, `process "beat" removed`},
			add: []string{"mail"}, change: []string{"worker"}, remove: []string{"beat"}},
		{name: "what a restart cannot apply", edit: func(p *project.Project) {
			p.Port, p.AppPort, p.Host, p.Hosts = 9000, 8001, "127.0.0.2", []string{"shop.test"}
			p.Proxy.MaxBody = 1
			p.Watch.Exclude = []string{"docs/"}
		}, later: []string{"port changed from 8080 to 9000", "app_port changed from 8000 to 8001",
			"host changed from 127.0.0.1 to 127.0.0.2", `hosts changed from [] to ["shop.test"]`,
			"the [proxy] settings changed", "the [watch] patterns changed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, cur := reconfigBase(), reconfigBase()
			tt.edit(cur)
			c := diffConfig(old, cur, 8080)
			for _, pair := range []struct {
				what      string
				got, want []string
			}{
				{"applied", c.applied, tt.applied}, {"later", c.later, tt.later},
				{"added", c.added, tt.add}, {"changed", c.changed, tt.change}, {"removed", c.removed, tt.remove},
			} {
				if !slices.Equal(pair.got, pair.want) {
					t.Errorf("%s = %q, want %q", pair.what, pair.got, pair.want)
				}
			}
		})
	}
}

// The proxy port is compared with the one the configuration asked for,
// not the one the proxy picked (--port 0).
func TestDiffConfigComparesTheConfiguredPort(t *testing.T) {
	old, cur := reconfigBase(), reconfigBase()
	old.Port, cur.Port = 43127, 0
	if c := diffConfig(old, cur, 0); len(c.later) != 0 {
		t.Errorf("later = %q, want nothing", c.later)
	}
}

func TestChangedConfig(t *testing.T) {
	s := &Stack{p: &project.Project{Dir: "/p", ConfigFile: "/p/devstack.toml"}}
	got := s.changedConfig(watch.Batch{Paths: []string{"Procfile", "app.py", "devstack.toml", "sub/pyproject.toml"}})
	if want := []string{"Procfile", "devstack.toml"}; !slices.Equal(got, want) {
		t.Errorf("changedConfig = %q, want %q", got, want)
	}
	if !onlyConfig([]string{"Procfile"}, got) || onlyConfig([]string{"Procfile", "app.py"}, got) {
		t.Error("onlyConfig is wrong")
	}
}

// A file the new configuration reads that the watcher, set up at start,
// does not know is named; one it restarts for by name is not.
func TestDiffConfigNamesUnwatchedFiles(t *testing.T) {
	old, cur := reconfigBase(), reconfigBase()
	old.EnvFiles = []string{"/p/.env"}
	cur.EnvFiles = []string{"/p/.env", "/p/.env.local", "/p/config/dev.env", "/elsewhere/shared.env"}
	cur.GunicornConfig = "/p/deploy/gunicorn.py"
	c := diffConfig(old, cur, 8080)
	if want := []string{"config/dev.env", "/elsewhere/shared.env", "deploy/gunicorn.py"}; !slices.Equal(c.unwatched, want) {
		t.Errorf("unwatched = %q, want %q", c.unwatched, want)
	}
}
