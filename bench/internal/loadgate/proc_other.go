//go:build !linux

package loadgate

func loadAverage() float64 { return -1 }

func runnable(root int) (all, own int, ok bool) { return 0, 0, false }
