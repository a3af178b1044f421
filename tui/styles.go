package tui

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/devstack-dev/devstack/events"
)

// styles are the looks of the terminal UI. Only the 16 basic ANSI colours
// are used, so the user's terminal theme decides the actual shades and
// nothing is unreadable on a light background. Without colour every style
// renders its text unchanged: the screen must stay usable by its layout
// and markers alone (NO_COLOR).
type styles struct {
	color bool // raw SGR sequences may be written (log prefixes, process output)

	title      lipgloss.Style // "devstack" in the header
	url        lipgloss.Style
	good       lipgloss.Style // ready, running, a reload that worked, passed checks
	warn       lipgloss.Style // starting, backoff, warnings, skipped lines
	bad        lipgloss.Style // crashed, a failed reload, failed checks
	dim        lipgloss.Style // secondary text: times, counts, separators
	heading    lipgloss.Style // the side list's column titles
	selected   lipgloss.Style // the source whose lines are shown
	key        lipgloss.Style // key names in the footer and help
	inputStyle lipgloss.Style // the filter being typed
}

// newStyles returns the styles for output w; color false turns every
// colour and attribute off.
func newStyles(w io.Writer, color bool) styles {
	r := lipgloss.NewRenderer(w)
	if color {
		// Colour was decided by ColorEnabled; do not let the renderer's own
		// detection (which looks at os.Stdout's environment) undo that.
		if r.ColorProfile() == termenv.Ascii {
			r.SetColorProfile(termenv.ANSI)
		}
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	return styles{
		color:      color,
		title:      r.NewStyle().Bold(true),
		url:        r.NewStyle().Foreground(lipgloss.Color("6")).Underline(true),
		good:       r.NewStyle().Foreground(lipgloss.Color("2")),
		warn:       r.NewStyle().Foreground(lipgloss.Color("3")),
		bad:        r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		dim:        r.NewStyle().Foreground(lipgloss.Color("8")),
		heading:    r.NewStyle().Foreground(lipgloss.Color("8")).Bold(true),
		selected:   r.NewStyle().Reverse(true),
		key:        r.NewStyle().Bold(true),
		inputStyle: r.NewStyle().Foreground(lipgloss.Color("6")),
	}
}

// state returns the style of a process state.
func (s styles) state(st events.State) lipgloss.Style {
	switch st {
	case events.StateRunning:
		return s.good
	case events.StateStarting, events.StateBackoff, events.StateStopping:
		return s.warn
	case events.StateCrashed:
		return s.bad
	}
	return s.dim
}

// sgr wraps text in the SGR parameters code (as plain.go's palette gives
// them: "36", "1;31"), or returns it unchanged without colour.
func (s styles) sgr(code, text string) string {
	if !s.color || code == "" || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}
