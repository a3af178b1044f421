package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devstack-dev/devstack/doctor"
	"github.com/devstack-dev/devstack/internal/testenv"
)

// A FastAPI app whose Procfile runs gunicorn with uvicorn's worker class
// is served that way by devstack up, with the web line's trust list, and
// the start-up says where the command came from.
func TestUpProcfileUvicornWorker(t *testing.T) {
	testenv.PythonWith(t, "fastapi", "gunicorn", "uvicorn")
	r := startUp(t, upConfig{project: "layouts/procfile-fastapi"})
	code, body := r.get("/")
	var seen struct{ Layout, Server, Scheme, Client string }
	if err := json.Unmarshal([]byte(body), &seen); code != http.StatusOK || err != nil {
		t.Fatalf("GET /: %d %q (%v)", code, body, err)
	}
	if seen.Server != "gunicorn+UvicornWorker" || seen.Scheme != "https" || seen.Client != "127.0.0.1" {
		t.Errorf("the app says %+v; want gunicorn+UvicornWorker, https, client 127.0.0.1", seen)
	}
	port := strconv.Itoa(r.appPort)
	if pids := pidsOf("gunicorn", "main:app", "127.0.0.1:"+port, "uvicorn.workers.UvicornWorker", "--forwarded-allow-ips=*"); len(pids) == 0 {
		t.Error("no gunicorn process runs main:app with -k uvicorn.workers.UvicornWorker and the Procfile's trust list")
	}
	if pids := pidsOf("gunicorn", "main:app", "0.0.0.0"); len(pids) != 0 {
		t.Error("gunicorn binds the Procfile's 0.0.0.0: the bind is devstack's")
	}
	r.waitLine(`gateway command from the web line in Procfile:2: gunicorn --worker-class=uvicorn.workers.UvicornWorker --forwarded-allow-ips=\* `+
		`\(devstack sets --workers, --bind, --access-logfile itself\)`, 30*time.Second)
	r.waitLine(`trust check: all \d+ passed`, 60*time.Second)
	if out := r.output(); strings.Contains(out, ": warn: ") || strings.Contains(out, ": fail: ") || strings.Contains(out, "not carried over") {
		t.Errorf("up reported a warning or a failure, or left out part of the web line:\n%s", out)
	}
}

// The doctor judges the trust list production's Procfile sets: one that
// leaves out the proxy fails forwarded-allow-ips at the Procfile's line,
// under gunicorn's sync worker and under UvicornWorker; one that trusts
// the proxy passes without a warning.
func TestDoctorProcfileTrust(t *testing.T) {
	for _, tc := range []struct {
		name, project string
		modules       []string
		trust         string // replaces the web line's --forwarded-allow-ips value; "" keeps it
		fail          bool
	}{
		{name: "fastapi-trusts-all", project: "layouts/procfile-fastapi", modules: []string{"fastapi", "gunicorn", "uvicorn"}},
		{name: "fastapi-trusts-production-only", project: "layouts/procfile-fastapi", modules: []string{"fastapi", "gunicorn", "uvicorn"},
			trust: "10.0.0.5", fail: true},
		{name: "flask-trusts-production-only", project: "layouts/procfile-flask", modules: []string{"flask", "gunicorn"}, fail: true},
		{name: "flask-trusts-all", project: "layouts/procfile-flask", modules: []string{"flask", "gunicorn"}, trust: "'*'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.PythonWith(t, tc.modules...)
			dir := copyProject(t, tc.project)
			if tc.trust != "" {
				rewriteTrust(t, filepath.Join(dir, "Procfile"), tc.trust)
			}
			code, r := doctorJSON(t, dir, nil)
			c := r.check(doctor.IDForwardedAllowIPs)
			if !tc.fail {
				if code != 0 || r.Summary["fail"]+r.Summary["warn"] != 0 || c.Status != doctor.Pass {
					t.Errorf("exit %d, summary %v, forwarded-allow-ips %+v; want a clean report\n%+v", code, r.Summary, c, r.Checks)
				}
				return
			}
			if code != 1 || c.Status != doctor.Fail || c.Where != "Procfile:2" || !strings.Contains(c.Detail, "= 10.0.0.5 (Procfile:2)") ||
				!strings.Contains(c.Fix, "the web line in Procfile:2 passes --forwarded-allow-ips 10.0.0.5") {
				t.Errorf("exit %d, forwarded-allow-ips %+v; want a failure at Procfile:2 with the web line's fix", code, c)
			}
			if s := r.status(doctor.IDScheme); s != doctor.Fail {
				t.Errorf("scheme: %s, want fail (the app sees http)", s)
			}
			if r.Summary["warn"] != 0 {
				t.Errorf("warnings beside the failure: %+v", r.Checks)
			}
		})
	}
}

// rewriteTrust sets the web line's --forwarded-allow-ips value.
func rewriteTrust(t *testing.T, procfile, value string) {
	t.Helper()
	data, err := os.ReadFile(procfile)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "web:") {
			var words []string
			for _, w := range strings.Fields(l) {
				if strings.HasPrefix(w, "--forwarded-allow-ips=") {
					w = "--forwarded-allow-ips=" + value
				}
				words = append(words, w)
			}
			l = strings.Join(words, " ")
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(procfile, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}
