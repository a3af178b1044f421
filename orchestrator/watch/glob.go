package watch

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Globs is a compiled list of path globs with gitignore syntax (see
// pattern): "*.py" matches at any depth, "app/*.py" or "/app" is anchored
// to the project root, "**" spans directories, "docs/" matches a directory,
// and a later "!pattern" takes back what an earlier one matched. A path
// matches when it, or a directory holding it, matches: "docs" covers
// "docs/index.md".
type Globs struct {
	file *ignoreFile
}

// CompileGlobs compiles globs. It fails on a glob no path could match, so a
// typo in a config file is reported instead of silently doing nothing.
func CompileGlobs(globs []string) (Globs, error) {
	f := &ignoreFile{}
	for _, g := range globs {
		p, ok, err := compilePattern(g)
		if err != nil {
			return Globs{}, fmt.Errorf("invalid glob %q: %w", g, err)
		}
		if !ok {
			return Globs{}, fmt.Errorf("invalid glob %q: empty or a comment", g)
		}
		f.patterns = append(f.patterns, p)
	}
	return Globs{file: f}, nil
}

// Empty reports whether there are no globs.
func (g Globs) Empty() bool { return g.file == nil || len(g.file.patterns) == 0 }

// Match reports whether the slash-separated path rel (relative to the
// project root) matches. isDir says whether rel itself is a directory.
func (g Globs) Match(rel string, isDir bool) bool {
	if g.Empty() {
		return false
	}
	rel = strings.Trim(filepath.ToSlash(rel), "/")
	// The deepest decision wins: the path itself, then each directory
	// holding it, innermost first.
	for p, dir := rel, isDir; p != "" && p != "."; p, dir = parentOf(p), true {
		if matched, decided := g.file.match(p, dir); decided {
			return matched
		}
	}
	return false
}

// Matches reports whether any of paths matches any of globs. It is what an
// extra process with its own watch globs uses to decide whether a batch
// concerns it; an invalid glob matches nothing (validate globs up front with
// CompileGlobs).
func Matches(globs []string, paths []string) bool {
	g, err := CompileGlobs(globs)
	if err != nil {
		return false
	}
	for _, p := range paths {
		if g.Match(p, false) {
			return true
		}
	}
	return false
}

// parentOf is path.Dir for slash paths, returning "" at the top.
func parentOf(rel string) string {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return ""
	}
	return rel[:i]
}
