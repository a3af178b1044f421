package proxy

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// errorPage is what the client sees when the upstream could not answer:
// which server, why, and — when the caller provides them — the upstream's
// last log lines, which usually hold the traceback that explains it.
type errorPage struct {
	Status   int
	Title    string
	Upstream string
	Reason   string
	Advice   string
	LogLines []string
	// LogsHidden says the server's log lines exist but were left out:
	// the client is on another machine.
	LogsHidden bool
}

var errorPageHTML = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Status}} {{.Title}} · devstack</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
.reason { color: #b42318; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 1rem; overflow-x: auto; font-size: 13px; line-height: 1.45; }
footer { color: #656d76; font-size: .875rem; margin-top: 2rem; }
</style>
</head>
<body>
<h1>{{.Status}} {{.Title}}</h1>
<p>devstack's proxy could not get an answer from <code>{{.Upstream}}</code>.</p>
<p class="reason">{{.Reason}}</p>
{{if .Advice}}<p>{{.Advice}}</p>{{end}}
{{if .LogLines}}<h2>Last log lines of the server</h2>
<pre>{{range .LogLines}}{{.}}
{{end}}</pre>{{end}}
{{if .LogsHidden}}<p>The server's last log lines are shown only to browsers on the machine devstack runs on.</p>{{end}}
<footer>This page comes from devstack, not from your app. Reload once the server is up.</footer>
</body>
</html>
`))

// write sends the page as HTML when the client accepts it (a browser), as
// plain text otherwise (curl, API clients, tests).
func (e *errorPage) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if acceptsHTML(r.Header.Get("Accept")) {
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(e.Status)
		_ = errorPageHTML.Execute(w, e)
		return
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(e.Status)
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s: devstack's proxy could not get an answer from %s\n%s\n", e.Status, e.Title, e.Upstream, e.Reason)
	if e.Advice != "" {
		fmt.Fprintf(&b, "%s\n", e.Advice)
	}
	if e.LogsHidden {
		b.WriteString("The server's last log lines are shown only to clients on the machine devstack runs on.\n")
	}
	if len(e.LogLines) > 0 {
		b.WriteString("\nLast log lines of the server:\n")
		for _, l := range e.LogLines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	_, _ = w.Write([]byte(b.String()))
}

func acceptsHTML(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, _ := strings.Cut(part, ";")
		mt = strings.TrimSpace(mt)
		if strings.EqualFold(mt, "text/html") || strings.EqualFold(mt, "application/xhtml+xml") {
			return true
		}
	}
	return false
}

// upstreamErrorPage explains err, an error reaching upstream.
func upstreamErrorPage(upstream string, err error) *errorPage {
	p := &errorPage{Status: http.StatusBadGateway, Title: "Bad Gateway", Upstream: upstream}
	var hold *HoldTimeoutError
	var down *DownError
	switch {
	case errors.As(err, &down):
		p.Reason = sentence("The server is down: " + down.Reason)
		p.Advice = "Fix the error shown in its log; devstack restarts it when files change."
	case errors.As(err, &hold):
		p.Reason = fmt.Sprintf("Nothing accepted connections at %s for %s (connection refused).", hold.Addr, hold.Waited.Round(100*time.Millisecond))
		p.Advice = "Is the server running, and listening on that address and port?"
	case errors.Is(err, syscall.ECONNREFUSED):
		p.Reason = "The connection was refused: nothing listens at that address."
		p.Advice = "Is the server running, and listening on that address and port?"
	case errors.Is(err, context.DeadlineExceeded):
		p.Status, p.Title = http.StatusGatewayTimeout, "Gateway Timeout"
		p.Reason = sentence("The server did not answer in time: " + err.Error())
	default:
		p.Reason = sentence("The request failed: " + err.Error())
		p.Advice = "The server may have crashed or closed the connection while handling the request."
	}
	return p
}

// sentence ends s with a period, unless it already ends a sentence.
func sentence(s string) string {
	s = strings.TrimRight(s, " ")
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// isLoopback reports whether remoteAddr ("ip:port") is on this machine.
func isLoopback(remoteAddr string) bool {
	ip := net.ParseIP(clientIP(remoteAddr))
	return ip != nil && ip.IsLoopback()
}
