package session

import "testing"

// The doctor reaches a running up where it listens: an up --host
// 127.0.0.2 is not on 127.0.0.1.
func TestDialAddrOf(t *testing.T) {
	for origin, want := range map[string]string{
		"https://localhost:8080": "127.0.0.1:8080",
		"https://127.0.0.2:9443": "127.0.0.2:9443",
		"https://[::1]:8443":     "[::1]:8443",
	} {
		got, err := dialAddrOf(origin)
		if err != nil || got != want {
			t.Errorf("dialAddrOf(%q) = %q, %v; want %q", origin, got, err, want)
		}
	}
}
