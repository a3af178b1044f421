package doctor

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/devstack-dev/devstack/templates"
)

// When production's settings cannot start, the doctor judges
// SECURE_PROXY_SSL_HEADER from the files: None is Django's default, so it
// reads as not set, like a setting that is absent.
func TestCheckWithoutAppProxySSLHeader(t *testing.T) {
	for _, tt := range []struct {
		name       string
		value      string // JSON of the literal; "" for absent
		wantStatus Status
		wantIn     string
	}{
		{"absent", "", Warn, "not set: Django takes the scheme from the gateway alone"},
		{"None", "null", Warn, "not set: Django takes the scheme from the gateway alone"},
		{"right", `["HTTP_X_FORWARDED_PROTO", "https"]`, Pass, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			static := &templates.SettingsModule{Module: "mysite.settings", File: "mysite/settings.py",
				Files: []string{"mysite/settings.py"}, Settings: map[string]templates.SettingSource{}}
			if tt.value != "" {
				static.Settings["SECURE_PROXY_SSL_HEADER"] = templates.SettingSource{File: "mysite/settings.py", Line: 3,
					Expr: "x", Value: json.RawMessage(tt.value)}
			}
			var got *Result
			for _, r := range CheckWithoutApp("mysite.settings", "the app did not start", static, "5.2.18", "https://localhost:8080") {
				if r.ID == IDProxySSLHeader {
					got = &r
				}
			}
			if got == nil {
				t.Fatalf("no %s result", IDProxySSLHeader)
			}
			if got.Status != tt.wantStatus || !strings.Contains(got.Summary, tt.wantIn) {
				t.Errorf("got %s %q, want %s containing %q", got.Status, got.Summary, tt.wantStatus, tt.wantIn)
			}
		})
	}
}

// CSRF_TRUSTED_ORIGINS written out in production's files is judged from
// them when the app cannot start, as the running app's would be: entries
// without a scheme never match on Django 4.0 and later.
func TestCheckWithoutAppCSRFTrustedOrigins(t *testing.T) {
	static := &templates.SettingsModule{Module: "core.settings.production", File: "core/settings/production.py",
		Files: []string{"core/settings/production.py"}, Settings: map[string]templates.SettingSource{
			"CSRF_TRUSTED_ORIGINS": {File: "core/settings/production.py", Line: 9, Expr: "x",
				Value: json.RawMessage(`["localhost", "127.0.0.1:8000", "https://example.com"]`)},
		}}
	for _, tt := range []struct {
		version    string
		wantStatus Status
		wantIn     string
	}{
		{"5.2.18", Fail, `wants CSRF_TRUSTED_ORIGINS with a scheme; "localhost", "127.0.0.1:8000" never match`},
		{"", NotRun, "could not run"}, // which Django reads them is unknown
	} {
		var got *Result
		for _, r := range CheckWithoutApp("core.settings.production", "the app did not start", static, tt.version, "https://example.com") {
			if r.ID == IDCSRFTrustedOrigins {
				if got != nil {
					t.Fatalf("two %s results", IDCSRFTrustedOrigins)
				}
				got = &r
			}
		}
		if got == nil {
			t.Fatalf("Django %q: no %s result", tt.version, IDCSRFTrustedOrigins)
		}
		if got.Status != tt.wantStatus || !strings.Contains(got.Summary, tt.wantIn) {
			t.Errorf("Django %q: got %s %q, want %s containing %q", tt.version, got.Status, got.Summary, tt.wantStatus, tt.wantIn)
		}
		if tt.wantStatus == Fail && got.Where != "core/settings/production.py:9" {
			t.Errorf("where %q", got.Where)
		}
	}
}

// When the settings files cannot be read either (syntax of a newer Python
// than the interpreter's), the checks judged from them say so, not the
// app's import error, which is about something else.
func TestCheckWithoutAppUnreadableFiles(t *testing.T) {
	static := &templates.SettingsModule{Module: "shop.settings.production", File: "shop/settings/production.py",
		Files: []string{"shop/settings/production.py", "shop/settings/base.py"},
		Error: "SyntaxError: f-string: unmatched '(' (base.py, line 240)"}
	results := CheckWithoutApp("shop.settings.production", "the app does not start: ModuleNotFoundError: No module named 'celery'", static, "5.2.18", "https://localhost:8080")
	for _, r := range results {
		if r.Status != NotRun {
			t.Errorf("%s: %s", r.ID, r.Status)
		}
		fromFiles := r.ID == IDProxySSLHeader || r.ID == IDSecureCookies || r.ID == IDHSTS
		if says := strings.Contains(r.Summary, "SyntaxError: f-string: unmatched '(' (base.py, line 240)"); says != fromFiles {
			t.Errorf("%s: %q", r.ID, r.Summary)
		}
	}
}
