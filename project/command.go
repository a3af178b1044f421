package project

import (
	"errors"
	"strings"
)

// shellPath runs the commands that need a shell.
const shellPath = "/bin/sh"

// splitCommand splits a command line into argv the way sh would for simple
// commands: whitespace separates words, single quotes are literal, double
// quotes allow \" \\ \$ \` escapes, a backslash escapes the next character.
// needsShell is true when the line uses anything only a shell can do: pipes,
// redirections, &&, ;, $VAR, `…`, globs, ~, a leading VAR=value, a comment.
func splitCommand(line string) (argv []string, needsShell bool, err error) {
	var (
		word    strings.Builder
		inWord  bool
		quote   byte // 0, '\'' or '"'
		started = func() { inWord = true }
	)
	flush := func() {
		if inWord {
			argv = append(argv, word.String())
			word.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch quote {
		case '\'':
			if c == '\'' {
				quote = 0
			} else {
				word.WriteByte(c)
			}
			continue
		case '"':
			switch c {
			case '"':
				quote = 0
			case '\\':
				if i+1 < len(line) && strings.IndexByte("$`\"\\\n", line[i+1]) >= 0 {
					i++
					if line[i] != '\n' {
						word.WriteByte(line[i])
					}
				} else {
					word.WriteByte(c)
				}
			case '$', '`':
				needsShell = true
				word.WriteByte(c)
			default:
				word.WriteByte(c)
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			flush()
		case '\'', '"':
			quote = c
			started()
		case '\\':
			started()
			if i+1 < len(line) {
				i++
				if line[i] != '\n' {
					word.WriteByte(line[i])
				}
			}
		case '|', '&', ';', '<', '>', '(', ')', '`', '$', '*', '?', '[':
			needsShell = true
			started()
			word.WriteByte(c)
		case '~', '#':
			if !inWord {
				needsShell = true
			}
			started()
			word.WriteByte(c)
		case '=':
			if len(argv) == 0 && inWord && envKeyRE.MatchString(word.String()) {
				needsShell = true // FOO=bar command
			}
			started()
			word.WriteByte(c)
		default:
			started()
			word.WriteByte(c)
		}
	}
	if quote != 0 {
		return nil, false, errors.New("unterminated " + string(quote) + " quote")
	}
	flush()
	if len(argv) == 0 {
		return nil, false, errors.New("empty command")
	}
	return argv, needsShell, nil
}

// commandArgv turns a command line into what to execute: its words, or
// ["/bin/sh", "-c", line] when it needs a shell.
func commandArgv(line string) (argv []string, shell bool, err error) {
	argv, shell, err = splitCommand(line)
	if err != nil {
		return nil, false, err
	}
	if shell {
		return []string{shellPath, "-c", strings.TrimSpace(line)}, true, nil
	}
	return argv, false, nil
}

// substitutePort replaces every "{port}" in argv.
func substitutePort(argv []string, port string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = strings.ReplaceAll(a, "{port}", port)
	}
	return out
}
