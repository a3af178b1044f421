package orchestrator

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/devstack-dev/devstack/events"
	"github.com/devstack-dev/devstack/project"
)

// moduleNotFoundRE is the last line of the traceback of an import that
// failed: ModuleNotFoundError: No module named 'celery'.
var moduleNotFoundRE = regexp.MustCompile(`ModuleNotFoundError: No module named '([A-Za-z_][\w.]*)'`)

// missingModules explains a ModuleNotFoundError of the gateway: the
// interpreter it ran, and which other interpreter of the search has the
// module, with the --python flag that uses it. The explanation goes to
// the log once per module and run of the gateway, and onto the proxy's
// error page while the gateway stays down.
type missingModules struct {
	mu        sync.Mutex
	explained map[string]bool
	hint      string // for the error page, "" when none
}

// watchMissingModules reads the gateway's lines from sub until ctx ends.
func (s *Stack) watchMissingModules(ctx context.Context, sub *Subscription) {
	defer sub.Close()
	name := gatewayName(s.p)
	for {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				return
			}
			switch {
			case e.Kind == events.KindReloadStart:
				s.missing.reset()
			case e.Kind == events.KindLog && e.Source == name:
				if m := moduleNotFoundRE.FindStringSubmatch(e.Text); m != nil {
					s.explainMissingModule(m[1])
				}
			}
		case <-ctx.Done():
			return
		}
	}
}

func (m *missingModules) reset() {
	m.mu.Lock()
	m.explained, m.hint = nil, ""
	m.mu.Unlock()
}

// pageHint is the explanation for the error page, "" when there is none.
func (m *missingModules) pageHint() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hint
}

func (s *Stack) explainMissingModule(module string) {
	top, _, _ := strings.Cut(module, ".")
	s.missing.mu.Lock()
	if s.missing.explained[module] {
		s.missing.mu.Unlock()
		return
	}
	if s.missing.explained == nil {
		s.missing.explained = map[string]bool{}
	}
	s.missing.explained[module] = true
	s.missing.mu.Unlock()

	p := s.project()
	in := p.Interpreter
	text := fmt.Sprintf("the app cannot import %s with %s (%s)", module, in.Path, in.Source)
	others := project.CandidatesWithModule(p, module)
	if len(others) > 0 {
		var names []string
		for _, c := range others {
			names = append(names, fmt.Sprintf("%s (%s)", c.Path, c.Source))
		}
		text += fmt.Sprintf("; %s %s it: devstack up --python %s, or python = %q in devstack.toml",
			strings.Join(names, ", "), map[bool]string{true: "has", false: "have"}[len(others) == 1], others[0].Path, others[0].Path)
	} else {
		text += fmt.Sprintf("; no other interpreter found has it: install it (%s -m pip install %s, or the package that provides it)", in.Path, project.DistributionFor(p, top))
	}
	s.missing.mu.Lock()
	s.missing.hint = text
	s.missing.mu.Unlock()
	s.say("%s", text)
}
