package tui

import (
	"bytes"
	"strings"
	"testing"

	"github.com/devstack-dev/devstack/events"
)

// hostile is what a child may print to take over the terminal: NUL, BEL,
// BS, a carriage return, the 8-bit CSI both as a raw byte and as U+009B,
// an OSC title and a DCS string, a cursor move and a colour.
const hostile = "a\x00b\x07c\x08d\x1b]0;title\x07e\x1bP1$r\x1b\\f\x9b2Jg\u009b31mh\u009d0;t\u009ci\x1b[2J\x1b[31mred\x1b[0m\x7fj\u0085k"

// Issue 9: only ESC was stripped; the other control bytes reached the
// terminal, in plain mode and in the UI.
func TestCleanLine(t *testing.T) {
	for _, tt := range []struct {
		in, plain, color string
	}{
		{"plain text\twith a tab", "plain text\twith a tab", "plain text\twith a tab"},
		{hostile, "abcdef\uFFFD2Jghiredjk", "abcdef\uFFFD2Jg\x1b[31mhi\x1b[31mred\x1b[0mjk"},
		{"10%\r50%\r100%", "100%", "100%"},
		{"done\r", "done", "done"},
		{"é ü 日本 \U0001F600", "é ü 日本 \U0001F600", "é ü 日本 \U0001F600"},
		{"cut\x1b[", "cut", "cut"},
		{"cut\x1b]0;never ends", "cut", "cut"},
		{"\x1b(Bcharset", "charset", "charset"},
	} {
		if got := cleanLine(tt.in, false); got != tt.plain {
			t.Errorf("cleanLine(%q, false) = %q, want %q", tt.in, got, tt.plain)
		}
		if got := cleanLine(tt.in, true); got != tt.color {
			t.Errorf("cleanLine(%q, true) = %q, want %q", tt.in, got, tt.color)
		}
	}
}

// Every control character but tab and the escapes of colour (when on) is
// gone from what the plain writer and the UI show.
func TestNoControlByteReachesTheTerminal(t *testing.T) {
	e := events.Event{Kind: events.KindLog, Source: "web", Text: hostile}
	for _, color := range []bool{false, true} {
		var out bytes.Buffer
		if err := NewPlain(&out, PlainOptions{Color: color}).Write(e); err != nil {
			t.Fatal(err)
		}
		checkNoControls(t, "plain", out.String(), color)
		for _, l := range linesOf(e, color) {
			checkNoControls(t, "UI", l.text, color)
		}
	}
}

func checkNoControls(t *testing.T, where, s string, color bool) {
	t.Helper()
	if color {
		// The only escapes left are SGR: ESC [ digits ; m.
		for rest := s; ; {
			i := strings.IndexByte(rest, '\x1b')
			if i < 0 {
				break
			}
			j := strings.IndexByte(rest[i:], 'm')
			if j < 0 || strings.Trim(rest[i+2:i+j], "0123456789;") != "" || rest[i+1] != '[' {
				t.Errorf("%s (colour): an escape other than SGR in %q", where, s)
				break
			}
			rest = rest[i+j:]
		}
		s = strings.ReplaceAll(s, "\x1b", "")
	}
	for _, r := range strings.TrimSuffix(s, "\n") {
		if (r < ' ' && r != '\t') || (r >= 0x7f && r <= 0x9f) {
			t.Errorf("%s (colour %v): control character %U in %q", where, color, r, s)
		}
	}
}

// TestPlainPrefixEveryByte checks the sixteen-bytes-at-a-time scan against
// a byte-by-byte one: every byte value at every place of lines of several
// lengths, with a tab (plain, but stops the fast scan) before it or not.
func TestPlainPrefixEveryByte(t *testing.T) {
	byteByByte := func(s string) int {
		for i := 0; i < len(s); i++ {
			if c := s[i]; (c < ' ' && c != '\t') || c >= 0x7f {
				return i
			}
		}
		return len(s)
	}
	for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 23, 33} {
		for pos := range n {
			for c := range 256 {
				for _, tab := range []bool{false, true} {
					b := []byte(strings.Repeat("a~ ", n)[:n])
					if tab && pos > 0 {
						b[pos-1] = '\t'
					}
					b[pos] = byte(c)
					s := string(b)
					if got, want := plainPrefix(s), byteByByte(s); got != want {
						t.Fatalf("plainPrefix(%q) = %d, want %d", s, got, want)
					}
				}
			}
		}
	}
}
