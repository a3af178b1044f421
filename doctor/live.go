package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/devstack-dev/devstack/templates"
)

// Client is the HTTP client the checks send their requests with: it trusts
// roots (nil: the system's), follows no redirect (the checks read them) and,
// when dialAddr is set, connects there whatever host the URL names, since
// the proxy answers for every name of the site.
func Client(roots *x509.CertPool, dialAddr string, timeout time.Duration) *http.Client {
	tr := &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: roots}}
	if dialAddr != "" {
		var dialer net.Dialer
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, dialAddr)
		}
	}
	return &http.Client{Timeout: timeout, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Collect gathers the evidence through the proxy at origin
// ("https://localhost:8080"): the probe at probePath, asked as a browser
// submitting a form of the site would, and the app's answer to "GET /".
// client must trust the proxy's certificate and must not follow redirects.
func Collect(ctx context.Context, client *http.Client, origin, probePath string, headers []string) (Evidence, error) {
	ev, err := CollectProbe(ctx, client, origin, probePath, headers)
	if err != nil {
		return ev, err
	}
	_, resp, err := get(ctx, client, origin+"/", "")
	if err != nil {
		return ev, fmt.Errorf("GET / through the proxy: %w", err)
	}
	ev.Root = &Answer{Status: resp.StatusCode, Location: resp.Header.Get("Location"),
		HSTS: resp.Header.Get("Strict-Transport-Security")}
	return ev, nil
}

// CollectProbe is Collect without "GET /": the checks that need the app's
// own answer (ssl-redirect-loop) are then left out.
func CollectProbe(ctx context.Context, client *http.Client, origin, probePath string, headers []string) (Evidence, error) {
	ev := Evidence{Origin: origin, Headers: headers}
	body, resp, err := get(ctx, client, origin+probePath, origin)
	if err != nil {
		return ev, fmt.Errorf("asking the app through the proxy: %w", err)
	}
	if err := json.Unmarshal(body, &ev.Probe); err != nil || ev.Probe.Probe == 0 || resp.StatusCode != http.StatusOK {
		return ev, fmt.Errorf("the app did not answer devstack's probe: it runs without it (uvicorn --factory, or a custom command); it answered %d: %.200s", resp.StatusCode, body)
	}
	return ev, nil
}

func get(ctx context.Context, client *http.Client, url, origin string) ([]byte, *http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
		req.Header.Set("Referer", origin+"/")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, err
	}
	return body, resp, nil
}

// CollectDirect asks the gateway at addr ("127.0.0.1:8000") for "/" over
// plain http, without any forwarding header, as a load balancer's or an
// orchestrator's health check does, and adds the answer to ev.
func CollectDirect(ctx context.Context, ev *Evidence, addr string) error {
	client := Client(nil, "", 10*time.Second)
	defer client.CloseIdleConnections()
	_, resp, err := get(ctx, client, "http://"+addr+"/", "")
	if err != nil {
		return fmt.Errorf("GET / on the gateway: %w", err)
	}
	ev.Direct = &Answer{Status: resp.StatusCode, Location: resp.Header.Get("Location")}
	return nil
}

// CollectHosts asks the probe once more for each of hosts, as a browser on
// https://HOST:port would, and adds the app's verdicts to ev. Loopback
// names are skipped: Probe already answers for localhost.
func CollectHosts(ctx context.Context, client *http.Client, ev *Evidence, port, probePath string, hosts []string) error {
	for _, h := range hosts {
		if h == "localhost" || h == "127.0.0.1" || h == "::1" {
			continue
		}
		origin := "https://" + net.JoinHostPort(h, port)
		body, resp, err := get(ctx, client, origin+probePath, origin)
		if err != nil {
			return fmt.Errorf("asking the app as %s: %w", origin, err)
		}
		var r templates.ProbeReport
		if err := json.Unmarshal(body, &r); err != nil || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("the app did not answer the probe as %s: %d %.200s", origin, resp.StatusCode, body)
		}
		ev.OtherHosts = append(ev.OtherHosts, HostVerdict{Host: net.JoinHostPort(h, port), Error: r.HostError})
	}
	return nil
}

// CollectDirectProbes asks the probe at probePath straight on the gateway
// at addr, over plain http: once without any forwarding header (does the
// app make up https by itself?) and once as a chain of two proxies would
// forward the request, X-Forwarded-Proto "https, http" (does it read the
// first value?). It adds both reports to ev. The requests come from
// loopback, where the proxy connects from, so the gateway trusts them as
// it trusts the proxy.
func CollectDirectProbes(ctx context.Context, ev *Evidence, addr, probePath string) error {
	client := Client(nil, "", 10*time.Second)
	defer client.CloseIdleConnections()
	ask := func(headers map[string]string) (*templates.ProbeReport, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+probePath, nil)
		if err != nil {
			return nil, err
		}
		for k, v := range headers {
			if k == "Host" {
				req.Host = v
				continue
			}
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("asking the gateway directly: %w", err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return nil, err
		}
		var r templates.ProbeReport
		if err := json.Unmarshal(body, &r); err != nil || r.Probe == 0 || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("the gateway did not answer the probe directly: %d %.200s", resp.StatusCode, body)
		}
		return &r, nil
	}
	bare, err := ask(nil)
	if err != nil {
		return err
	}
	host := ev.host()
	chain, err := ask(map[string]string{"X-Forwarded-Proto": chainedProto, "X-Forwarded-Host": host,
		"X-Forwarded-For": "127.0.0.1", "Host": host})
	if err != nil {
		return err
	}
	ev.DirectProbe, ev.ChainProbe = bare, chain
	return nil
}
