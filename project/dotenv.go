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

// parseDotenv reads the KEY=VALUE lines of an env file:
//
//	# comment              blank lines and comments are skipped
//	export KEY=value       "export " is allowed and ignored
//	KEY=value # note       unquoted: trimmed, " #" starts a comment
//	KEY='literal $x\n'     single quotes: taken literally, may span lines
//	KEY="a\nb ${HOME}"     double quotes: \n \t \r \" \\ \$ escapes, may span lines
//
// ${VAR} and ${VAR:-default} in unquoted and double-quoted values expand to
// lookup(VAR) or else an earlier key of the file. name is used in errors.
func parseDotenv(name, data string, lookup func(string) (string, bool)) ([]envVar, error) {
	data = strings.TrimPrefix(data, "\ufeff")
	data = strings.ReplaceAll(data, "\r\n", "\n")
	lines := strings.Split(data, "\n")
	var vars []envVar
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
	fail := func(line int, fix, format string, args ...any) error {
		return &ConfigError{File: name, Line: line, Msg: fmt.Sprintf(format, args...), Fix: fix}
	}
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimSpace(rest)
		}
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok {
			return nil, fail(lineNo, "write it as KEY=value", "%q is not a KEY=value line", truncate(line, 40))
		}
		if !envKeyRE.MatchString(key) {
			return nil, fail(lineNo, "use letters, digits and _ in names, not starting with a digit", "%q is not a valid variable name", truncate(key, 40))
		}
		value = strings.TrimLeft(value, " \t")

		switch {
		case strings.HasPrefix(value, "'") || strings.HasPrefix(value, `"`):
			quote := value[0]
			body := value[1:]
			start := lineNo
			// A quoted value may continue on the following lines.
			for {
				end := closingQuote(body, quote)
				if end >= 0 {
					rest := strings.TrimSpace(body[end+1:])
					if rest != "" && !strings.HasPrefix(rest, "#") {
						return nil, fail(i+1, "quote the whole value, or put a # before the comment", "unexpected %q after the closing quote of %s", truncate(rest, 20), key)
					}
					body = body[:end]
					break
				}
				i++
				if i >= len(lines) {
					return nil, fail(start, "add the closing "+string(quote), "the value of %s has no closing %c", key, quote)
				}
				body += "\n" + lines[i]
			}
			if quote == '"' {
				value = expandVars(unescapeDouble(body), get)
			} else {
				value = body
			}
		default:
			if j := commentStart(value); j >= 0 {
				value = value[:j]
			}
			value = expandVars(strings.TrimSpace(value), get)
		}
		seen[key] = value
		vars = append(vars, envVar{Key: key, Value: value, Line: lineNo})
	}
	return vars, nil
}

// closingQuote finds the quote ending body; in double quotes a backslash
// escapes the next character.
func closingQuote(body string, quote byte) int {
	for j := 0; j < len(body); j++ {
		switch body[j] {
		case '\\':
			if quote == '"' {
				j++
			}
		case quote:
			return j
		}
	}
	return -1
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
func commentStart(v string) int {
	if strings.HasPrefix(v, "#") {
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
