package orchestrator

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devstack-dev/devstack/project"
	"github.com/devstack-dev/devstack/templates"
)

func TestWithoutConfigFlag(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"app:app", "-c", "conf.py", "--workers", "2"}, []string{"app:app", "--workers", "2"}},
		{[]string{"app:app", "--config", "conf.py"}, []string{"app:app"}},
		{[]string{"app:app", "--config=conf.py", "-w", "3"}, []string{"app:app", "-w", "3"}},
		{[]string{"app:app", "-cconf.py"}, []string{"app:app"}},
		{[]string{"app:app", "--check-config"}, []string{"app:app", "--check-config"}},
	} {
		if got := withoutConfigFlag(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("withoutConfigFlag(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The gateway runs the project's own command; devstack adds its config
// wrapper (which loads the project's config) and changes no trust setting.
func TestGatewaySpecGunicorn(t *testing.T) {
	p := &project.Project{
		Dir: "/srv/site", Server: project.ServerGunicorn, Framework: project.Django,
		Target:         "mysite.wsgi:application",
		GatewayArgv:    []string{"/usr/bin/python3", "-m", "gunicorn", "mysite.wsgi:application", "--bind", "127.0.0.1:8000", "-c", "prod.py"},
		GunicornConfig: "/srv/site/prod.py",
		Env:            []string{"PYTHONUNBUFFERED=1", "FORWARDED_ALLOW_IPS=10.0.0.1"},
	}
	spec := gatewaySpec(p, "/run/ds", "/.devstack/probe/x", "")
	wantArgv := []string{"/usr/bin/python3", "-m", "gunicorn", "mysite.wsgi:application", "--bind", "127.0.0.1:8000", "-c", filepath.Join("/run/ds", templates.GunicornConf)}
	if !slices.Equal(spec.Argv, wantArgv) {
		t.Errorf("argv %q, want %q", spec.Argv, wantArgv)
	}
	for _, want := range []string{"FORWARDED_ALLOW_IPS=10.0.0.1", templates.EnvProjectGunicornConf + "=/srv/site/prod.py", templates.EnvProbePath + "=/.devstack/probe/x",
		templates.EnvGatewayControl + "=" + filepath.Join("/run/ds", "gateway-control")} {
		if !slices.Contains(spec.Env, want) {
			t.Errorf("env lacks %s: %q", want, spec.Env)
		}
	}
	for _, a := range spec.Argv {
		if strings.Contains(a, "forwarded") || strings.Contains(a, "proxy") {
			t.Errorf("devstack added a trust flag to gunicorn: %q", spec.Argv)
		}
	}
	if spec.Name != "gunicorn" || spec.Dir != "/srv/site" {
		t.Errorf("name %q dir %q", spec.Name, spec.Dir)
	}
}

func TestGatewaySpecUvicornServesThroughTheProbeEntry(t *testing.T) {
	p := &project.Project{
		Dir: "/srv/api", Server: project.ServerUvicorn, Target: "main:app",
		GatewayArgv: []string{"/usr/bin/python3", "-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", "8000", "--forwarded-allow-ips", "10.0.0.1"},
		Env:         []string{"PYTHONPATH=/srv/lib"},
	}
	spec := gatewaySpec(p, "/run/ds", "/probe", "")
	if spec.Argv[3] != templates.ASGIApp || !slices.Contains(spec.Argv, "--forwarded-allow-ips") {
		t.Errorf("argv %q: want the probe entry in place of main:app and the project's flags kept", spec.Argv)
	}
	if !slices.Contains(spec.Env, templates.EnvASGIApp+"=main:app") || !slices.Contains(spec.Env, "PYTHONPATH=/run/ds:/srv/lib") {
		t.Errorf("env %q", spec.Env)
	}
	// uvicorn's command line, run by the supervisor that keeps a standby,
	// stopped through it.
	if spec.Argv[2] != templates.UvicornModule || !spec.TermLeaderOnly {
		t.Errorf("argv %q, leader-only stop %v: want -m %s, stopped through its leader", spec.Argv, spec.TermLeaderOnly, templates.UvicornModule)
	}
	if !slices.Contains(spec.Env, templates.EnvGatewayControl+"=/run/ds/gateway-control") {
		t.Errorf("env %q: want the control FIFO", spec.Env)
	}

	// A factory cannot be wrapped: the project's command runs as it is,
	// still under the supervisor.
	p.GatewayArgv = append(p.GatewayArgv, "--factory")
	spec = gatewaySpec(p, "/run/ds", "/probe", "")
	if spec.Argv[3] != "main:app" || spec.Argv[2] != templates.UvicornModule {
		t.Errorf("with --factory: argv %q, want the project's target under the supervisor", spec.Argv)
	}
	if !slices.Contains(spec.Env, "PYTHONPATH=/run/ds:/srv/lib") {
		t.Errorf("with --factory: env %q, want the supervisor's directory on PYTHONPATH", spec.Env)
	}
}

// The markers follow one master at a time: its ready line says how it
// reloads and starts generations again; a worker of an older generation
// booting late does not move the newest generation back.
func TestMarkersFollowTheCurrentMaster(t *testing.T) {
	m := newMarkers()
	m.observe("devstack-gateway: ready pid=10 generation=1 gunicorn=23.0.0 reload=standby")
	m.observe("devstack-gateway: worker booted pid=11 generation=1")
	if got := m.reloadMode(); got != templates.ReloadStandby {
		t.Errorf("reload mode %q, want %q", got, templates.ReloadStandby)
	}
	booted, gen, next := m.snapshot()
	m.observe("devstack-gateway: reloading pid=10 generation=2 via=standby")
	m.observe("devstack-gateway: worker booted pid=12 generation=3")
	select {
	case <-next:
	default:
		t.Error("a boot did not close the snapshot's channel")
	}
	m.observe("devstack-gateway: worker booted pid=13 generation=2")
	if n, g, _ := m.snapshot(); n != booted+2 || g != 3 {
		t.Errorf("after boots of generations 3 then 2: %d booted, generation %d; want %d, 3", n, g, booted+2)
	}
	if gen != 1 {
		t.Errorf("first generation %d, want 1", gen)
	}

	// A restarted master without the control FIFO.
	m.observe("devstack-gateway: ready pid=20 generation=1 gunicorn=20.1.0 reload=hup")
	if _, g, _ := m.snapshot(); g != 0 || m.reloadMode() != templates.ReloadHUP {
		t.Errorf("after a new master: generation %d, mode %q; want 0, %q", g, m.reloadMode(), templates.ReloadHUP)
	}
}

// A ready marker (the gateway bound its socket) closes the channel the
// proxy's held requests wait on, and a fresh one waits for the next start.
func TestMarkersSayWhenTheGatewayListens(t *testing.T) {
	m := newMarkers()
	first := m.listening()
	m.observe("devstack-gateway: worker booted pid=11 generation=1")
	select {
	case <-first:
		t.Fatal("a worker boot closed the listening channel")
	default:
	}
	m.observe("devstack-gateway: ready pid=10 generation=1 gunicorn=23.0.0 reload=standby")
	select {
	case <-first:
	default:
		t.Fatal("the ready marker did not close the listening channel")
	}
	select {
	case <-m.listening():
		t.Fatal("the next listening channel is already closed")
	default:
	}
}

// TestProbeAccessPath: requests for this run's probe path are shown in the
// access log marked and without the secret; a path under another secret
// is someone else's request, shown as it came.
func TestProbeAccessPath(t *testing.T) {
	const probe = "/.devstack/probe/0123abcd"
	for _, tc := range []struct {
		path, shown string
		marked      bool
	}{
		{probe, "/.devstack/probe/…", true},
		{probe + "/static?x=1", "/.devstack/probe/…/static?x=1", true},
		{probe + "?full=1", "/.devstack/probe/…?full=1", true},
		{probe + "ff", probe + "ff", false},
		{"/.devstack/probe/guess", "/.devstack/probe/guess", false},
		{"/admin/", "/admin/", false},
	} {
		shown, marked := probeAccessPath(tc.path, probe)
		if shown != tc.shown || marked != tc.marked {
			t.Errorf("probeAccessPath(%q): got %q %v, want %q %v", tc.path, shown, marked, tc.shown, tc.marked)
		}
	}
	if shown, marked := probeAccessPath("/x", ""); shown != "/x" || marked {
		t.Errorf("with no probe path: %q %v", shown, marked)
	}
}
