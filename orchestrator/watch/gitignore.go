package watch

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// A pattern is one line of a .gitignore file (or one include/exclude glob),
// compiled to a regular expression over slash-separated relative paths.
//
// The semantics are git's (gitignore(5)):
//   - a pattern with a slash at the start or in the middle is anchored to the
//     directory holding the .gitignore; one without matches a name at any depth;
//   - a trailing slash matches directories only;
//   - "*" and "?" never match "/", "[...]" is a character class ("!" or "^"
//     negates it, ranges and [:classes:] work), "\" quotes the next character;
//   - "**/" at the start matches any leading directories, "/**" at the end
//     everything inside, "/**/" zero or more directories; any other "**" is
//     an ordinary "*";
//   - "!" at the start re-includes what an earlier pattern excluded.
type pattern struct {
	text    string // the line as written, for messages and tests
	negate  bool
	dirOnly bool
	re      *regexp.Regexp
}

// matches reports whether rel (slash-separated, relative to the pattern's
// base directory, no leading or trailing slash) matches, ignoring negation.
func (p *pattern) matches(rel string, isDir bool) bool {
	if p.dirOnly && !isDir {
		return false
	}
	return p.re.MatchString(rel)
}

// compilePattern parses one gitignore line. ok is false for blank lines and
// comments; err is set for a line no path can match (git skips those too).
func compilePattern(line string) (p *pattern, ok bool, err error) {
	line = strings.TrimSuffix(line, "\r")
	line = trimTrailingSpaces(line)
	if line == "" || line[0] == '#' {
		return nil, false, nil
	}
	p = &pattern{text: line}
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
		return nil, false, fmt.Errorf("pattern %q: %w", p.text, err)
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
			class, n, ok := translateClass(seg[i:])
			if !ok {
				re.WriteString(regexp.QuoteMeta("["))
				continue
			}
			re.WriteString(class)
			i += n - 1
		case '\\':
			if i+1 < len(seg) {
				i++
				re.WriteString(regexp.QuoteMeta(seg[i : i+1]))
			} else {
				return fmt.Errorf("trailing backslash")
			}
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
// it used; ok is false when s has no closing "]" (then "[" is literal).
func translateClass(s string) (class string, n int, ok bool) {
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
			return out.String(), i + 1, true
		}
		first = false
		if c == '[' && i+1 < len(s) && s[i+1] == ':' {
			end := strings.Index(s[i+2:], ":]")
			if end >= 0 && posixClasses[s[i+2:i+2+end]] {
				out.WriteString(s[i : i+2+end+2])
				i += 2 + end + 2
				continue
			}
		}
		lo, width := classChar(s, i)
		if width == 0 {
			return "", 0, false
		}
		i += width
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			hi, w2 := classChar(s, i+1)
			if w2 == 0 {
				return "", 0, false
			}
			if hi < lo {
				// An empty range matches nothing; keep the class valid.
				i += 1 + w2
				continue
			}
			fmt.Fprintf(&out, `\x{%x}-\x{%x}`, lo, hi)
			i += 1 + w2
			continue
		}
		fmt.Fprintf(&out, `\x{%x}`, lo)
	}
	return "", 0, false
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

// An ignoreFile is the parsed content of one .gitignore (or
// .git/info/exclude): its patterns in file order, relative to base.
type ignoreFile struct {
	base     string // slash-separated directory relative to the root; "" for the root
	patterns []*pattern
}

// parseIgnoreFile reads gitignore content. Lines no path can match are
// skipped, as git does.
func parseIgnoreFile(base string, content []byte) *ignoreFile {
	f := &ignoreFile{base: base}
	content = bytes.TrimPrefix(content, []byte("\xef\xbb\xbf")) // BOM
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		p, ok, err := compilePattern(sc.Text())
		if ok && err == nil {
			f.patterns = append(f.patterns, p)
		}
	}
	return f
}

// match reports whether the file decides rel (relative to the root) and
// how: the last matching pattern wins. decided is false when no pattern in
// this file matches, so a less specific file gets to decide.
func (f *ignoreFile) match(rel string, isDir bool) (ignored, decided bool) {
	if f.base != "" {
		if !strings.HasPrefix(rel, f.base+"/") {
			return false, false
		}
		rel = rel[len(f.base)+1:]
	}
	for i := len(f.patterns) - 1; i >= 0; i-- {
		p := f.patterns[i]
		if p.matches(rel, isDir) {
			return !p.negate, true
		}
	}
	return false, false
}
