package watch

import (
	"strings"

	"github.com/devstack-dev/devstack/internal/gitglob"
)

// Globs is a compiled list of path globs in gitignore syntax: "*.py"
// matches at any depth, "app/*.py" or "/app" is anchored to the project
// root, "**" spans directories, "docs/" matches a directory, and a later
// "!pattern" takes back what an earlier one matched. A path matches when
// it, or a directory holding it, matches: "docs" covers "docs/index.md".
// The config loader validates globs with the same compiler.
type Globs = gitglob.Globs

// CompileGlobs compiles globs. It fails on a glob no path could match, so a
// typo in a config file is reported instead of silently doing nothing.
func CompileGlobs(globs []string) (Globs, error) { return gitglob.CompileGlobs(globs) }

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
