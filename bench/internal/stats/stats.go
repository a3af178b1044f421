// Package stats holds the small summaries every benchmark prints.
package stats

import (
	"slices"
	"time"
)

// Median is the middle duration of ds (the mean of the two middle ones
// for an even count), 0 for none. ds is not reordered.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
