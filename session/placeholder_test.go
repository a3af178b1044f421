package session

import "testing"

// doctor --settings stands in for the variable production's settings
// stopped at, found in the traceback's last line (issue 12).
func TestMissingVariable(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"KeyError: 'DATABASE_URL'", "DATABASE_URL"},
		{"django.core.exceptions.ImproperlyConfigured: Set the DJANGO_SECRET_KEY environment variable", "DJANGO_SECRET_KEY"},
		{`environs.EnvError: Environment variable "REDIS_URL" not set`, "REDIS_URL"},
		{"decouple.UndefinedValueError: SECRET_KEY not found. Declare it as envvar or define a default value.", "SECRET_KEY"},
		{"ModuleNotFoundError: No module named 'psycopg2'", ""},
		{"KeyError: 'not_a_variable'", ""},
	} {
		lines := []string{"Traceback (most recent call last):", `  File "x.py", line 1`, tc.line, "[INFO] Worker exiting"}
		if got := missingVariable(lines); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestPlaceholderFor(t *testing.T) {
	hosts := []string{"example.com", "www.example.com"}
	for _, tc := range []struct{ name, django, want string }{
		{"DATABASE_URL", "5.2", "sqlite://:memory:"},
		{"DJANGO_ALLOWED_HOSTS", "5.2", "example.com,www.example.com"},
		{"CSRF_TRUSTED_ORIGINS", "5.2", "https://example.com,https://www.example.com"},
		{"CSRF_TRUSTED_ORIGINS", "3.2.25", "example.com,www.example.com"},
		{"SENTRY_DSN", "5.2", ""},
		{"DJANGO_SECRET_KEY", "5.2", "devstack-doctor-placeholder"},
	} {
		if got := placeholderFor(tc.name, hosts, tc.django); got != tc.want {
			t.Errorf("%s on Django %s: got %q, want %q", tc.name, tc.django, got, tc.want)
		}
	}
}
