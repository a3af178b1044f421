package events

import (
	"testing"
	"time"
)

func TestAccessLine(t *testing.T) {
	for _, tc := range []struct {
		r    AccessRecord
		want string
	}{
		{AccessRecord{Method: "GET", Path: "/", Status: 200, Duration: 1234 * time.Microsecond, Bytes: 1100}, "GET / 200 1.2ms 1.1kB"},
		{AccessRecord{Method: "POST", Path: "/a?b=c", Status: 201, Duration: 850 * time.Microsecond}, "POST /a?b=c 201 850µs 0B"},
		{AccessRecord{Method: "GET", Path: "/admin/", Status: 302, Duration: 12 * time.Millisecond, Bytes: 512}, "GET /admin/ 302 12ms 512B"},
		{AccessRecord{Method: "GET", Path: "/x", Status: 308, Duration: 50 * time.Microsecond, Redirected: true},
			"GET /x 308 50µs 0B (plain http, redirected to https)"},
		{AccessRecord{Method: "GET", Path: "/", Status: 200, Duration: 1500 * time.Millisecond, Held: 1400 * time.Millisecond, Bytes: 2_500_000},
			"GET / 200 1.50s 2.5MB (held 1.40s waiting for the server)"},
		{AccessRecord{Method: "GET", Path: "/", Status: 502, Duration: 10 * time.Second, UpstreamError: "refused"},
			"GET / 502 10.00s 0B (upstream: refused)"},
		{AccessRecord{Method: "GET", Path: "/", Status: 502, Duration: time.Second, UpstreamError: "the server is down.\n\nIt cannot import x.\r\n"},
			"GET / 502 1.00s 0B (upstream: the server is down. It cannot import x.)"},
		{AccessRecord{Method: "GET", Path: "/.devstack/probe/…", Status: 200, Duration: 3 * time.Millisecond, Bytes: 900, Probe: true},
			"GET /.devstack/probe/… 200 3.0ms 900B (devstack's own check)"},
		{AccessRecord{Method: "POST", Path: "/up", Status: 413, Duration: 3 * time.Millisecond, ClientError: "body over 10MB"},
			"POST /up 413 3.0ms 0B (body over 10MB)"},
	} {
		if got := string(tc.r.AppendLine(nil)); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestSizesAndDurations(t *testing.T) {
	for d, want := range map[time.Duration]string{
		840 * time.Microsecond: "840µs", 3200 * time.Microsecond: "3.2ms", 12 * time.Millisecond: "12ms", 1250 * time.Millisecond: "1.25s",
	} {
		if got := string(AppendDuration(nil, d)); got != want {
			t.Errorf("AppendDuration(%v): got %q, want %q", d, got, want)
		}
	}
	for n, want := range map[int64]string{512: "512B", 1234: "1.2kB", 3_400_000: "3.4MB", 5_000_000_000: "5.0GB"} {
		if got := string(AppendBytes(nil, n)); got != want {
			t.Errorf("AppendBytes(%d): got %q, want %q", n, got, want)
		}
	}
}

func TestAccessLineDoesNotAllocate(t *testing.T) {
	r := AccessRecord{Method: "GET", Path: "/static/app.css", Status: 200, Duration: 1234 * time.Microsecond, Bytes: 12345,
		Held: time.Second, UpstreamError: "refused"}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = r.AppendLine(buf[:0]) }); n != 0 {
		t.Errorf("AppendLine allocates %.0f times per line", n)
	}
}
