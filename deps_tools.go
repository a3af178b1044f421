//go:build tools

// Pins the chosen libraries in go.mod while the packages that use them are
// being written, so concurrent work never races on go.mod. Remove once every
// dependency is imported by real code.
package main

import (
	_ "github.com/BurntSushi/toml"
	_ "github.com/charmbracelet/bubbletea"
	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/fsnotify/fsnotify"
	_ "github.com/smallstep/truststore"
	_ "golang.org/x/net/http2"
)
