package events

import (
	"strconv"
	"strings"
	"time"
)

// AppendLine appends the record as the one line every log writer shows,
// "GET /admin/ 302 12ms 1.2kB", followed by what was unusual about it:
//
//	GET / 200 1.50s 1.1kB (held 1.40s waiting for the server)
//	GET / 502 10.00s 812B (upstream: connection refused)
//
// It does not allocate: the proxy calls it for every request.
func (r *AccessRecord) AppendLine(b []byte) []byte {
	b = append(b, r.Method...)
	b = append(b, ' ')
	b = append(b, r.Path...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, ' ')
	b = AppendDuration(b, r.Duration)
	b = append(b, ' ')
	b = AppendBytes(b, r.Bytes)
	if r.Probe {
		b = append(b, " (devstack's own check)"...)
	}
	if r.Redirected {
		b = append(b, " (plain http, redirected to https)"...)
	}
	if r.Held > 0 {
		b = append(b, " (held "...)
		b = AppendDuration(b, r.Held)
		b = append(b, " waiting for the server)"...)
	}
	if r.UpstreamError != "" {
		b = append(b, " (upstream: "...)
		b = appendOneLine(b, r.UpstreamError)
		b = append(b, ')')
	}
	if r.ClientError != "" {
		b = append(b, " ("...)
		b = append(b, r.ClientError...)
		b = append(b, ')')
	}
	return b
}

// appendOneLine appends s with each run of line breaks (and the blank
// lines between them) as one space, since a record is one line: the
// gateway's error, shown in full on the 502 page, has several.
func appendOneLine(b []byte, s string) []byte {
	s = strings.TrimRight(s, "\r\n")
	for len(s) > 0 {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			return append(b, s...)
		}
		b = append(b, strings.TrimRight(s[:i], " \t")...)
		s = strings.TrimLeft(s[i:], "\r\n \t")
		if len(s) > 0 {
			b = append(b, ' ')
		}
	}
	return b
}

// AppendDuration appends a request or reload time the way people read
// them: 840µs, 3.2ms, 12ms, 1.25s.
func AppendDuration(b []byte, d time.Duration) []byte {
	switch {
	case d < time.Millisecond:
		return append(strconv.AppendInt(b, d.Microseconds(), 10), "µs"...)
	case d < 10*time.Millisecond:
		return append(strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 1, 64), "ms"...)
	case d < time.Second:
		return append(strconv.AppendInt(b, d.Milliseconds(), 10), "ms"...)
	}
	return append(strconv.AppendFloat(b, d.Seconds(), 'f', 2, 64), 's')
}

// AppendBytes appends a size in decimal units: 512B, 1.2kB, 3.4MB.
func AppendBytes(b []byte, n int64) []byte {
	switch {
	case n < 1000:
		return append(strconv.AppendInt(b, n, 10), 'B')
	case n < 1000*1000:
		return append(strconv.AppendFloat(b, float64(n)/1e3, 'f', 1, 64), "kB"...)
	case n < 1000*1000*1000:
		return append(strconv.AppendFloat(b, float64(n)/1e6, 'f', 1, 64), "MB"...)
	}
	return append(strconv.AppendFloat(b, float64(n)/1e9, 'f', 1, 64), "GB"...)
}
