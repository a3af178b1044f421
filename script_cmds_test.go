package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdServe starts a plain HTTP server on loopback for the rest of the
// script and stores its port in the named variable: `serve UP`. It answers
// every request with the method, the path and the forwarding headers it
// received, one per line, for a proxy put in front of it.
func cmdServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: serve VAR")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream saw %s %s\n", r.Method, r.URL.RequestURI())
		var names []string
		for name := range r.Header {
			if strings.HasPrefix(name, "X-Forwarded-") || name == "X-Real-Ip" {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			fmt.Fprintf(w, "%s: %s\n", name, r.Header.Get(name))
		}
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], strings.TrimPrefix(srv.URL, "http://127.0.0.1:"))
}

// cmdHTTPSGet fetches an https URL, trusting only the CA in $CAROOT, and
// writes the status and body to the script's stdout: `httpsget URL`. It
// retries for up to 30 s while the server is not there yet (a command
// started in the background with &), so scripts need no sleeps.
func cmdHTTPSGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: httpsget URL")
	}
	var roots *x509.CertPool
	deadline := time.Now().Add(30 * time.Second)
	for roots == nil {
		pem, err := os.ReadFile(filepath.Join(ts.Getenv("CAROOT"), "rootCA.pem"))
		if err == nil {
			roots = x509.NewCertPool()
			roots.AppendCertsFromPEM(pem)
			break
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no CA in $CAROOT: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	client := &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer client.CloseIdleConnections()
	for {
		resp, err := client.Get(args[0])
		if err == nil {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			ts.Check(err)
			fmt.Fprintf(ts.Stdout(), "status %d\n%s", resp.StatusCode, body)
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("GET %s: %v", args[0], err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
