package tui

import (
	"context"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/devstack-dev/devstack/events"
)

// screen is what the body of the UI shows.
type screen int

const (
	screenLogs   screen = iota // the log pane; keys scroll and filter it
	screenFilter               // the log pane while a filter text is typed after "/"
	screenHelp                 // the list of keys
)

// stopStage counts the user's requests to stop the stack.
type stopStage int

const (
	stopNone   stopStage = iota
	stopAsked            // the first q: a graceful stop is under way
	stopForced           // a second q: everything is being killed
)

// config is what the model is given by Run (or a test).
type config struct {
	ctx     context.Context // ends the bus reader
	events  <-chan []events.Event
	status  func() events.StackStatus // nil: the side list comes from events alone
	onQuit  func()                    // nil: quitting ends the UI with ErrQuit
	reload  func()                    // nil: no reload key
	history int                       // lines kept; 0 means DefaultHistory
	color   bool
	out     io.Writer // where the UI is drawn, for the styles' colour profile
	// frame is the least time between two redraws caused by output
	// alone; lines that come in between are drawn with the next frame.
	// Zero draws after every batch (tests).
	frame time.Duration
}

// model is the root of the terminal UI: the stack's picture (header and
// side list), the log pane, and which screen is up.
type model struct {
	cfg    config
	keys   keyMap
	st     styles
	screen screen
	stop   stopStage
	width  int
	height int

	stack stackView
	logs  logView

	input  string // the text filter as typed
	notice string // a short remark in the footer, until the next key

	reloading     bool // a reload asked for with r has not returned yet
	statusPending bool // a readStatus command is out
	statusStale   bool // something changed while it was out: read again

	err error // what Run returns (ErrQuit)

	// Redraws while output floods (see config.frame).
	view         string    // the last screen drawn
	viewAt       time.Time // when it was drawn
	viewLater    bool      // output changed the screen; draw it with the next frame
	framePending bool      // a frameMsg is on its way
}

var _ tea.Model = (*model)(nil)

func newModel(cfg config) *model {
	if cfg.ctx == nil {
		cfg.ctx = context.Background()
	}
	m := &model{
		cfg:   cfg,
		keys:  defaultKeys,
		st:    newStyles(cfg.out, cfg.color),
		stack: stackView{checks: map[string]events.CheckStatus{}},
		logs:  newLogView(cfg.history, cfg.color),
	}
	m.layout()
	return m
}

// Init starts reading the bus, the status, and the clock.
func (m *model) Init() tea.Cmd {
	return tea.Batch(readEvents(m.cfg.ctx, m.cfg.events), m.refreshStatus(), tick())
}

// Update handles one message.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if _, ok := msg.(eventBatchMsg); !ok {
		m.viewLater = false // anything else is drawn at once
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
	case tea.KeyMsg:
		return m, m.key(msg)
	case eventBatchMsg:
		refresh := false
		for _, batch := range msg {
			for i := range batch {
				refresh = m.apply(&batch[i]) || refresh
			}
		}
		cmds := []tea.Cmd{readEvents(m.cfg.ctx, m.cfg.events)}
		if refresh {
			cmds = append(cmds, m.refreshStatus())
		}
		if wait := m.cfg.frame - time.Since(m.viewAt); !refresh && wait > 0 && m.view != "" {
			// Output alone: this batch is drawn with the next frame, so a
			// flood costs one screen per frame, not one per batch.
			m.viewLater = true
			if !m.framePending {
				m.framePending = true
				cmds = append(cmds, tea.Tick(wait, func(time.Time) tea.Msg { return frameMsg{} }))
			}
		}
		return m, tea.Batch(cmds...)
	case frameMsg:
		m.framePending = false
	case busClosedMsg:
		return m, tea.Quit
	case statusMsg:
		m.statusPending = false
		m.stack.applyStatus(events.StackStatus(msg))
		m.layout()
		if m.statusStale {
			return m, m.refreshStatus()
		}
	case tickMsg:
		return m, tea.Batch(tick(), m.refreshStatus())
	case reloadDoneMsg:
		m.reloading = false
		if m.notice == noticeReloadRequested {
			m.notice = "" // the header says how it went
		}
	}
	return m, nil
}

// apply takes in one bus event; it reports whether the stack's status
// may have changed in a way only a snapshot shows (readiness, pids).
func (m *model) apply(e *events.Event) (refresh bool) {
	switch e.Kind {
	case events.KindLog:
	case events.KindAccess:
		m.stack.requests++
	case events.KindState:
		refresh = true
		m.stack.applyState(*e)
	case events.KindReloadStart:
		refresh = true
		text, _ := render(*e)
		m.stack.reload = reloadView{running: true, text: text, at: e.Time}
	case events.KindReloadFinish:
		refresh = true
		text, _ := render(*e)
		m.stack.reload = reloadView{text: text, failed: e.Reload != nil && e.Reload.Err != "", at: e.Time}
	case events.KindCheck:
		refresh = true
		if e.Check == nil {
			break
		}
		prev := m.stack.checks[e.Check.ID]
		m.stack.checks[e.Check.ID] = e.Check.Status
		if quietCheck(prev, e.Check.Status) {
			return refresh // counted in the header, not worth a log line
		}
	case events.KindMessage:
		refresh = true // "ready https://…" comes as a message
	case events.KindSkipped:
		m.stack.skipped += e.Skipped
	}
	m.addLines(e)
	return refresh
}

// addLines appends what e says to the log pane.
func (m *model) addLines(e *events.Event) {
	before := len(m.stack.others)
	m.stack.noteSource(e.Source)
	if len(m.stack.others) != before {
		m.layout()
	}
	if e.Kind == events.KindLog && !e.Continued && e.Source != "" && len(e.Text) <= maxStoredBytes {
		// The common case, without linesOf's slice: one line, cleaned
		// only if it is ever shown (a longer one is cut now, so the
		// history holds no more than maxStoredBytes a line).
		m.logs.add(logLine{at: e.Time, source: e.Source, printed: e.Text})
		return
	}
	for _, l := range linesOf(*e, m.cfg.color) {
		m.logs.add(l)
	}
}

// refreshStatus asks for a status snapshot unless one is on its way, in
// which case another is asked for when it arrives.
func (m *model) refreshStatus() tea.Cmd {
	if m.cfg.status == nil {
		return nil
	}
	if m.statusPending {
		m.statusStale = true
		return nil
	}
	m.statusPending, m.statusStale = true, false
	return readStatus(m.cfg.status)
}

// key handles a key press on the current screen.
func (m *model) key(msg tea.KeyMsg) tea.Cmd {
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 {
		// Keys typed faster than they are read arrive as one message
		// ("0/err"); each is a command of its own.
		var cmds []tea.Cmd
		for _, r := range msg.Runes {
			cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
		}
		return tea.Batch(cmds...)
	}
	m.notice = ""
	if msg.Type == tea.KeyCtrlC {
		return m.quit()
	}
	switch m.screen {
	case screenHelp:
		if m.keys.Help.matches(msg) || m.keys.ClearFilter.matches(msg) || msg.String() == "q" {
			m.screen = screenLogs
		}
		return nil
	case screenFilter:
		m.typeFilter(msg)
		return nil
	}

	k := m.keys
	page := max(m.logs.height-1, 1)
	switch {
	case k.Quit.matches(msg):
		return m.quit()
	case k.Help.matches(msg):
		m.screen = screenHelp
	case k.Up.matches(msg):
		m.logs.scrollUp(1)
	case k.Down.matches(msg):
		m.logs.scrollDown(1)
	case k.PageUp.matches(msg):
		m.logs.scrollUp(page)
	case k.PageDown.matches(msg):
		m.logs.scrollDown(page)
	case k.Top.matches(msg):
		m.logs.toTop()
	case k.Bottom.matches(msg):
		m.logs.toBottom()
	case k.NextSource.matches(msg):
		m.selectSource(m.sourceIndex() + 1)
	case k.PrevSource.matches(msg):
		m.selectSource(m.sourceIndex() - 1)
	case isDigit(msg):
		if n := int(msg.Runes[0] - '0'); n < len(m.stack.sources())+1 {
			m.selectSource(n)
		}
	case k.Filter.matches(msg):
		m.screen = screenFilter
	case k.ClearFilter.matches(msg):
		m.input = ""
		m.logs.setFilter("", "")
	case k.Wrap.matches(msg):
		m.logs.wrap = !m.logs.wrap
	case k.Timestamps.matches(msg):
		m.logs.stamps = !m.logs.stamps
	case k.Reload.matches(msg) && m.cfg.reload != nil:
		return m.requestReload()
	}
	return nil
}

// typeFilter edits the filter text; the pane follows every keystroke.
func (m *model) typeFilter(msg tea.KeyMsg) {
	switch msg.Type {
	case tea.KeyEnter:
		m.screen = screenLogs
	case tea.KeyEsc:
		m.input = ""
		m.screen = screenLogs
	case tea.KeyBackspace, tea.KeyDelete:
		if m.input != "" {
			_, size := utf8.DecodeLastRuneInString(m.input)
			m.input = m.input[:len(m.input)-size]
		}
	case tea.KeyCtrlU:
		m.input = ""
	case tea.KeySpace:
		m.input += " "
	case tea.KeyRunes:
		m.input += string(msg.Runes)
	}
	m.logs.setFilter(m.logs.source, m.input)
}

// sourceIndex is the selected source's place in the side list: 0 for
// all, then 1… for sources().
func (m *model) sourceIndex() int {
	if m.logs.source == "" {
		return 0
	}
	return slices.Index(m.stack.sources(), m.logs.source) + 1
}

// selectSource shows the source at index i of the side list (wrapping).
func (m *model) selectSource(i int) {
	sources := m.stack.sources()
	n := len(sources) + 1
	i = ((i % n) + n) % n
	source := ""
	if i > 0 {
		source = sources[i-1]
	}
	m.logs.setFilter(source, m.input)
}

// quit passes the user's request to stop to the caller, which stops the
// stack; this UI keeps showing it stop until the bus is closed.
func (m *model) quit() tea.Cmd {
	if m.cfg.onQuit == nil {
		m.err = ErrQuit
		return tea.Quit
	}
	if m.stop < stopForced {
		m.stop++
	}
	hook := m.cfg.onQuit
	return func() tea.Msg {
		hook() // off the UI's goroutine: it may take its time
		return nil
	}
}

func (m *model) requestReload() tea.Cmd {
	if m.reloading {
		m.notice = "a reload is already running"
		return nil
	}
	m.reloading = true
	m.notice = noticeReloadRequested
	reload := m.cfg.reload
	return func() tea.Msg {
		reload()
		return reloadDoneMsg{}
	}
}

const noticeReloadRequested = "reload requested"

func isDigit(msg tea.KeyMsg) bool {
	return msg.Type == tea.KeyRunes && len(msg.Runes) == 1 && msg.Runes[0] >= '0' && msg.Runes[0] <= '9'
}

// layout sizes the log pane for the window and the sources known.
func (m *model) layout() {
	width := utf8.RuneCountInString(events.SourceDevstack)
	for _, s := range m.stack.sources() {
		width = max(width, utf8.RuneCountInString(s))
	}
	m.logs.nameWidth = min(width, maxNameWidth)
	m.logs.height = max(m.height-chromeRows, 1)
	m.logs.width = m.width
	if side := m.sideWidth(); side > 0 {
		m.logs.width -= side + len(" │ ")
	}
}

// maxNameWidth caps the source column; longer names are cut with "…".
const maxNameWidth = 16

// filterLabel names what the pane shows: "all", "web", `web "error"`.
func (m *model) filterLabel() string {
	label := m.logs.source
	if label == "" {
		label = "all"
	}
	if m.logs.text != "" {
		label += " " + strings.TrimSpace(`"`+m.input+`"`)
	}
	return label
}
