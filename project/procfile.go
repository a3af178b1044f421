package project

import (
	"fmt"
	"regexp"
	"strings"
)

// ProcfileName holds extra processes, one "name: command" a line.
const ProcfileName = "Procfile.dev"

// procfileEntry is one line of Procfile.dev.
type procfileEntry struct {
	Name, Command string
	Line          int
}

var procfileLineRE = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9_-]*)\s*:\s*(.*)$`)

// parseProcfile reads "name: command" lines; blank lines and # comments are
// skipped. name is used in errors.
func parseProcfile(name, data string) ([]procfileEntry, error) {
	var entries []procfileEntry
	seen := map[string]int{}
	for i, line := range strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n") {
		lineNo := i + 1
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := procfileLineRE.FindStringSubmatch(line)
		if m == nil {
			return nil, &ConfigError{File: name, Line: lineNo,
				Msg: fmt.Sprintf("%q is not a \"name: command\" line", truncate(line, 40)),
				Fix: "write each process as \"name: command\" (letters, digits, - and _ in the name)"}
		}
		if strings.TrimSpace(m[2]) == "" {
			return nil, &ConfigError{File: name, Line: lineNo, Msg: fmt.Sprintf("process %q has no command", m[1]),
				Fix: "add the command after \"" + m[1] + ":\""}
		}
		if prev, dup := seen[m[1]]; dup {
			return nil, &ConfigError{File: name, Line: lineNo, Msg: fmt.Sprintf("process %q is already defined on line %d", m[1], prev),
				Fix: "give each process its own name"}
		}
		seen[m[1]] = lineNo
		entries = append(entries, procfileEntry{Name: m[1], Command: strings.TrimSpace(m[2]), Line: lineNo})
	}
	return entries, nil
}
