package project

import (
	"fmt"
	"regexp"
	"strings"
)

// envVar is one assignment from an env file.
type envVar struct {
	Key, Value string
	Line       int
}

var envKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// envWarning is a line of an env file that devstack skipped.
type envWarning struct {
	File string
	Line int
	Last int    // the last line skipped, when the value spans lines
	Msg  string // what is wrong
	Fix  string // how to write it
}

func (w envWarning) String() string {
	skipped := "line skipped"
	if w.Last > w.Line {
		skipped = fmt.Sprintf("lines %d-%d skipped", w.Line, w.Last)
	}
	return fmt.Sprintf("%s:%d: %s; %s, the rest of the file is used (%s)", w.File, w.Line, w.Msg, skipped, w.Fix)
}

// parseDotenv reads the KEY=VALUE lines of an env file as python-dotenv
// (what Django and Flask projects load .env with, and flask run) reads
// them:
//
//	# comment              blank lines and comments are skipped
//	export KEY=value       "export " is allowed and ignored
//	KEY=value # note       unquoted: trimmed, " #" starts a comment
//	KEY=#value             but a # right after = is part of the value
//	KEY='literal $x\n'     single quotes: only \\ and \' are escapes, may span lines
//	KEY="a\nb ${HOME}"     double quotes: \n \t \r \" \\ \$ escapes, may span lines
//	KEY                    a name without = sets nothing
//
// ${VAR} and ${VAR:-default} in unquoted and double-quoted values expand to
// lookup(VAR) or else an earlier key of the file. A line python-dotenv
// would not parse either (text after a closing quote, a quote that is
// never closed, a name with a space, no name before =) is skipped with a
// warning, as python-dotenv skips it; a value whose closing quote is on a
// later line skips every line up to it. name is used in the warnings.
func parseDotenv(name, data string, lookup func(string) (string, bool)) ([]envVar, []envWarning) {
	data = strings.TrimPrefix(data, "\ufeff")
	data = strings.ReplaceAll(data, "\r\n", "\n")
	lines := strings.Split(data, "\n")
	var vars []envVar
	var warnings []envWarning
	seen := map[string]string{}
	// The environment wins over the file for the children, so it wins
	// here too: ${VAR} expands to the value the children will see.
	get := func(k string) (string, bool) {
		if lookup != nil {
			if v, ok := lookup(k); ok {
				return v, true
			}
		}
		v, ok := seen[k]
		return v, ok
	}
	skip := func(line int, fix, format string, args ...any) {
		warnings = append(warnings, envWarning{File: name, Line: line, Msg: fmt.Sprintf(format, args...), Fix: fix})
	}
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimLeft(rest, " \t")
		}
		key, after, ok := cutKey(line)
		if !ok {
			skip(lineNo, "write it as NAME=value", "%q has no name before =", truncate(line, 40))
			continue
		}
		after = strings.TrimLeft(after, " \t")
		value, hasValue := strings.CutPrefix(after, "=")
		if !hasValue {
			if after != "" && !strings.HasPrefix(after, "#") {
				skip(lineNo, "write it as NAME=value, with no space in the name", "%q is not a NAME=value line", truncate(line, 40))
			}
			continue // a name alone sets nothing, as in python-dotenv
		}
		trimmed := strings.TrimLeft(value, " \t")
		spaced := len(trimmed) < len(value)
		value = trimmed

		switch {
		case strings.HasPrefix(value, "'") || strings.HasPrefix(value, `"`):
			body, last, w := quotedValue(lines, i, key, value)
			if w != nil {
				w.File = name
				warnings = append(warnings, *w)
				i = last
				continue
			}
			i = last
			if value[0] == '"' {
				value = expandVars(unescapeDouble(body), get)
			} else {
				value = unescapeSingle(body)
			}
		default:
			if j := commentStart(value, spaced); j >= 0 {
				value = value[:j]
			}
			value = expandVars(strings.TrimSpace(value), get)
		}
		seen[key] = value
		vars = append(vars, envVar{Key: key, Value: value, Line: lineNo})
	}
	return vars, warnings
}

// cutKey reads the name at the start of line: 'quoted', or up to a space,
// = or #, as python-dotenv reads it. ok is false when there is none.
func cutKey(line string) (key, rest string, ok bool) {
	if body, found := strings.CutPrefix(line, "'"); found {
		if end := strings.IndexByte(body, '\''); end > 0 {
			return body[:end], body[end+1:], true
		}
		return "", "", false
	}
	end := strings.IndexAny(line, "=# \t")
	if end < 0 {
		end = len(line)
	}
	return line[:end], line[end:], end > 0
}

// quotedValue reads the quoted value that starts line i (value is the
// text after =), which may continue on the following lines. last is the
// index of its last line. w is set when the line is to be skipped: then
// last is the last line to skip, which is line i alone when no quote
// closes the value (the lines after it are read as lines of their own).
func quotedValue(lines []string, i int, key, value string) (body string, last int, w *envWarning) {
	quote := value[0]
	body = value[1:]
	for last = i; ; {
		if end := closingQuote(body, quote); end >= 0 {
			if rest := strings.TrimSpace(body[end+1:]); rest != "" && !strings.HasPrefix(rest, "#") {
				return "", last, &envWarning{Line: i + 1, Last: last + 1,
					Msg: fmt.Sprintf("unexpected %q after the closing quote of %s", truncate(rest, 20), key),
					Fix: "quote the whole value, or put a space and # before a comment"}
			}
			return body[:end], last, nil
		}
		if last+1 >= len(lines) {
			return "", i, &envWarning{Line: i + 1,
				Msg: fmt.Sprintf("the value of %s has no closing %c", key, quote),
				Fix: "add the closing " + string(quote)}
		}
		last++
		body += "\n" + lines[last]
	}
}

// closingQuote finds the quote ending body. A backslash escapes the next
// character in double quotes, and a quote in single quotes.
func closingQuote(body string, quote byte) int {
	for j := 0; j < len(body); j++ {
		switch body[j] {
		case '\\':
			if quote == '"' || j+1 < len(body) && body[j+1] == '\'' {
				j++
			}
		case quote:
			return j
		}
	}
	return -1
}

// unescapeSingle reads the two escapes of a single-quoted value, \\ and \'.
func unescapeSingle(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for j := 0; j < len(s); j++ {
		if s[j] == '\\' && j+1 < len(s) && (s[j+1] == '\\' || s[j+1] == '\'') {
			j++
		}
		b.WriteByte(s[j])
	}
	return b.String()
}

func unescapeDouble(s string) string {
	var b strings.Builder
	for j := 0; j < len(s); j++ {
		c := s[j]
		if c != '\\' || j+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		j++
		switch s[j] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '"', '\\':
			b.WriteByte(s[j])
		case '$':
			b.WriteString("\x00$") // kept literal by expandVars
		default:
			b.WriteByte('\\')
			b.WriteByte(s[j])
		}
	}
	return b.String()
}

var varRefRE = regexp.MustCompile(`\x00\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`)

// expandVars replaces ${VAR} and ${VAR:-default}; an escaped \$ stays a
// literal dollar.
func expandVars(s string, get func(string) (string, bool)) string {
	return varRefRE.ReplaceAllStringFunc(s, func(m string) string {
		if m == "\x00$" {
			return "$"
		}
		sub := varRefRE.FindStringSubmatch(m)
		if v, ok := get(sub[1]); ok && v != "" {
			return v
		}
		return sub[2]
	})
}

// commentStart is the index of a " #" comment in an unquoted value, or -1.
// A value that starts with # is a comment only when spaces separate it
// from the = (KEY= # note); KEY=#value is a value.
func commentStart(v string, spaced bool) int {
	if spaced && strings.HasPrefix(v, "#") {
		return 0
	}
	for j := 1; j < len(v); j++ {
		if v[j] == '#' && (v[j-1] == ' ' || v[j-1] == '\t') {
			return j
		}
	}
	return -1
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
