package proxy

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// BenchmarkServer sends GETs through the whole proxy — TLS, the HTTP/1.1
// or HTTP/2 server, the handler, the upstream pool, the access record —
// from parallel keep-alive clients to a local upstream answering ~100
// bytes, the shape of bench/proxy.sh. The clients and the upstream run in
// the same process: profile it and read the proxy's side.
//
//	go test -run '^$' -bench Server -benchtime 5s -cpuprofile cpu.out ./proxy/
//	go tool pprof -top -focus 'proxy\.' proxy.test cpu.out
func BenchmarkServer(b *testing.B) {
	body := []byte(`{"status":"ok","message":"hello from the benchmark upstream","padding":"0123456789abcdef"}` + "\n")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"application/json"}
		w.Write(body)
	}))
	defer up.Close()
	var records atomic.Int64
	tp := startProxy(b, up.URL, Config{OnAccess: func(AccessRecord) { records.Add(1) }})
	for _, proto := range []string{"h1", "h2"} {
		b.Run(proto, func(b *testing.B) {
			tc := &tls.Config{RootCAs: tp.roots, NextProtos: []string{"http/1.1"}}
			if proto == "h2" {
				tc.NextProtos = []string{"h2"}
			}
			// Keep-alive connections for every client, as wrk and h2load.
			transport := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: proto == "h2", MaxIdleConnsPerHost: 64}
			defer transport.CloseIdleConnections()
			c := &http.Client{Transport: transport}
			b.ReportAllocs()
			b.SetParallelism(16) // 32 clients on 2 cores, as bench/proxy.sh
			cpu := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := c.Get(tp.url + "/bench")
					if err != nil {
						b.Fatal(err)
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || n != int64(len(body)) {
						b.Fatalf("%d, %d bytes", resp.StatusCode, n)
					}
				}
			})
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
