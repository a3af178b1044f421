package project

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDetectSampleApps runs Detect on the sample projects the end-to-end
// tests use, so that a change to either side shows here first.
func TestDetectSampleApps(t *testing.T) {
	py := systemPython(t)
	tests := []struct {
		dir            string
		framework      Framework
		server, target string
		gunicornConfig bool
	}{
		{"django-site", Django, ServerGunicorn, "mysite.wsgi:application", false},
		{"django-site-gunicornconf", Django, ServerGunicorn, "mysite.wsgi:application", true},
		{"flask-app", Flask, ServerGunicorn, "app:app", false},
		{"asgi-app", Starlette, ServerUvicorn, "app:app", false},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("..", "testdata", tt.dir)
			if _, err := os.Stat(dir); err != nil {
				t.Skipf("sample project %s is not there", dir)
			}
			// The search, not --python: PATH as on a developer's machine
			// whose first python3 may lack the framework.
			p, err := Detect(dir, Overrides{Environ: testEnviron()})
			if err != nil {
				t.Fatalf("Detect: %v (hint: %s)", err, hintOf(t, err))
			}
			if p.Framework != tt.framework || p.Server != tt.server || p.Target != tt.target {
				t.Errorf("got %s/%s/%s, want %s/%s/%s", p.Framework, p.Server, p.Target, tt.framework, tt.server, tt.target)
			}
			if got := p.GunicornConfig != ""; got != tt.gunicornConfig {
				t.Errorf("GunicornConfig: got %q, want one: %v", p.GunicornConfig, tt.gunicornConfig)
			}
			if p.Interpreter.Path != py {
				t.Errorf("interpreter: got %s, want %s", p.Interpreter.Path, py)
			}
		})
	}
}
