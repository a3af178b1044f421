package watch

import (
	"path"
	"strings"
)

// What needs a full restart rather than a graceful reload. A SIGHUP to the
// gunicorn master re-imports the app in fresh workers, but the master keeps
// its configuration, its environment and the modules it imported at start;
// so a change to any of those must restart the gateway.

// rootRestartFiles are matched at the project root only.
var rootRestartFiles = []struct{ glob, label string }{
	{"gunicorn.conf.py", "gunicorn config"},
	{".env", "environment file"},
	{".env.*", "environment file"},
	{".flaskenv", "environment file"},
	{"devstack.toml", "devstack config"},
	{"Procfile", "Procfile"},
	{"Procfile.dev", "Procfile"},
}

// manifestFiles are dependency manifests, matched at any depth (a monorepo
// may install a sibling package from its own pyproject.toml).
var manifestFiles = []string{
	"requirements*.txt", "constraints*.txt",
	"pyproject.toml", "setup.py", "setup.cfg",
	"Pipfile", "Pipfile.lock", "poetry.lock", "uv.lock", "pdm.lock",
}

const (
	labelManifest   = "dependency manifest"
	labelVirtualenv = "virtualenv"
	labelCaller     = "restart file"
)

// restartCause says why a change to file rel (slash-separated, relative to
// the root) needs a full restart, as "dependency manifest requirements.txt",
// or "" when a reload is enough. callerFiles are Options.RestartFiles.
func restartCause(rel string, callerFiles map[string]bool) string {
	if callerFiles[rel] {
		return labelCaller + " " + rel
	}
	name := path.Base(rel)
	if !strings.Contains(rel, "/") {
		for _, f := range rootRestartFiles {
			if ok, _ := path.Match(f.glob, name); ok {
				return f.label + " " + rel
			}
		}
	}
	for _, g := range manifestFiles {
		if ok, _ := path.Match(g, name); ok {
			return labelManifest + " " + rel
		}
	}
	// requirements/base.txt, requirements/dev.txt…
	if dir := path.Base(parentOf(rel)); (dir == "requirements" || dir == "requirements.d") && strings.HasSuffix(name, ".txt") {
		return labelManifest + " " + rel
	}
	return ""
}
