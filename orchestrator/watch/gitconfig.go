package watch

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
)

// git also ignores what the user's global excludes file lists: the file
// named by core.excludesFile, by default $XDG_CONFIG_HOME/git/ignore
// (~/.config/git/ignore). The value is read from git's config files here,
// without running git, so a machine without git behaves the same:
// git-config(1) documents the files and their order, gitignore(5) the
// default.

// maxConfigIncludes bounds include.path chains, as git does (it stops at 10).
const maxConfigIncludes = 10

// globalExcludesFile returns the path of git's global excludes file for a
// project in root, or "" when core.excludesFile is set to an empty value.
// Whether the file exists is the caller's business.
func globalExcludesFile(root string) string {
	home := os.Getenv("HOME")
	value, set := "", false
	for _, f := range gitConfigFiles(root, home) {
		readGitConfig(f, home, 0, func(key, v string) {
			if key == "core.excludesfile" {
				value, set = v, true
			}
		})
	}
	if set {
		if value == "" {
			return ""
		}
		return expandConfigPath(value, root, home)
	}
	return filepath.Join(xdgConfigHome(home), "git", "ignore")
}

// gitConfigFiles lists the config files git reads, weakest first: the
// system file, the user's files, the repository's own.
func gitConfigFiles(root, home string) []string {
	var files []string
	// GIT_CONFIG_SYSTEM and GIT_CONFIG_GLOBAL replace the usual files
	// when set, even to "" (then there is none).
	if !envTrue("GIT_CONFIG_NOSYSTEM") {
		system, ok := os.LookupEnv("GIT_CONFIG_SYSTEM")
		if !ok {
			system = "/etc/gitconfig"
		}
		files = append(files, system)
	}
	if global, ok := os.LookupEnv("GIT_CONFIG_GLOBAL"); ok {
		files = append(files, global)
	} else {
		files = append(files, filepath.Join(xdgConfigHome(home), "git", "config"))
		if home != "" {
			files = append(files, filepath.Join(home, ".gitconfig"))
		}
	}
	return append(files, filepath.Join(root, ".git", "config"))
}

func xdgConfigHome(home string) string {
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
		return x
	}
	return filepath.Join(home, ".config")
}

// envTrue reads a boolean environment variable the way git does.
func envTrue(name string) bool {
	switch strings.ToLower(os.Getenv(name)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// expandConfigPath expands a path-valued setting: "~/" is the home
// directory, "~user/" that user's; a relative path is relative to the
// working tree, where git runs.
func expandConfigPath(p, root, home string) string {
	if strings.HasPrefix(p, "~") {
		name, rest, _ := strings.Cut(p[1:], "/")
		dir := home
		if name != "" {
			u, err := user.Lookup(name)
			if err != nil {
				return "" // git refuses the setting too
			}
			dir = u.HomeDir
		}
		return filepath.Join(dir, rest)
	}
	if !filepath.IsAbs(p) {
		return filepath.Join(root, p)
	}
	return p
}

// readGitConfig calls set for each key = value in the git config file at
// path, in file order, with the key as "section.name" in lower case
// ("section.subsection.name" when there is a subsection, kept as written)
// and following include.path. A missing or unreadable file, or the rest of
// a file after a line git would refuse, is skipped: a broken config must
// not stop the watching.
func readGitConfig(path, home string, depth int, set func(key, value string)) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	p := configParser{s: string(b)}
	for {
		key, value, ok := p.next()
		if !ok {
			return
		}
		if key == "include.path" && value != "" && depth < maxConfigIncludes {
			inc := expandConfigPath(value, filepath.Dir(path), home)
			if inc != "" {
				readGitConfig(inc, home, depth+1, set)
			}
			continue
		}
		set(key, value)
	}
}

// configParser reads git's config syntax: "[section]" or
// `[section "subsection"]` headers, "name = value" lines (a name alone is
// true), "#" and ";" comments, double quotes, the escapes \" \\ \n \t \b
// and a backslash at the end of a line continuing the value.
type configParser struct {
	s       string
	i       int
	section string
}

// next returns the next setting; ok is false at the end or at a line git
// would refuse.
func (p *configParser) next() (key, value string, ok bool) {
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			p.i++
		case c == '#' || c == ';':
			p.skipLine()
		case c == '[':
			if !p.header() {
				return "", "", false
			}
		case isConfigNameStart(c) && p.section != "":
			start := p.i
			for p.i < len(p.s) && isConfigNameChar(p.s[p.i]) {
				p.i++
			}
			name := strings.ToLower(p.s[start:p.i])
			for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
				p.i++
			}
			if p.i < len(p.s) && p.s[p.i] == '=' {
				p.i++
				value, ok = p.value()
				if !ok {
					return "", "", false
				}
			} else if p.i < len(p.s) && p.s[p.i] != '\n' && p.s[p.i] != '\r' && p.s[p.i] != '#' && p.s[p.i] != ';' {
				return "", "", false
			}
			return p.section + "." + name, value, true
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// header reads "[section]", `[section "sub"]` or the old "[section.sub]".
func (p *configParser) header() bool {
	end := strings.IndexByte(p.s[p.i:], '\n')
	if end < 0 {
		end = len(p.s) - p.i
	}
	line := p.s[p.i : p.i+end]
	name, rest, found := strings.Cut(line[1:], "]")
	if !found {
		return false
	}
	if n, sub, hasSub := strings.Cut(name, " "); hasSub {
		sub = strings.TrimSpace(sub)
		if len(sub) < 2 || sub[0] != '"' || sub[len(sub)-1] != '"' {
			return false
		}
		sub = strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(sub[1 : len(sub)-1])
		p.section = strings.ToLower(n) + "." + sub
	} else {
		p.section = strings.ToLower(name)
	}
	if p.section == "" {
		return false
	}
	p.i += len(line) - len(rest) // a setting may follow on the same line
	return true
}

// value reads a value up to the end of its (possibly continued) line.
// Unquoted spaces at its ends are dropped, those inside are kept.
func (p *configParser) value() (string, bool) {
	var out strings.Builder
	quoted := false
	keep := 0 // out's length up to the last character that is not an unquoted space
	for ; p.i < len(p.s); p.i++ {
		c := p.s[p.i]
		switch {
		case c == '\n' && !quoted:
			return out.String()[:keep], true
		case c == '\n':
			return "", false // git refuses a quote left open at the end of a line
		case (c == '#' || c == ';') && !quoted:
			p.skipLine()
			return out.String()[:keep], true
		case c == '"':
			quoted = !quoted
		case c == '\\':
			p.i++
			if p.i == len(p.s) {
				return "", false
			}
			switch e := p.s[p.i]; e {
			case '\n':
				continue // the value goes on on the next line
			case '\r':
				if p.i+1 < len(p.s) && p.s[p.i+1] == '\n' {
					p.i++
					continue
				}
				return "", false
			case 'n':
				out.WriteByte('\n')
			case 't':
				out.WriteByte('\t')
			case 'b':
				out.WriteByte('\b')
			case '"', '\\':
				out.WriteByte(e)
			default:
				return "", false
			}
			keep = out.Len()
		case (c == ' ' || c == '\t' || c == '\r') && !quoted:
			if out.Len() > 0 {
				out.WriteByte(c)
			}
		default:
			out.WriteByte(c)
			keep = out.Len()
		}
	}
	if quoted {
		return "", false
	}
	return out.String()[:keep], true
}

func (p *configParser) skipLine() {
	if end := strings.IndexByte(p.s[p.i:], '\n'); end >= 0 {
		p.i += end
	} else {
		p.i = len(p.s)
	}
}

func isConfigNameStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isConfigNameChar(c byte) bool { return isConfigNameStart(c) || c >= '0' && c <= '9' || c == '-' }
