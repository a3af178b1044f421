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
	if isPlainText(s) {
		return s // no control byte: no carriage return either
	}
	if i := strings.LastIndexByte(s, '\r'); i >= 0 && i < len(s)-1 {
		s = s[i+1:]
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
			i++
		case r == '\x1b':
			i = skipEscape(&b, s, i+1, keepSGR)
		case r == 0x9b: // CSI
			i = skipCSI(&b, s, i+size, keepSGR)
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // DCS, SOS, OSC, PM, APC
			i = skipString(s, i+size)
		case r == '\t':
			b.WriteByte('\t')
			i++
		case r < ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			i += size // dropped: it would move the cursor, ring the bell, …
		default:
			b.WriteString(s[i : i+size])
			i += size
		}
	}
	return b.String()
}

// isPlainText reports whether s is printable ASCII and tabs only. It
// looks at eight bytes at a time and at single bytes only around one that
// is not printable ASCII: every line of plain output goes through it.
func isPlainText(s string) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// A byte < 0x20 (w-0x20 borrows), ≥ 0x7f (w+0x01 reaches 0x80) or
		// ≥ 0x80 sets its high bit in one of these.
		if ((w-0x20*ones)|(w+ones)|w)&highs == 0 {
			continue
		}
		if !isPlainBytes(s[i : i+8]) {
			return false
		}
	}
	return isPlainBytes(s[i:])
}

// isPlainBytes is isPlainText one byte at a time.
func isPlainBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c >= 0x7f {
			return false
		}
	}
	return true
}

// skipEscape skips the escape sequence whose ESC came just before s[i] and
// returns the index after it; a CSI … m sequence is written to b when
// keepSGR is set.
func skipEscape(b *strings.Builder, s string, i int, keepSGR bool) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(b, s, i+1, keepSGR)
	case ']', 'P', 'X', '^', '_': // OSC, DCS, SOS, PM, APC: a string up to ST or BEL
		return skipString(s, i+1)
	}
	// A two-byte sequence (ESC c, ESC 7…); intermediates first (ESC ( B).
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	return min(i+1, len(s))
}

// skipCSI skips a control sequence's parameters, intermediates and final
// byte, from s[i] on, and returns the index after it. An SGR sequence
// (final byte m) is written to b, as ESC [, when keepSGR is set.
func skipCSI(b *strings.Builder, s string, i int, keepSGR bool) int {
	j := i
	for j < len(s) && s[j] >= 0x20 && s[j] <= 0x3f {
		j++
	}
	if j >= len(s) {
		return j
	}
	if keepSGR && s[j] == 'm' {
		b.WriteString("\x1b[")
		b.WriteString(s[i : j+1])
	}
	if s[j] < 0x40 || s[j] > 0x7e {
		return j // not a final byte: the sequence is broken; drop what came
	}
	return j + 1
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
