package session

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/devstack-dev/devstack/internal/cachedir"
)

// RunRecord is what a running devstack up tells devstack doctor, so the
// checks can go through the stack the developer is using: where its proxy
// is and the probe's secret path. It lives in the user's cache directory,
// readable only by the user, one file per run, and is removed when that
// up stops.
type RunRecord struct {
	PID       int      `json:"pid"`
	Dir       string   `json:"dir"`
	Origin    string   `json:"origin"`
	ProbePath string   `json:"probe_path"`
	Gateway   string   `json:"gateway"` // the gateway's address, for the health-check request
	Headers   []string `json:"headers"`
	Hosts     []string `json:"hosts"` // the project's extra host names, checked against ALLOWED_HOSTS
}

// runRecordDir holds the records of every devstack up running for the
// project in dir: one file per run, named by its pid, so that a second up
// in the same project neither replaces the first one's record nor, when it
// stops, removes it.
func runRecordDir(dir string) (string, error) {
	cache, err := cachedir.Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "running", projectKey(dir)), nil
}

// writeRunRecord records st and returns a function that removes the record.
// A failure only costs doctor the running stack, so it is not reported.
func writeRunRecord(st RunRecord) (remove func()) {
	dir, err := runRecordDir(st.Dir)
	if err != nil {
		return func() {}
	}
	data, err := json.Marshal(st)
	if err != nil || os.MkdirAll(dir, 0o700) != nil {
		return func() {}
	}
	path := filepath.Join(dir, strconv.Itoa(st.PID)+".json")
	tmp := path + ".tmp"
	if os.WriteFile(tmp, data, 0o600) != nil || os.Rename(tmp, path) != nil {
		os.Remove(tmp)
		return func() {}
	}
	return func() { os.Remove(path) }
}

// FindRunning returns the record of a devstack up running for the project
// in dir (as detection names it) whose process is still alive: the most
// recently started one when there are several. Records of runs that are
// gone (killed before they could remove theirs) are removed.
func FindRunning(dir string) (RunRecord, error) {
	all, err := runningRecords(dir)
	if err != nil {
		return RunRecord{}, err
	}
	if len(all) == 0 {
		return RunRecord{}, errors.New("no devstack up runs for " + dir)
	}
	return all[len(all)-1], nil
}

// runningRecords lists the records of the live runs for dir, oldest first.
func runningRecords(dir string) ([]RunRecord, error) {
	recordDir, err := runRecordDir(dir)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(recordDir)
	if err != nil {
		return nil, err
	}
	type found struct {
		rec RunRecord
		at  time.Time
	}
	var live []found
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(recordDir, e.Name())
		data, err := os.ReadFile(path)
		info, ierr := e.Info()
		if err != nil || ierr != nil {
			continue
		}
		var rec RunRecord
		if err := json.Unmarshal(data, &rec); err != nil || rec.Dir != dir || rec.PID <= 0 {
			continue // foreign: left alone
		}
		if err := syscall.Kill(rec.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
			os.Remove(path) // the up that wrote it is gone
			continue
		}
		live = append(live, found{rec, info.ModTime()})
	}
	sort.SliceStable(live, func(i, j int) bool { return live[i].at.Before(live[j].at) })
	out := make([]RunRecord, len(live))
	for i, f := range live {
		out[i] = f.rec
	}
	return out, nil
}
