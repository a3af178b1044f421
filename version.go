package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// Set by the release build with -ldflags "-X main.version=… -X main.commit=… -X main.date=…".
var (
	version = ""
	commit  = ""
	date    = ""
)

// buildVersion is what `devstack version` prints.
type buildVersion struct {
	Version string // "v1.2.0", "v0.0.0-20261201…+dirty"; "dev" when unknown
	Commit  string // the short VCS revision; "unknown" when not recorded
	Date    string // the commit's time (or the release build's); "unknown" when not recorded
}

// currentVersion takes what the release build set with -ldflags and fills
// what it did not set from Go's build info: `go install …@v1.2.0` records the
// module version, and a `go build` in a git checkout records the revision,
// its time and whether the tree was modified.
func currentVersion() buildVersion {
	bi, _ := debug.ReadBuildInfo()
	return versionFrom(version, commit, date, bi)
}

func versionFrom(ldVersion, ldCommit, ldDate string, bi *debug.BuildInfo) buildVersion {
	v := buildVersion{Version: ldVersion, Commit: ldCommit, Date: ldDate}
	if bi != nil {
		if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		var rev, at string
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if v.Commit == "" && rev != "" {
			v.Commit = rev[:min(len(rev), 7)]
			if modified {
				v.Commit += "-dirty"
			}
		}
		if v.Date == "" {
			v.Date = at
		}
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	if v.Date == "" {
		v.Date = "unknown"
	}
	return v
}

func (v buildVersion) String() string {
	return fmt.Sprintf("devstack %s (commit %s, built %s)", v.Version, v.Commit, v.Date)
}

func printVersion(w io.Writer) {
	fmt.Fprintln(w, currentVersion())
}
