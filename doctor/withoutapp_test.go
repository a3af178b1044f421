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
			for _, r := range CheckWithoutApp("mysite.settings", "the app did not start", static) {
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
