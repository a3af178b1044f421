package templates

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// The settings reader follows `from .base import *` through a
// cookiecutter-style split and reads the production module beside the
// development one without running it: production.py reads variables
// only production has (issue 12).
func TestSettingsReaderFollowsStarImports(t *testing.T) {
	python := testenv.PythonWith(t, "ast")
	dir := runDir(t)
	cmd := exec.Command(python, filepath.Join(dir, SettingsReader), "config.settings.local")
	cmd.Dir = testdataDir(t, "django-split-settings")
	cmd.Env = testenv.PythonEnv(nil, "")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var m SettingsModule
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got, want := m.File, "config/settings/local.py"; got != want {
		t.Errorf("file: got %q, want %q", got, want)
	}
	if got := m.Settings["SECURE_PROXY_SSL_HEADER"].Where(); got != "config/settings/base.py:14" {
		t.Errorf("SECURE_PROXY_SSL_HEADER: got %s, want config/settings/base.py:14", got)
	}
	if got := m.Settings["DEBUG"].Where(); got != "config/settings/local.py:4" {
		t.Errorf("DEBUG: got %s, want local.py's override at config/settings/local.py:4", got)
	}
	p := m.Production
	if p == nil || p.Module != "config.settings.production" || p.Error != "" {
		t.Fatalf("production module: %+v", p)
	}
	if v, ok := p.Settings["SESSION_COOKIE_SECURE"].Known(); !ok || v != true || p.Settings["SESSION_COOKIE_SECURE"].Where() != "config/settings/production.py:12" {
		t.Errorf("production SESSION_COOKIE_SECURE: %+v", p.Settings["SESSION_COOKIE_SECURE"])
	}
	if _, ok := p.Settings["SECURE_SSL_REDIRECT"].Known(); ok {
		t.Errorf("a computed SECURE_SSL_REDIRECT read as known: %+v", p.Settings["SECURE_SSL_REDIRECT"])
	}
	if got := p.Settings["SECURE_PROXY_SSL_HEADER"].Where(); got != "config/settings/base.py:14" {
		t.Errorf("production's SECURE_PROXY_SSL_HEADER: got %s, want base.py's", got)
	}
}
