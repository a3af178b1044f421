package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// Each common project layout is served by devstack up with no flag and no
// config, through the real gunicorn or uvicorn.
func TestUpLayouts(t *testing.T) {
	testenv.PythonWith(t, "django", "flask", "starlette", "gunicorn", "uvicorn")
	tests := []struct {
		project string
		body    string // what GET / answers
		startup string // in the start-up line
	}{
		{"layouts/flask-factory", "layout flask-factory", "blogr:create_app() (from blogr/__init__.py)"},
		{"layouts/flaskenv", "layout flaskenv local", "hello.web:make_app('local') (from FLASK_APP in .flaskenv)"},
		{"layouts/asgi-app-dir", "layout asgi-app-dir", "app.main:app (from app/main.py)"},
		{"layouts/src-flask", "layout src-flask", "inventory:create_app() (from src/inventory/__init__.py)"},
		{"layouts/src-asgi", "layout src-asgi", "shop.main:app (from src/shop/main.py)"},
		{"layouts/django-backend", "layout django-backend from-backend-env", "config.wsgi:application (from backend/manage.py)"},
		{"layouts/factory-config", "layout factory-config local", "notes:app (from notes.py)"},
		{"layouts/procfile-web", "layout procfile-web", "portal:app (from Procfile's web line)"},
	}
	for _, tt := range tests {
		t.Run(tt.project, func(t *testing.T) {
			r := startUp(t, upConfig{project: tt.project})
			if code, body := r.get("/"); code != http.StatusOK || !strings.Contains(body, tt.body) {
				t.Errorf("GET /: %d %q, want 200 with %q", code, body, tt.body)
			}
			if out := r.output(); !strings.Contains(out, tt.startup) {
				t.Errorf("the start-up line does not name %q", tt.startup)
			}
		})
	}
}
