package project

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// processes merges Procfile.dev and [processes]; the config wins on a name
// clash. A Procfile "web" entry is skipped: devstack runs the gateway.
func (d *detector) processes() error {
	p := d.p
	procfile := filepath.Join(d.dir, ProcfileName)
	if data, err := os.ReadFile(procfile); err == nil {
		entries, err := parseProcfile(ProcfileName, string(data))
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Name == "web" {
				p.Warnings = append(p.Warnings, fmt.Sprintf("%s:%d: the \"web\" process is not started: devstack runs the gateway itself (to use that command, set command = \"…\" in %s)", ProcfileName, e.Line, ConfigFileName))
				continue
			}
			argv, shell, err := commandArgv(e.Command)
			if err != nil {
				return &ConfigError{File: ProcfileName, Line: e.Line, Msg: fmt.Sprintf("process %q: %v", e.Name, err), Fix: "fix the quoting of the command"}
			}
			p.Processes = append(p.Processes, Process{
				Name: e.Name, Command: e.Command, Argv: argv, Shell: shell, Dir: d.dir,
				Source: fmt.Sprintf("%s:%d", ProcfileName, e.Line),
			})
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return &Error{Msg: "reading " + procfile, Err: err, Fix: "make " + ProcfileName + " readable"}
	}

	for _, name := range d.cfg.ProcessKeys {
		pc := d.cfg.Processes[name]
		pr := Process{Name: name, Dir: d.dir, RestartOn: pc.RestartOn, Source: d.cfg.Display}
		if pc.Command.Argv != nil {
			pr.Argv = pc.Command.Argv
			pr.Command = strings.Join(pc.Command.Argv, " ")
		} else {
			var err error
			pr.Command = pc.Command.Line
			pr.Argv, pr.Shell, err = commandArgv(pc.Command.Line)
			if err != nil {
				return &ConfigError{File: d.cfg.Display, Key: "processes." + name + ".command",
					Msg: fmt.Sprintf("processes.%s.command: %v", name, err), Fix: "fix the quoting of the command"}
			}
		}
		if pc.Dir != nil {
			pr.Dir = filepath.Join(d.dir, *pc.Dir)
			if filepath.IsAbs(*pc.Dir) {
				pr.Dir = *pc.Dir
			}
			if fi, err := os.Stat(pr.Dir); err != nil || !fi.IsDir() {
				return &Error{Msg: fmt.Sprintf("processes.%s.dir %q in %s is not a directory", name, *pc.Dir, d.cfg.Display),
					Fix: "create it, or fix dir (it is relative to the project directory)"}
			}
		}
		for _, k := range sortedKeys(pc.Env) {
			pr.Env = append(pr.Env, k+"="+pc.Env[k])
		}
		replaced := false
		for i := range p.Processes {
			if p.Processes[i].Name == name {
				p.Processes[i], replaced = pr, true
			}
		}
		if !replaced {
			p.Processes = append(p.Processes, pr)
		}
	}
	return nil
}
