package templates

import (
	"strconv"
	"strings"
)

// MarkerPrefix starts every line GunicornConf prints on gunicorn's stderr.
const MarkerPrefix = "devstack-gateway: "

// MarkerKind says which stage of the gateway a marker line reports.
type MarkerKind int

const (
	// MarkerReady: the gunicorn master is listening (once, at start).
	MarkerReady MarkerKind = iota + 1
	// MarkerReloading: the master re-read its configuration after a SIGHUP
	// and is about to fork workers of the new generation.
	MarkerReloading
	// MarkerWorkerBooted: a worker loaded the app and is accepting requests.
	MarkerWorkerBooted
)

var markerWords = map[MarkerKind]string{
	MarkerReady:        "ready",
	MarkerReloading:    "reloading",
	MarkerWorkerBooted: "worker booted",
}

func (k MarkerKind) String() string {
	if w, ok := markerWords[k]; ok {
		return w
	}
	return "MarkerKind(" + strconv.Itoa(int(k)) + ")"
}

// Marker is one parsed marker line.
//
// Generation counts the configuration loads of one gunicorn master: 1 at
// start, one more per SIGHUP. After sending SIGHUP, a MarkerWorkerBooted
// with a Generation above the one current before the signal means a worker
// running the new code is serving.
type Marker struct {
	Kind       MarkerKind
	PID        int // the master's pid for Ready/Reloading, the worker's for WorkerBooted
	Generation int
}

// ParseMarker reads a marker line printed by GunicornConf, e.g.
// "devstack-gateway: worker booted pid=4242 generation=2". Other lines,
// including other devstack-gateway notes, give ok=false.
func ParseMarker(line string) (m Marker, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimRight(line, "\r\n"), MarkerPrefix)
	if !found {
		return Marker{}, false
	}
	for kind, word := range markerWords {
		if fields, found := strings.CutPrefix(rest, word+" "); found {
			m.Kind = kind
			rest = fields
			break
		}
	}
	if m.Kind == 0 {
		return Marker{}, false
	}
	for _, field := range strings.Fields(rest) {
		key, value, _ := strings.Cut(field, "=")
		n, err := strconv.Atoi(value)
		switch {
		case key == "pid" && err == nil:
			m.PID = n
		case key == "generation" && err == nil:
			m.Generation = n
		}
	}
	if m.PID <= 0 || m.Generation <= 0 {
		return Marker{}, false
	}
	return m, true
}
