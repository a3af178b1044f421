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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars, err := parseDotenv(".env", tt.in, lookup)
			if err != nil {
				t.Fatal(err)
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

func TestParseDotenvErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		msg      string
	}{
		{"no equals", "A=1\nJUST_A_WORD\n", 2, `"JUST_A_WORD" is not a KEY=value line`},
		{"bad name", "\n1A=x\n", 2, `"1A" is not a valid variable name`},
		{"bad name with dash", "MY-VAR=1\n", 1, "not a valid variable name"},
		{"unterminated double", "A=1\nB=\"open\nC=3\n", 2, "the value of B has no closing \""},
		{"unterminated single", "A='x", 1, "no closing '"},
		{"junk after quote", "\n\nA=\"x\" y\n", 3, `unexpected "y" after the closing quote of A`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseDotenv(".env.local", tt.in, nil)
			if err == nil {
				t.Fatal("no error")
			}
			ce := configError(t, err)
			if ce.Line != tt.line || ce.File != ".env.local" {
				t.Errorf("got %s:%d, want .env.local:%d", ce.File, ce.Line, tt.line)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %q, want it to contain %q", err, tt.msg)
			}
			hintOf(t, err)
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
	env, changed, err := ReadEnv(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"GREETING"}; !slices.Equal(changed, want) {
		t.Errorf("changed %q, want %q (the environment and the config win over .env)", changed, want)
	}
	p.Env = env
	write(".env", "GREETING=bonjour\n")
	write(ConfigFileName, "[env]\nNEW = \"x\"\n")
	env, changed, err = ReadEnv(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"FROM_CONFIG", "GREETING", "NEW"}; !slices.Equal(changed, want) {
		t.Errorf("changed %q, want %q", changed, want)
	}
	if !slices.Contains(env, "GREETING=bonjour") || slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "FROM_CONFIG=") }) {
		t.Errorf("env %q", env)
	}
	write(".env", "BROKEN LINE\n")
	if _, _, err := ReadEnv(p); err == nil || !strings.Contains(err.Error(), ".env:1") {
		t.Errorf("a broken .env: got %v, want its line", err)
	}
}
