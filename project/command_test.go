package project

import (
	"fmt"
	"strings"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in    string
		argv  string // %q of the words
		shell bool
	}{
		{"celery -A mysite worker -l info", `["celery" "-A" "mysite" "worker" "-l" "info"]`, false},
		{"  npm   run watch  ", `["npm" "run" "watch"]`, false},
		{`echo 'a b' "c d" e\ f`, `["echo" "a b" "c d" "e f"]`, false},
		{`printf "%s\n" "say \"hi\""`, `["printf" "%s\\n" "say \"hi\""]`, false},
		{`a '' ""`, `["a" "" ""]`, false},
		{"tailwindcss -i in.css -o out.css --watch=always", `["tailwindcss" "-i" "in.css" "-o" "out.css" "--watch=always"]`, false},
		{"gunicorn x:app --bind 127.0.0.1:{port}", `["gunicorn" "x:app" "--bind" "127.0.0.1:{port}"]`, false},
		{"npm run build && npm run serve", "", true},
		{"tail -f log | grep ERROR", "", true},
		{"echo $HOME", "", true},
		{`echo "${HOME}"`, "", true},
		{"echo hi > out.txt", "", true},
		{"cd frontend; npm start", "", true},
		{"ls *.py", "", true},
		{"FOO=1 python worker.py", "", true},
		{"cat ~/.bashrc", "", true},
		{"python -c 'print(1)' # comment", "", true},
		{`echo '$HOME | not a pipe'`, `["echo" "$HOME | not a pipe"]`, false},
		{"python a=b.py", `["python" "a=b.py"]`, false},
	}
	for _, tt := range tests {
		argv, shell, err := splitCommand(tt.in)
		if err != nil {
			t.Errorf("splitCommand(%q): %v", tt.in, err)
			continue
		}
		if shell != tt.shell {
			t.Errorf("splitCommand(%q): shell = %v, want %v", tt.in, shell, tt.shell)
		}
		if got := fmt.Sprintf("%q", argv); tt.argv != "" && got != tt.argv {
			t.Errorf("splitCommand(%q) = %s, want %s", tt.in, got, tt.argv)
		}
	}
	for _, in := range []string{"", "   ", `echo "open`, "echo 'open"} {
		if _, _, err := splitCommand(in); err == nil {
			t.Errorf("splitCommand(%q): no error", in)
		}
	}
}

func TestCommandArgvShell(t *testing.T) {
	argv, shell, err := commandArgv("  npm run build && npm start ")
	if err != nil || !shell {
		t.Fatalf("got %q, %v, %v; want a shell command", argv, shell, err)
	}
	if got, want := strings.Join(argv, "|"), "/bin/sh|-c|npm run build && npm start"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseProcfile(t *testing.T) {
	entries, err := parseProcfile("Procfile.dev", "# dev processes\nweb: gunicorn x\n\nworker:  celery -A x worker  \ncss:npx tailwindcss --watch\n")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, fmt.Sprintf("%s@%d=%s", e.Name, e.Line, e.Command))
	}
	if g, want := strings.Join(got, "|"), "web@2=gunicorn x|worker@4=celery -A x worker|css@5=npx tailwindcss --watch"; g != want {
		t.Errorf("got  %s\nwant %s", g, want)
	}

	for _, tt := range []struct {
		in   string
		line int
		msg  string
	}{
		{"worker celery\n", 1, "is not a \"name: command\" line"},
		{"a: x\n\nworker:\n", 3, `process "worker" has no command`},
		{"a: x\nb: y\na: z\n", 3, `process "a" is already defined on line 1`},
		{"my worker: x\n", 1, "not a \"name: command\""},
	} {
		_, err := parseProcfile("Procfile.dev", tt.in)
		if err == nil {
			t.Errorf("%q: no error", tt.in)
			continue
		}
		ce := configError(t, err)
		if ce.Line != tt.line || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%q: got %v (line %d), want line %d and %q", tt.in, err, ce.Line, tt.line, tt.msg)
		}
		hintOf(t, err)
	}
}
