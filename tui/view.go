package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// The screen, top to bottom:
//
//	devstack  https://localhost:8080  ● ready                          ? help
//	✓ reloaded in 182ms: app/views.py changed at 12:01:33    checks: 6 passed
//	──────────────────────────────────────────────────────────────────────────
//	  # NAME      STATE       PID   ↻ │ web      | [INFO] Booting worker …
//	› 0 all                           │ proxy    | GET / 200 3.2ms 1.2kB
//	  1 proxy     serving     3 req   │ devstack | ready https://localhost:8080
//	  2 web       running   4242   0  │
//	──────────────────────────────────────────────────────────────────────────
//	all · following · 3 lines                   q quit  / filter  tab next  ? help
const chromeRows = 5 // the rows around the body: header, separators, footer

// The side list's columns.
const (
	minSideName  = 5
	maxSideName  = 12
	sideStateCol = 8 // "stopping", the longest state
	sidePIDCol   = 7
	sideRestCol  = 3
)

// minWidth and minHeight are the smallest window the layout fits.
const (
	minWidth  = 40
	minHeight = 8
)

// View draws the whole screen.
func (m *model) View() string {
	if m.viewLater {
		return m.view
	}
	m.view, m.viewAt = m.draw(), time.Now()
	return m.view
}

// draw renders the whole screen.
func (m *model) draw() string {
	if m.width == 0 || m.height == 0 {
		return "" // until the terminal has told its size
	}
	if m.width < minWidth || m.height < minHeight {
		return ansi.Truncate("window too small", m.width, "") + "\n" +
			ansi.Truncate(fmt.Sprintf("%dx%d, needs %dx%d", m.width, m.height, minWidth, minHeight), m.width, "")
	}
	lines := make([]string, 0, m.height)
	lines = append(lines, m.headerLines()...)
	sep := m.st.dim.Render(strings.Repeat("─", m.width))
	lines = append(lines, sep)

	var right []string
	if m.screen == screenHelp {
		right = m.helpRows()
	} else {
		right = m.logs.rows(m.st)
	}
	side := m.sideRows()
	sideW := m.sideWidth()
	bar := m.st.dim.Render(" │ ")
	for i := range m.logs.height {
		row := ""
		if sideW > 0 {
			cell := ""
			if i < len(side) {
				cell = side[i]
			}
			row = padRight(ansi.Truncate(cell, sideW, "…"), sideW) + bar
		}
		if i < len(right) {
			row += right[i]
		}
		lines = append(lines, row)
	}
	lines = append(lines, sep, m.footer())
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, m.width, "")
	}
	return strings.Join(lines, "\n")
}

// headerLines are the stack at a glance: where it is served, whether it
// is ready, the last reload and the checks.
func (m *model) headerLines() []string {
	st := m.st
	url := m.stack.url
	if url == "" {
		url = "(proxy starting)"
	}
	var state string
	switch {
	case m.stop == stopForced:
		state = st.bad.Render("■ stopping at once…")
	case m.stop == stopAsked:
		state = st.warn.Render("■ stopping… (q again: stop at once)")
	case m.stack.ready:
		state = st.good.Render("● ready")
	case m.stack.url == "":
		state = st.warn.Render("◌ starting")
	default:
		state = st.warn.Render("◌ waiting for the app")
	}
	line1 := spread(" "+st.title.Render("devstack")+"  "+st.url.Render(url)+"  "+state,
		st.key.Render("?")+" help ", m.width)

	var reload string
	r := m.stack.reload
	switch {
	case r.text == "":
		reload = st.dim.Render("no reload yet")
	case r.running:
		reload = st.warn.Render("↻ " + r.text + "…")
	case r.failed:
		reload = st.bad.Render("✗ " + r.text)
	default:
		reload = st.good.Render("✓") + " " + r.text
	}
	if !r.running && !r.at.IsZero() {
		reload += st.dim.Render(" at " + r.at.Format("15:04:05"))
	}
	var checks string
	if pass, warn, fail := m.stack.checkCounts(); pass+warn+fail > 0 {
		parts := []string{st.good.Render(fmt.Sprintf("%d passed", pass))}
		if warn > 0 {
			parts = append(parts, st.warn.Render(fmt.Sprintf("%d warning%s", warn, plural(warn))))
		}
		if fail > 0 {
			parts = append(parts, st.bad.Render(fmt.Sprintf("%d failed", fail)))
		}
		checks = "checks: " + strings.Join(parts, ", ") + " "
	}
	return []string{line1, spread(" "+reload, checks, m.width)}
}

// sideWidth is the width of the side list: 0 when the window is too
// narrow for it (the footer then names the source shown), narrower
// without the pid column below 100 columns.
func (m *model) sideWidth() int {
	if m.width < 80 {
		return 0
	}
	w := 1 + 2 + 1 + m.sideNameWidth() + 1 + sideStateCol + 1 + sideRestCol
	if m.width >= 100 {
		w += 1 + sidePIDCol
	}
	return w
}

func (m *model) sideNameWidth() int {
	w := minSideName
	for _, s := range m.stack.sources() {
		w = max(w, ansi.StringWidth(s))
	}
	return min(w, maxSideName)
}

// sideRows is the list of sources: the selected one is marked "›" (and
// highlighted when there is colour), so it shows without colour too.
func (m *model) sideRows() []string {
	if m.sideWidth() == 0 {
		return nil
	}
	st := m.st
	nameW := m.sideNameWidth()
	withPID := m.width >= 100
	selected := m.sourceIndex()

	head := "  # " + padRight("NAME", nameW) + " " + padRight("STATE", sideStateCol)
	if withPID {
		head += " " + fmt.Sprintf("%*s", sidePIDCol, "PID")
	}
	head += " " + fmt.Sprintf("%*s", sideRestCol, "↻")
	rows := []string{st.heading.Render(head)}

	row := func(i int, name, state string, stateStyle func(...string) string, tail string) {
		marker, num := " ", " "
		if i == selected {
			marker = "›"
		}
		if i <= 9 {
			num = fmt.Sprint(i)
		}
		text := marker + " " + num + " " + padRight(fitName(name, nameW), nameW)
		if i == selected {
			text = st.selected.Render(text)
		}
		text += " " + stateStyle(padRight(state, sideStateCol)) + " " + tail
		rows = append(rows, text)
	}
	tailW := sideRestCol
	if withPID {
		tailW += 1 + sidePIDCol
	}
	right := func(s string) string { return fmt.Sprintf("%*s", tailW, s) }

	row(0, "all", "", st.dim.Render, "")
	for i, name := range m.stack.sources() {
		switch p := m.stack.proc(name); {
		case name == sourceProxy:
			state, style := "starting", st.warn.Render
			if m.stack.ready {
				state, style = "serving", st.good.Render
			} else if m.stack.url != "" {
				state = "waiting"
			}
			requests := ""
			if withPID { // the count needs the pid column's room
				requests = fmt.Sprintf("%d req", m.stack.requests)
			}
			row(i+1, name, state, style, st.dim.Render(right(requests)))
		case p != nil:
			tail := fmt.Sprintf("%*d", sideRestCol, p.restarts)
			if withPID {
				pid := "-"
				if p.pid > 0 {
					pid = fmt.Sprint(p.pid)
				}
				tail = fmt.Sprintf("%*s ", sidePIDCol, pid) + tail
			}
			state := "-"
			if p.state != 0 {
				state = p.state.String()
			}
			row(i+1, name, state, st.state(p.state).Render, tail)
		default:
			row(i+1, name, "", st.dim.Render, "")
		}
	}
	if p := m.stack.proc(m.logs.source); p != nil && p.note != "" {
		rows = append(rows, "")
		for _, l := range strings.Split(ansi.Hardwrap(p.name+": "+p.note, m.sideWidth(), true), "\n") {
			rows = append(rows, st.dim.Render(l))
		}
	}
	return rows
}

// footer says what the pane shows and the main keys, or the filter being
// typed.
func (m *model) footer() string {
	st := m.st
	if m.screen == screenFilter {
		return spread(" "+st.key.Render("/")+" "+st.inputStyle.Render(m.input)+"█",
			st.dim.Render("enter: keep · esc: clear")+" ", m.width)
	}
	parts := []string{st.key.Render(m.filterLabel())}
	if n := m.logs.newer(); m.logs.follow {
		parts = append(parts, "following")
	} else {
		parts = append(parts, st.warn.Render(fmt.Sprintf("paused, %d newer (end: follow)", n)))
	}
	parts = append(parts, fmt.Sprintf("%d line%s", len(m.logs.matches), plural(len(m.logs.matches))))
	if !m.logs.wrap {
		parts = append(parts, "no wrap")
	}
	if m.stack.skipped > 0 {
		parts = append(parts, st.warn.Render(fmt.Sprintf("%d lines skipped", m.stack.skipped)))
	}
	if m.notice != "" {
		parts = append(parts, st.key.Render(m.notice))
	}
	left := " " + strings.Join(parts, " · ")
	hints := []string{st.key.Render("q") + " quit", st.key.Render("/") + " filter", st.key.Render("tab") + " process"}
	if m.cfg.reload != nil {
		hints = append(hints, st.key.Render("r")+" reload")
	}
	hints = append(hints, st.key.Render("?")+" help")
	right := strings.Join(hints, "  ") + " "
	if ansi.StringWidth(left)+ansi.StringWidth(right)+2 > m.width {
		right = st.key.Render("q") + " quit  " + st.key.Render("?") + " help "
	}
	return spread(left, right, m.width)
}

// helpRows is the help screen, made from the key map.
func (m *model) helpRows() []string {
	st := m.st
	rows := []string{st.title.Render("Keys"), ""}
	for _, b := range m.keys.helpBindings(m.cfg.reload != nil) {
		rows = append(rows, "  "+st.key.Render(padRight(b.label, 13))+" "+b.help)
	}
	color := "on"
	if !m.cfg.color {
		color = "off (NO_COLOR, or not a colour terminal)"
	}
	rows = append(rows, "",
		fmt.Sprintf("The newest %d lines are kept. Colours: %s.", len(m.logs.lines.buf), color),
		"Press ? or esc to go back.")
	return rows
}

// spread puts left and right on one line of width cells, cutting left when
// they do not both fit.
func spread(left, right string, width int) string {
	const gap = 2
	lw, rw := ansi.StringWidth(left), ansi.StringWidth(right)
	if lw+gap+rw > width {
		if rw+gap >= width/2 {
			return ansi.Truncate(left, width, "…")
		}
		left = ansi.Truncate(left, width-rw-gap, "…")
		lw = ansi.StringWidth(left)
	}
	return left + strings.Repeat(" ", width-lw-rw) + right
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
