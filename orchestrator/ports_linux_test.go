package orchestrator

import "testing"

func TestProcIP(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F":                         "127.0.0.1",
		"00000000":                         "0.0.0.0",
		"00000000000000000000000001000000": "::1",
	} {
		if got := procIP(in); got.String() != want {
			t.Errorf("procIP(%s): got %s, want %s", in, got, want)
		}
	}
}
