package certs

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/internal/testenv"
)

// tlsServer is a real net/http server on 127.0.0.1:0 serving
// "hello over <proto>" with the devstack leaf. (httptest.Server would add its
// own certificate, which Go's TLS server prefers when there is no SNI.)
type tlsServer struct {
	URL  string
	Addr string
	Port int
}

func startTLSServer(t *testing.T, ca *CA) *tlsServer {
	t.Helper()
	cfg, err := ca.ServerTLSConfig(t.TempDir(), []string{"app.localhost"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello over "+r.Proto)
		}),
		TLSConfig:         cfg,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeTLS(ln, "", "")
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	port := ln.Addr().(*net.TCPAddr).Port
	return &tlsServer{URL: "https://127.0.0.1:" + strconv.Itoa(port) + "/", Addr: ln.Addr().String(), Port: port}
}

func TestGoClientTrustsOnlyTheCA(t *testing.T) {
	ca := mustCreate(t, time.Now())
	srv := startTLSServer(t, ca)
	port := srv.Port

	for _, host := range []string{"localhost", "127.0.0.1", "[::1]", "app.localhost"} {
		tr := &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: ca.Pool()},
			ForceAttemptHTTP2: true,
			// Resolve every name to the test server's loopback address.
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, srv.Addr)
			},
		}
		client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		url := "https://" + host + ":" + strconv.Itoa(port) + "/"
		resp, err := client.Get(url)
		if err != nil {
			t.Errorf("GET %s: %v", url, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got, want := string(body), "hello over HTTP/2.0"; got != want {
			t.Errorf("GET %s: got %q, want %q", url, got, want)
		}
		tr.CloseIdleConnections()
	}

	// With the system roots only, the same server must be refused: the leaf
	// is trusted because of the CA, not by accident.
	client := &http.Client{Timeout: 10 * time.Second}
	if _, err := client.Get(srv.URL); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("GET with system roots: got %v, want a certificate error", err)
	}
}

func TestCurlTrustsTheCA(t *testing.T) {
	curl := testenv.LookPath(t, "curl", "apt-get install curl")
	ca := mustCreate(t, time.Now())
	srv := startTLSServer(t, ca)
	port := strconv.Itoa(srv.Port)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, curl, append([]string{"--silent", "--show-error", "--max-time", "10"}, args...)...).CombinedOutput()
		return string(out), err
	}
	out, err := run("--cacert", filepath.Join(ca.Dir, RootCertFile), "https://localhost:"+port+"/")
	if err != nil {
		t.Fatalf("curl --cacert rootCA.pem: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "hello over HTTP/") {
		t.Errorf("curl body: got %q", out)
	}
	out, err = run("--cacert", filepath.Join(ca.Dir, RootCertFile), "--resolve", "app.localhost:"+port+":127.0.0.1", "https://app.localhost:"+port+"/")
	if err != nil || !strings.HasPrefix(out, "hello over") {
		t.Errorf("curl app.localhost: %v\n%s", err, out)
	}
	other := mustCreate(t, time.Now())
	if out, err := run("--cacert", filepath.Join(other.Dir, RootCertFile), "https://localhost:"+port+"/"); err == nil {
		t.Errorf("curl trusted the leaf with another CA:\n%s", out)
	}
}
