package templates

import (
	"strconv"
	"strings"
	"time"
)

// MarkerPrefix starts every marker line GunicornConf writes on the marker
// pipe (EnvGatewayMarkers), and every note of its own on gunicorn's stderr.
// Only lines read from the pipe are markers: the same text in the app's
// output is just output.
const MarkerPrefix = "devstack-gateway: "

// MarkerKind says which stage of the gateway a marker line reports.
type MarkerKind int

const (
	// MarkerReady: the gunicorn master is listening (once, at start).
	MarkerReady MarkerKind = iota + 1
	// MarkerReloading: the master started a new generation (a reload
	// request, or a SIGHUP that made it re-read its configuration).
	MarkerReloading
	// MarkerWorkerBooted: a worker loaded the app and is accepting requests.
	MarkerWorkerBooted
	// MarkerRetired: the master told every worker older than Generation to
	// stop (SIGTERM: they finish their requests and accept no more), so
	// only the new code answers from now on.
	MarkerRetired
)

var markerWords = map[MarkerKind]string{
	MarkerReady:        "ready",
	MarkerReloading:    "reloading",
	MarkerWorkerBooted: "worker booted",
	MarkerRetired:      "retired",
}

func (k MarkerKind) String() string {
	if w, ok := markerWords[k]; ok {
		return w
	}
	return "MarkerKind(" + strconv.Itoa(int(k)) + ")"
}

// Marker is one parsed marker line.
//
// Generation counts the generations of one gunicorn master: 1 at start, one
// more per reload request or SIGHUP. After either, a MarkerWorkerBooted with
// a Generation above the one current before means a worker running the new
// code is serving.
type Marker struct {
	Kind       MarkerKind
	PID        int // the master's pid for Ready/Reloading, the worker's for WorkerBooted
	Generation int
	// Reload, on MarkerReady, is how the master takes new code: ReloadStandby,
	// ReloadHUP or ReloadRestart.
	Reload string
	// GracefulTimeout, on MarkerReady, is the master's graceful_timeout as
	// gunicorn resolved it (flags, GUNICORN_CMD_ARGS, the config file):
	// how long its workers may finish their requests after SIGTERM. 0 when
	// the marker does not say.
	GracefulTimeout time.Duration
}

// How a gunicorn master takes new code, as its ready marker says.
const (
	// ReloadStandby: a line on the EnvGatewayControl FIFO and a SIGWINCH.
	ReloadStandby = "standby"
	// ReloadHUP: a SIGHUP (no control FIFO).
	ReloadHUP = "hup"
	// ReloadRestart: only a restart (preload_app keeps the old modules in
	// the master across a SIGHUP).
	ReloadRestart = "restart"
)

// ParseMarker reads a marker line printed by GunicornConf, e.g.
// "devstack-gateway: worker booted pid=4242 generation=2" or
// "devstack-gateway: ready pid=10 generation=1 gunicorn=23.0.0 reload=standby
// graceful_timeout=30". Other lines,
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
		case key == "reload" && m.Kind == MarkerReady:
			m.Reload = value
		case key == "graceful_timeout" && m.Kind == MarkerReady:
			if secs, err := strconv.ParseFloat(value, 64); err == nil && secs > 0 && secs < 1e6 {
				m.GracefulTimeout = time.Duration(secs * float64(time.Second))
			}
		}
	}
	if m.PID <= 0 || m.Generation <= 0 {
		return Marker{}, false
	}
	return m, true
}
