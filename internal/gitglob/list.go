package gitglob

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// A List is the parsed content of one .gitignore file (or
// .git/info/exclude, or git's global excludes file): its patterns in file
// order, relative to the directory holding the file.
type List struct {
	base     string // slash-separated directory relative to the root; "" for the root
	patterns []*Pattern
}

// ParseFile reads gitignore content found in base, a slash-separated
// directory relative to the project root ("" for the root). Lines no path
// can match are skipped, as git does.
func ParseFile(base string, content []byte) *List {
	l := &List{base: base}
	content = bytes.TrimPrefix(content, []byte("\xef\xbb\xbf")) // BOM
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		p, ok, err := Compile(sc.Text())
		if ok && err == nil {
			l.patterns = append(l.patterns, p)
		}
	}
	return l
}

// Decide reports whether the list decides rel (relative to the root) and
// how: the last matching pattern wins, and matched is false when that
// pattern is a "!" one. decided is false when no pattern matches, so a
// less specific list gets to decide.
func (l *List) Decide(rel string, isDir bool) (matched, decided bool) {
	if l.base != "" {
		if !strings.HasPrefix(rel, l.base+"/") {
			return false, false
		}
		rel = rel[len(l.base)+1:]
	}
	for i := len(l.patterns) - 1; i >= 0; i-- {
		p := l.patterns[i]
		if p.Match(rel, isDir) {
			return !p.negate, true
		}
	}
	return false, false
}

// Globs is a compiled list of path globs in gitignore syntax (see
// Pattern): "*.py" matches at any depth, "app/*.py" or "/app" is anchored
// to the project root, "**" spans directories, "docs/" matches a directory,
// and a later "!pattern" takes back what an earlier one matched. A path
// matches when it, or a directory holding it, matches: "docs" covers
// "docs/index.md". The zero Globs matches nothing.
type Globs struct {
	list *List
}

// CompileGlobs compiles globs. Unlike ParseFile it fails on a glob that
// is blank, a comment or one no path could match, so a typo in a config
// file is reported instead of silently doing nothing.
func CompileGlobs(globs []string) (Globs, error) {
	l := &List{}
	for _, g := range globs {
		p, ok, err := Compile(g)
		if err != nil {
			return Globs{}, err
		}
		if !ok {
			if strings.TrimSpace(g) == "" {
				return Globs{}, fmt.Errorf("pattern %q is empty", g)
			}
			return Globs{}, fmt.Errorf(`pattern %q is a comment (write \# for a leading "#")`, g)
		}
		l.patterns = append(l.patterns, p)
	}
	return Globs{list: l}, nil
}

// Empty reports whether there are no globs.
func (g Globs) Empty() bool { return g.list == nil || len(g.list.patterns) == 0 }

// Match reports whether the slash-separated path rel (relative to the
// project root) matches. isDir says whether rel itself is a directory.
func (g Globs) Match(rel string, isDir bool) bool {
	if g.Empty() {
		return false
	}
	rel = strings.Trim(filepath.ToSlash(rel), "/")
	// The deepest decision wins: the path itself, then each directory
	// holding it, innermost first.
	for p, dir := rel, isDir; p != "" && p != "."; p, dir = path.Dir(p), true {
		if matched, decided := g.list.Decide(p, dir); decided {
			return matched
		}
	}
	return false
}
