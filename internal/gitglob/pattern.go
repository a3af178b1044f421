// Package gitglob compiles and matches patterns in the syntax of
// .gitignore files (gitignore(5)): devstack uses it for the project's
// .gitignore files and for the include, exclude and restart_on globs of
// devstack.toml, so that a glob the config accepts is the glob the watcher
// applies. It imports only the standard library.
package gitglob

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// A Pattern is one line of a .gitignore file (or one include/exclude glob),
// compiled to a regular expression over slash-separated relative paths.
//
// The semantics are git's (gitignore(5), and git's wildmatch for what the
// manual leaves open):
//   - a pattern with a slash at the start or in the middle is anchored to the
//     directory holding the .gitignore; one without matches a name at any depth;
//   - a trailing slash matches directories only;
//   - "*" and "?" never match "/", "[...]" is a character class ("!" or "^"
//     negates it, a "]" first is literal, ranges and [:classes:] work), "\"
//     quotes the next character;
//   - "**/" at the start matches any leading directories, "/**" at the end
//     everything inside, "/**/" zero or more directories; any other "**" is
//     an ordinary "*";
//   - "!" at the start re-includes what an earlier pattern excluded.
//
// A pattern git could never match (an unclosed "[", an unknown [:class:], a
// trailing lone backslash, a bare "!" or "/") does not compile: git skips it
// silently, which in a config file hides a typo.
type Pattern struct {
	text    string // the line as written, for messages and tests
	negate  bool
	dirOnly bool
	re      *regexp.Regexp
}

// String is the pattern as written.
func (p *Pattern) String() string { return p.text }

// Negated reports whether the pattern starts with "!" (it re-includes).
func (p *Pattern) Negated() bool { return p.negate }

// Match reports whether rel (slash-separated, relative to the pattern's
// base directory, no leading or trailing slash) matches, ignoring negation.
// isDir says whether rel is a directory.
func (p *Pattern) Match(rel string, isDir bool) bool {
	if p.dirOnly && !isDir {
		return false
	}
	return p.re.MatchString(rel)
}

// Compile parses one gitignore line. ok is false for blank lines and
// comments; err is set for a line no path can match, and says why.
func Compile(line string) (p *Pattern, ok bool, err error) {
	line = strings.TrimSuffix(line, "\r")
	line = trimTrailingSpaces(line)
	if line == "" || line[0] == '#' {
		return nil, false, nil
	}
	p = &Pattern{text: line}
	if line[0] == '!' {
		p.negate = true
		line = line[1:]
	} else if strings.HasPrefix(line, `\!`) || strings.HasPrefix(line, `\#`) {
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") && !strings.HasSuffix(line, `\/`) {
		p.dirOnly = true
		line = strings.TrimRight(line, "/")
	}
	if line == "" {
		return nil, false, fmt.Errorf("pattern %q matches nothing", p.text)
	}
	anchored := strings.Contains(line, "/")
	line = strings.TrimPrefix(line, "/")

	var re strings.Builder
	if anchored {
		re.WriteString("^")
	} else {
		re.WriteString("^(?:.*/)?")
	}
	if err := translateGlob(&re, line); err != nil {
		return nil, false, fmt.Errorf("pattern %q %w", p.text, err)
	}
	re.WriteString("$")
	p.re, err = regexp.Compile(re.String())
	if err != nil {
		return nil, false, fmt.Errorf("pattern %q: %w", p.text, err)
	}
	return p, true, nil
}

// trimTrailingSpaces drops unquoted trailing spaces ("a\ " keeps one).
func trimTrailingSpaces(s string) string {
	for strings.HasSuffix(s, " ") {
		rest := s[:len(s)-1]
		// Count the backslashes before the space: an odd number quotes it.
		n := 0
		for i := len(rest) - 1; i >= 0 && rest[i] == '\\'; i-- {
			n++
		}
		if n%2 == 1 {
			return s
		}
		s = rest
	}
	return s
}

// translateGlob appends the regular expression for glob (already stripped of
// "!", a leading "/" and trailing slashes) to re.
func translateGlob(re *strings.Builder, glob string) error {
	segments := strings.Split(glob, "/")
	for i, seg := range segments {
		last := i == len(segments)-1
		if seg == "**" {
			switch {
			case len(segments) == 1:
				re.WriteString(".*")
			case last:
				// "a/**": everything inside a (not a itself).
				re.WriteString(".+")
			default:
				// "**/b" or "a/**/b": zero or more directories.
				re.WriteString("(?:.*/)?")
			}
			continue
		}
		if err := translateSegment(re, seg); err != nil {
			return err
		}
		if !last {
			re.WriteString("/")
		}
	}
	return nil
}

// translateSegment translates one path segment (no "/") of a glob.
func translateSegment(re *strings.Builder, seg string) error {
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch c {
		case '*':
			for i+1 < len(seg) && seg[i+1] == '*' {
				i++ // "a**b" is "a*b"
			}
			re.WriteString("[^/]*")
		case '?':
			re.WriteString("[^/]")
		case '[':
			class, n, err := translateClass(seg[i:])
			if err != nil {
				return err
			}
			re.WriteString(class)
			i += n - 1
		case '\\':
			if i+1 == len(seg) {
				return errors.New(`ends in a lone "\" (write \\ for a literal backslash)`)
			}
			i++
			re.WriteString(regexp.QuoteMeta(seg[i : i+1]))
		default:
			re.WriteString(regexp.QuoteMeta(seg[i : i+1]))
		}
	}
	return nil
}

// posixClasses are the [:name:] classes git's wildmatch knows; Go's regexp
// knows the same names.
var posixClasses = map[string]bool{
	"alnum": true, "alpha": true, "blank": true, "cntrl": true, "digit": true,
	"graph": true, "lower": true, "print": true, "punct": true, "space": true,
	"upper": true, "xdigit": true,
}

// translateClass turns the bracket expression at the start of s into a
// regular-expression class that never matches "/". n is how many bytes of s
// it used. Like git, it refuses a "[" without its "]" and an unknown
// [:class:]: git matches nothing with such a pattern.
func translateClass(s string) (class string, n int, err error) {
	unclosed := errors.New(`has a "[" without its "]" (write \[ for a literal "[")`)
	var out strings.Builder
	out.WriteString("[")
	i := 1
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		out.WriteString("^/")
		i++
	}
	first := true
	for i < len(s) {
		c := s[i]
		if c == ']' && !first {
			out.WriteString("]")
			return out.String(), i + 1, nil
		}
		first = false
		// "[:name:]" runs to the first "]". Without a ":" before that "]",
		// the "[" is an ordinary character of the class ("[[:digit]"
		// matches "[", ":", "d", "i", "g" and "t").
		if c == '[' && i+1 < len(s) && s[i+1] == ':' {
			end := strings.IndexByte(s[i+2:], ']')
			if end < 0 {
				return "", 0, unclosed
			}
			if end == 0 || s[i+2+end-1] != ':' {
				out.WriteString(`\x{5b}`)
				i++
				continue
			}
			name := s[i+2 : i+2+end-1]
			if !posixClasses[name] {
				return "", 0, fmt.Errorf("has an unknown character class [:%s:]", name)
			}
			out.WriteString(s[i : i+2+end+1])
			i += 2 + end + 1
			continue
		}
		lo, width := classChar(s, i)
		if width == 0 {
			return "", 0, unclosed
		}
		i += width
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			hi, w2 := classChar(s, i+1)
			if w2 == 0 {
				return "", 0, unclosed
			}
			i += 1 + w2
			if hi < lo {
				// git compares the first end as a character of its
				// own before it sees the "-": "[z-a]" matches "z".
				fmt.Fprintf(&out, `\x{%x}`, lo)
				continue
			}
			fmt.Fprintf(&out, `\x{%x}-\x{%x}`, lo, hi)
			continue
		}
		fmt.Fprintf(&out, `\x{%x}`, lo)
	}
	return "", 0, unclosed
}

// classChar reads one (possibly backslash-quoted) byte of a bracket
// expression at s[i]. Non-ASCII bytes are taken one at a time, as git does.
func classChar(s string, i int) (c byte, width int) {
	if s[i] == '\\' {
		if i+1 >= len(s) {
			return 0, 0
		}
		return s[i+1], 2
	}
	return s[i], 1
}
