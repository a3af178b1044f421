package project

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseDotenv(t *testing.T) {
	environ := map[string]string{"HOME": "/home/dev", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := environ[k]; return v, ok }
	tests := []struct {
		name, in string
		want     string // KEY=VALUE|… with values %q-quoted
	}{
		{"plain", "A=1\nB=two words\n", `A="1"|B="two words"`},
		{"comments and blanks", "# top\n\n  \nA=1 # trailing\n#B=2\n", `A="1"`},
		{"hash without space is part of the value", "URL=http://x/#frag\n", `URL="http://x/#frag"`},
		{"export", "export A=1\nexport  B='x'\nexporter=3\n", `A="1"|B="x"|exporter="3"`},
		{"spaces around =", "A = 1\n", `A="1"`},
		{"empty", "A=\nB=''\nC=\"\"\n", `A=""|B=""|C=""`},
		{"single quotes are literal", `A='a\nb $HOME ${HOME} # not a comment'`, `A="a\\nb $HOME ${HOME} # not a comment"`},
		{"double quote escapes", `A="l1\nl2\t\"q\" \\ \$HOME"`, `A="l1\nl2\t\"q\" \\ $HOME"`},
		{"double quotes keep a hash", `A="x # y" # real comment`, `A="x # y"`},
		{"multi-line double", "A=\"line1\nline2\"\nB=3", `A="line1\nline2"|B="3"`},
		{"multi-line single", "A='-----BEGIN\nKEY-----'\n", `A="-----BEGIN\nKEY-----"`},
		{"expansion", "A=${HOME}/x\nB=\"${A}:${MISSING:-dflt}\"\nC=${EMPTY:-fallback}\n", `A="/home/dev/x"|B="/home/dev/x:dflt"|C="fallback"`},
		{"dollar without braces stays", "A=$HOME\n", `A="$HOME"`},
		{"CRLF and BOM", "\ufeffA=1\r\nB=2\r\n", `A="1"|B="2"`},
		{"the environment wins in expansion", "HOME=/file/home\nB=${HOME}\n", `HOME="/file/home"|B="/home/dev"`},
		{"later wins but both listed", "A=1\nA=2\n", `A="1"|A="2"`},
		{"hash right after = is the value", "A=#x\nB= # only a comment\nC=a#b\n", `A="#x"|B=""|C="a#b"`},
		{"single-quote escapes", `A='it\'s a \\ and \n'`, `A="it's a \\ and \\n"`},
		{"names python-dotenv takes", "MY-VAR=1\n1A=2\n'QUOTED'=3\n", `MY-VAR="1"|1A="2"|QUOTED="3"`},
		{"a name alone sets nothing", "A=1\nJUST_A_NAME\nexport B\nC # note\n", `A="1"`},
		{"comment right after the quote", `A="x"#c`, `A="x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars, warnings := parseDotenv(".env", tt.in, lookup)
			if len(warnings) > 0 {
				t.Fatal(warnings)
			}
			var got []string
			for _, v := range vars {
				got = append(got, fmt.Sprintf("%s=%q", v.Key, v.Value))
			}
			if g := strings.Join(got, "|"); g != tt.want {
				t.Errorf("got  %s\nwant %s", g, tt.want)
			}
		})
	}
}

// A line python-dotenv would not parse either is skipped with a warning
// naming it, as python-dotenv skips it, and every other line is read: one
// bad line must not keep the stack from starting.
func TestParseDotenvSkipsMalformedLines(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // what is read, as in TestParseDotenv
		line     int
		msg      string
	}{
		{"text after the closing quote", "A=1\nALLOWED_HOSTS='a','b'\nB=2\n", `A="1"|B="2"`, 2,
			`unexpected ",'b'" after the closing quote of ALLOWED_HOSTS`},
		{"junk after a double quote", "\n\nA=\"x\" y\nB=2", `B="2"`, 3, `unexpected "y" after the closing quote of A`},
		{"never closed: only that line", "A=1\nB=\"open\nC=3\n", `A="1"|C="3"`, 2, "the value of B has no closing \""},
		{"never closed single", "A='x\nB=2", `B="2"`, 1, "no closing '"},
		{"closed on a later line, then junk: all its lines", "A='x\nB=2\nC='y\nD=4\n", `D="4"`, 1,
			`unexpected "y" after the closing quote of A; lines 1-3 skipped`},
		{"a space in the name", "MY VAR=1\nB=2\n", `B="2"`, 1, `"MY VAR=1" is not a NAME=value line`},
		{"no name", "=x\nB=2\n", `B="2"`, 1, `"=x" has no name before =`},
		{"a colon instead of =", "A: B\nB=2\n", `B="2"`, 1, `"A: B" is not a NAME=value line`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars, warnings := parseDotenv(".env.local", tt.in, nil)
			var got []string
			for _, v := range vars {
				got = append(got, fmt.Sprintf("%s=%q", v.Key, v.Value))
			}
			if g := strings.Join(got, "|"); g != tt.want {
				t.Errorf("read %s, want %s", g, tt.want)
			}
			if len(warnings) != 1 {
				t.Fatalf("warnings %q, want one", warnings)
			}
			w := warnings[0]
			if w.File != ".env.local" || w.Line != tt.line {
				t.Errorf("warning at %s:%d, want .env.local:%d", w.File, w.Line, tt.line)
			}
			if s := w.String(); !strings.Contains(s, tt.msg) || !strings.Contains(s, " skipped, the rest of the file is used") ||
				!strings.HasPrefix(s, fmt.Sprintf(".env.local:%d: ", tt.line)) {
				t.Errorf("warning %q, want .env.local:%d:, %q and what was done", s, tt.line, tt.msg)
			}
		})
	}
}

// ReadEnv reads the env files and the config's env again and names what
// changed; devstack's environment still wins, and a .env created after
// the start counts.
func TestReadEnvNamesWhatChanged(t *testing.T) {
	py := systemPython(t)
	dir := writeTree(t, map[string]string{
		"app.py":        flaskApp,
		ConfigFileName:  "[env]\nFROM_CONFIG = \"1\"\n",
		".flaskenv":     "",
		"unrelated.txt": "",
	})
	p, err := Detect(dir, Overrides{Python: py, Environ: testEnviron("SHELL_SET=shell")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(p.Env, "FROM_CONFIG=1") {
		t.Fatalf("env %q lacks the config's env", p.Env)
	}
	if !slices.Contains(p.EnvFilesWatched(), filepath.Join(dir, ".env")) {
		t.Errorf("watched env files %q lack the .env that does not exist yet", p.EnvFilesWatched())
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".env", "GREETING=hello\nSHELL_SET=file\nFROM_CONFIG=file\n")
	env, changed, _, err := ReadEnv(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"GREETING"}; !slices.Equal(changed, want) {
		t.Errorf("changed %q, want %q (the environment and the config win over .env)", changed, want)
	}
	p.Env = env
	write(".env", "GREETING=bonjour\n")
	write(ConfigFileName, "[env]\nNEW = \"x\"\n")
	env, changed, _, err = ReadEnv(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"FROM_CONFIG", "GREETING", "NEW"}; !slices.Equal(changed, want) {
		t.Errorf("changed %q, want %q", changed, want)
	}
	if !slices.Contains(env, "GREETING=bonjour") || slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "FROM_CONFIG=") }) {
		t.Errorf("env %q", env)
	}
	write(".env", "GREETING=bonjour\nBROKEN LINE\n")
	env, _, warnings, err := ReadEnv(p)
	if err != nil {
		t.Fatalf("a broken line: %v, want it skipped", err)
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], ".env:2: ") {
		t.Errorf("warnings %q, want one for .env:2", warnings)
	}
	if !slices.Contains(env, "GREETING=bonjour") {
		t.Errorf("env %q lacks the good line", env)
	}
}

// A bad .env line is a warning of Detect, not an error: the project is
// found, the other lines reach the children, and the line is named once.
func TestDetectSkipsABadDotenvLine(t *testing.T) {
	py := systemPython(t)
	dir := writeTree(t, map[string]string{
		"app.py": flaskApp,
		".env":   "GREETING=hello\nALLOWED_HOSTS='a','b'\nDEBUG=1\n",
	})
	p, err := Detect(dir, Overrides{Python: py, Environ: testEnviron()})
	if err != nil {
		t.Fatalf("Detect: %v, want the line skipped", err)
	}
	for _, kv := range []string{"GREETING=hello", "DEBUG=1"} {
		if !slices.Contains(p.Env, kv) {
			t.Errorf("env %q lacks %s", p.Env, kv)
		}
	}
	var told []string
	for _, w := range p.Warnings {
		if strings.HasPrefix(w, ".env:") {
			told = append(told, w)
		}
	}
	if len(told) != 1 || !strings.HasPrefix(told[0], `.env:2: unexpected ",'b'" after the closing quote of ALLOWED_HOSTS; line skipped`) {
		t.Errorf("warnings %q, want .env:2 told once", p.Warnings)
	}
	if !slices.Equal(p.EnvLinesSkipped, told) {
		t.Errorf("EnvLinesSkipped %q, want %q", p.EnvLinesSkipped, told)
	}
}
