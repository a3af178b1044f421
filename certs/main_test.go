package certs

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if mkcertDir != "" {
		os.RemoveAll(mkcertDir)
	}
	os.Exit(code)
}
