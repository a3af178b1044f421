package tui

import (
	"slices"
	"time"

	"github.com/devstack-dev/devstack/events"
)

// sourceProxy is the Source of the proxy's access records and errors.
const sourceProxy = "proxy"

// procEntry is one process in the side list.
type procEntry struct {
	name     string
	state    events.State
	pid      int
	restarts int
	// note is the last state change in words ("restarting in 2s",
	// "crashed (exit code 3)"), shown under the list for the selected one.
	note string
}

// reloadView is the last reload, or the one in progress.
type reloadView struct {
	running bool
	text    string // "reloaded in 182ms: app/views.py changed"; "" before the first
	failed  bool
	at      time.Time
}

// stackView is what the header and the side list show. Status snapshots
// set it; events keep it current between snapshots.
type stackView struct {
	url      string
	ready    bool
	procs    []procEntry // the gateway first, then the extra processes
	others   []string    // other sources seen in events, in order of appearance
	reload   reloadView
	checks   map[string]events.CheckStatus // the latest status of each check, by ID
	requests int                           // through the proxy, since the UI started
	skipped  int                           // events dropped because the UI fell behind
}

// applyStatus takes a snapshot of the stack.
func (s *stackView) applyStatus(st events.StackStatus) {
	if st.ProxyURL != "" {
		s.url = st.ProxyURL
	}
	s.ready = st.Ready
	procs := make([]procEntry, 0, 1+len(st.Extras))
	for _, p := range st.Processes() {
		e := procEntry{name: p.Name, state: p.State, pid: p.PID, restarts: p.Restarts}
		if old := s.proc(p.Name); old != nil {
			e.note = old.note
		} else if p.LastExit != "" {
			e.note = "last exit: " + p.LastExit
		}
		procs = append(procs, e)
	}
	// A process seen only in events so far stays listed.
	for _, p := range s.procs {
		if !slices.ContainsFunc(procs, func(q procEntry) bool { return q.name == p.name }) {
			procs = append(procs, p)
		}
	}
	s.procs = procs
	if s.reload.text == "" && st.LastReload.Trigger != "" {
		s.reload = reloadView{text: describeReload(st.LastReload), failed: st.LastReload.Err != ""}
	}
}

// applyState records a process's state change.
func (s *stackView) applyState(e events.Event) {
	p := s.proc(e.Source)
	if p == nil {
		s.procs = append(s.procs, procEntry{name: e.Source})
		p = &s.procs[len(s.procs)-1]
		s.others = slices.DeleteFunc(s.others, func(o string) bool { return o == e.Source })
	}
	if c := e.Change; c != nil {
		p.state, p.pid, p.restarts = c.State, c.PID, c.Restarts
	}
	p.note = e.Text
}

// noteSource remembers a source that is neither a process nor the proxy
// nor devstack, so it can be selected too.
func (s *stackView) noteSource(source string) {
	switch {
	case source == "", source == sourceProxy, source == events.SourceDevstack,
		s.proc(source) != nil, slices.Contains(s.others, source):
		return
	}
	s.others = append(s.others, source)
}

// sources are the names the side list offers, in its order: the proxy,
// the processes, other sources, devstack itself.
func (s *stackView) sources() []string {
	list := []string{sourceProxy}
	for _, p := range s.procs {
		list = append(list, p.name)
	}
	list = append(list, s.others...)
	return append(list, events.SourceDevstack)
}

func (s *stackView) proc(name string) *procEntry {
	for i := range s.procs {
		if s.procs[i].name == name {
			return &s.procs[i]
		}
	}
	return nil
}

// checkCounts counts the latest results of the trust checks.
func (s *stackView) checkCounts() (pass, warn, fail int) {
	for _, st := range s.checks {
		switch st {
		case events.Pass:
			pass++
		case events.Warn:
			warn++
		case events.Fail:
			fail++
		}
	}
	return pass, warn, fail
}

// describeReload says how a finished reload went, as the header shows it.
func describeReload(r events.ReloadRecord) string {
	if r.Err != "" {
		return "reload failed after " + formatDuration(r.Duration) + ": " + r.Err
	}
	text := "reloaded in " + formatDuration(r.Duration)
	if r.Trigger != "" {
		text += ": " + r.Trigger
	}
	return text
}
