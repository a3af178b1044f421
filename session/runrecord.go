package session

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"github.com/devstack-dev/devstack/internal/cachedir"
)

// RunRecord is what a running devstack up tells devstack doctor, so the
// checks can go through the stack the developer is using: where its proxy
// is and the probe's secret path. It lives in the user's cache directory,
// readable only by the user, and is removed when up stops.
type RunRecord struct {
	PID       int      `json:"pid"`
	Dir       string   `json:"dir"`
	Origin    string   `json:"origin"`
	ProbePath string   `json:"probe_path"`
	Gateway   string   `json:"gateway"` // the gateway's address, for the health-check request
	Headers   []string `json:"headers"`
	Hosts     []string `json:"hosts"` // the project's extra host names, checked against ALLOWED_HOSTS
}

// runRecordPath is the file for the project in dir.
func runRecordPath(dir string) (string, error) {
	cache, err := cachedir.Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "running", projectKey(dir)+".json"), nil
}

// writeRunRecord records st and returns a function that removes the record.
// A failure only costs doctor the running stack, so it is not reported.
func writeRunRecord(st RunRecord) (remove func()) {
	path, err := runRecordPath(st.Dir)
	if err != nil {
		return func() {}
	}
	data, err := json.Marshal(st)
	if err != nil || os.MkdirAll(filepath.Dir(path), 0o700) != nil {
		return func() {}
	}
	tmp := path + ".tmp"
	if os.WriteFile(tmp, data, 0o600) != nil || os.Rename(tmp, path) != nil {
		os.Remove(tmp)
		return func() {}
	}
	return func() {
		// Only our own record: another up may have started since.
		if cur, err := FindRunning(st.Dir); err == nil && cur.PID == st.PID {
			os.Remove(path)
		}
	}
}

// FindRunning returns the record of the devstack up running for the
// project in dir (as detection names it), if its process is still alive.
func FindRunning(dir string) (RunRecord, error) {
	var st RunRecord
	path, err := runRecordPath(dir)
	if err != nil {
		return st, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(data, &st); err != nil || st.Dir != dir || st.PID <= 0 {
		return st, errors.New("a stale or foreign run record")
	}
	if err := syscall.Kill(st.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return st, errors.New("the devstack up that wrote the record is gone")
	}
	return st, nil
}
