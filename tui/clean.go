package tui

import (
	"strings"
	"unicode/utf8"
)

// cleanLine makes one line a process printed safe to write to a terminal,
// in plain output and in the UI alike. Escape sequences are removed (with
// keepSGR, colour and style ones, CSI … m, stay), and so are control
// characters: C0 but tab (NUL, BEL, BS, …), DEL and C1 (U+0080–U+009F; the
// 8-bit CSI U+009B introduces a sequence like ESC [). A byte that is not
// UTF-8 becomes U+FFFD, so a lone 0x9b cannot act as CSI on a terminal
// that reads 8-bit controls either. A carriage return keeps only what
// follows it, as a terminal shows a progress bar.
func cleanLine(s string, keepSGR bool) string {
	if plainPrefix(s) == len(s) {
		return s // no control byte: no carriage return either
	}
	return string(appendClean(make([]byte, 0, len(s)), s, keepSGR))
}

// appendClean appends cleanLine(s, keepSGR) to b. A line of printable
// ASCII (most are) costs one scan and one copy.
func appendClean(b []byte, s string, keepSGR bool) []byte {
	i := plainPrefix(s)
	if i == len(s) {
		return append(b, s...)
	}
	if cr := strings.LastIndexByte(s, '\r'); cr >= 0 && cr < len(s)-1 {
		s, i = s[cr+1:], 0
	}
	b = append(b, s[:i]...)
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = utf8.AppendRune(b, utf8.RuneError)
			i++
		case r == '\x1b':
			b, i = skipEscape(b, s, i+1, keepSGR)
		case r == 0x9b: // CSI
			b, i = skipCSI(b, s, i+size, keepSGR)
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // DCS, SOS, OSC, PM, APC
			i = skipString(s, i+size)
		case r == '\t':
			b = append(b, '\t')
			i++
		case r < ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			i += size // dropped: it would move the cursor, ring the bell, …
		default:
			b = append(b, s[i:i+size]...)
			i += size
		}
	}
	return b
}

// plainPrefix returns the length of the longest prefix of s that is
// printable ASCII and tabs only. It looks at sixteen bytes at a time and
// at single bytes only around one that is not printable ASCII: every line
// of output goes through it.
func plainPrefix(s string) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for {
		for ; len(s)-i >= 16; i += 16 {
			t := s[i : i+16]
			w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
				uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
			x := uint64(t[8]) | uint64(t[9])<<8 | uint64(t[10])<<16 | uint64(t[11])<<24 |
				uint64(t[12])<<32 | uint64(t[13])<<40 | uint64(t[14])<<48 | uint64(t[15])<<56
			// A byte < 0x20 (w-0x20 borrows), ≥ 0x7f (w+0x01 reaches
			// 0x80) or ≥ 0x80 sets its high bit in one of these.
			if ((w-0x20*ones)|(w+ones)|w|(x-0x20*ones)|(x+ones)|x)&highs != 0 {
				break
			}
		}
		for end := min(i+16, len(s)); i < end; i++ {
			if c := s[i]; (c < ' ' && c != '\t') || c >= 0x7f {
				return i
			}
		}
		if i == len(s) {
			return i
		}
	}
}

// skipEscape skips the escape sequence whose ESC came just before s[i] and
// returns the index after it; a CSI … m sequence is appended to b when
// keepSGR is set.
func skipEscape(b []byte, s string, i int, keepSGR bool) ([]byte, int) {
	if i >= len(s) {
		return b, i
	}
	switch s[i] {
	case '[':
		return skipCSI(b, s, i+1, keepSGR)
	case ']', 'P', 'X', '^', '_': // OSC, DCS, SOS, PM, APC: a string up to ST or BEL
		return b, skipString(s, i+1)
	}
	// A two-byte sequence (ESC c, ESC 7…); intermediates first (ESC ( B).
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	return b, min(i+1, len(s))
}

// skipCSI skips a control sequence's parameters, intermediates and final
// byte, from s[i] on, and returns the index after it. An SGR sequence
// (final byte m) is appended to b, as ESC [, when keepSGR is set.
func skipCSI(b []byte, s string, i int, keepSGR bool) ([]byte, int) {
	j := i
	for j < len(s) && s[j] >= 0x20 && s[j] <= 0x3f {
		j++
	}
	if j >= len(s) {
		return b, j
	}
	if keepSGR && s[j] == 'm' {
		b = append(b, "\x1b["...)
		b = append(b, s[i:j+1]...)
	}
	if s[j] < 0x40 || s[j] > 0x7e {
		return b, j // not a final byte: the sequence is broken; drop what came
	}
	return b, j + 1
}

// skipString skips a control string from s[i] on up to its terminator
// (ESC \, U+009C or BEL) and returns the index after it.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == '\a':
			return i + 1
		case s[i] == '\x1b' && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		}
		i++
	}
	return i
}
