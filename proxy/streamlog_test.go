package proxy

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A streamed response (no Content-Length, flushed as it goes, as
// Starlette's StreamingResponse and server-sent events are) is logged
// with the bytes the client got, not 0B.
func TestAccessRecordCountsStreamedBytes(t *testing.T) {
	chunk := strings.Repeat("x", 1000)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 5 {
			fmt.Fprint(w, chunk)
			w.(http.Flusher).Flush()
		}
	}))
	defer up.Close()
	tp := startProxy(t, up.URL, Config{})
	for _, c := range []*http.Client{tp.h1, tp.h2} {
		resp, body := tp.do(c, "GET", "/stream", nil, nil)
		if resp.StatusCode != 200 || len(body) != 5000 {
			t.Fatalf("GET /stream: %d, %d bytes", resp.StatusCode, len(body))
		}
		select {
		case rec := <-tp.access:
			if got, want := rec.BytesOut, int64(5000); got != want {
				t.Errorf("%s: access record BytesOut = %d, want %d", resp.Proto, got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no access record")
		}
	}
}
