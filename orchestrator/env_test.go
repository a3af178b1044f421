package orchestrator

import (
	"slices"
	"testing"
)

func TestWithCABundleKeepsWhatTheUserSet(t *testing.T) {
	for _, k := range CABundleVars {
		t.Setenv(k, "")
	}
	t.Setenv("CURL_CA_BUNDLE", "/etc/shell.pem")
	env := []string{"A=1", "REQUESTS_CA_BUNDLE=/etc/mine.pem", "SSL_CERT_FILE="}
	got := withCABundle(env, "/run/bundle.pem")
	want := []string{"A=1", "REQUESTS_CA_BUNDLE=/etc/mine.pem", "SSL_CERT_FILE=",
		"SSL_CERT_FILE=/run/bundle.pem", "NODE_EXTRA_CA_CERTS=/run/bundle.pem"}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q (the user's values kept, an empty one replaced)", got, want)
	}
	if got := withCABundle(env, ""); !slices.Equal(got, env) {
		t.Errorf("without a bundle: got %q", got)
	}
}
