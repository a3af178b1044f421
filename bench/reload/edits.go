package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// An edit is the save the bench makes, over and over with a new marker: a
// rewrite of one file of the sample app and the page that shows it.
type edit struct {
	file    string         // relative to the app's directory
	find    *regexp.Regexp // the text the marker goes into
	replace string         // with %s for the marker
	path    string         // the page that shows it
	want    string         // what that page holds once served, with %s for the marker
}

// edits are the saves the bench knows, by app and kind.
var edits = map[string]map[string]edit{
	"django": {
		"code": {
			file:    "whoami/views.py",
			find:    regexp.MustCompile(`'framework': 'django',( 'marker': '[^']*',)?`),
			replace: `'framework': 'django', 'marker': '%s',`,
			path:    "/whoami/", want: `"marker": "%s"`,
		},
		"template": {
			file:    "whoami/templates/whoami/index.html",
			find:    regexp.MustCompile(`<h1>What Django sees[^<]*</h1>`),
			replace: `<h1>What Django sees %s</h1>`,
			path:    "/", want: `<h1>What Django sees %s</h1>`,
		},
	},
	"fastapi": {
		"code": {
			file:    "main.py",
			find:    regexp.MustCompile(`'marker': '[^']*'`),
			replace: `'marker': '%s'`,
			path:    "/whoami/", want: `"marker":"%s"`,
		},
		"template": {
			file:    "templates/page.html",
			find:    regexp.MustCompile(`<p class="marker">[^<]*</p>`),
			replace: `<p class="marker">%s</p>`,
			path:    "/", want: `<p class="marker">%s</p>`,
		},
	},
}

// apply returns the edited file for marker and where to write it; the
// caller times the write alone.
func (e edit) apply(site, marker string) (path string, data []byte, err error) {
	path = filepath.Join(site, e.file)
	data, err = os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	if !e.find.Match(data) {
		return "", nil, fmt.Errorf("%s has no %s to edit", path, e.find)
	}
	return path, e.find.ReplaceAll(data, []byte(fmt.Sprintf(e.replace, marker))), nil
}
