package tui

import (
	tea "github.com/charmbracelet/bubbletea"
)

// binding is one action of the terminal UI and the keys that trigger it.
// The help screen is generated from the same values, so it cannot drift
// from what the keys do.
type binding struct {
	keys  []string // as tea.KeyMsg.String names them: "q", "ctrl+c", "pgup"
	label string   // how the help screen writes the keys
	help  string   // what the action does
}

// matches reports whether msg is one of b's keys.
func (b binding) matches(msg tea.KeyMsg) bool {
	k := msg.String()
	for _, want := range b.keys {
		if k == want {
			return true
		}
	}
	return false
}

// keyMap holds every binding of the log screen.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom binding
	NextSource, PrevSource, Source          binding
	Filter, ClearFilter                     binding
	Wrap, Timestamps                        binding
	Reload                                  binding
	Help                                    binding
	Quit                                    binding
}

// defaultKeys are the keys of process-compose, less and vim users' habits.
var defaultKeys = keyMap{
	Up:          binding{keys: []string{"up", "k"}, label: "↑/k", help: "scroll up one line"},
	Down:        binding{keys: []string{"down", "j"}, label: "↓/j", help: "scroll down one line"},
	PageUp:      binding{keys: []string{"pgup", "ctrl+b", "b"}, label: "pgup/b", help: "scroll up one page"},
	PageDown:    binding{keys: []string{"pgdown", "ctrl+f", " ", "f"}, label: "pgdn/space", help: "scroll down one page"},
	Top:         binding{keys: []string{"home", "g"}, label: "home/g", help: "go to the oldest line kept"},
	Bottom:      binding{keys: []string{"end", "G"}, label: "end/G", help: "go to the newest line and follow new ones"},
	NextSource:  binding{keys: []string{"tab", "right", "l"}, label: "tab/→", help: "show the next process only"},
	PrevSource:  binding{keys: []string{"shift+tab", "left", "h"}, label: "shift+tab/←", help: "show the previous process only"},
	Source:      binding{label: "0-9", help: "show one process (0: all of them)"},
	Filter:      binding{keys: []string{"/"}, label: "/", help: "show only lines containing a text (enter keeps it)"},
	ClearFilter: binding{keys: []string{"esc"}, label: "esc", help: "clear the text filter, back to all processes"},
	Wrap:        binding{keys: []string{"w"}, label: "w", help: "wrap long lines, or cut them at the edge"},
	Timestamps:  binding{keys: []string{"t"}, label: "t", help: "show when each line was printed"},
	Reload:      binding{keys: []string{"r"}, label: "r", help: "reload the app now"},
	Help:        binding{keys: []string{"?"}, label: "?", help: "show or hide this help"},
	Quit:        binding{keys: []string{"q", "ctrl+c"}, label: "q/ctrl+c", help: "stop everything (press again to stop at once)"},
}

// helpBindings lists the bindings in the order the help screen shows them;
// withReload adds the reload key when the caller can reload.
func (k keyMap) helpBindings(withReload bool) []binding {
	list := []binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom,
		k.NextSource, k.PrevSource, k.Source, k.Filter, k.ClearFilter, k.Wrap, k.Timestamps}
	if withReload {
		list = append(list, k.Reload)
	}
	return append(list, k.Help, k.Quit)
}
