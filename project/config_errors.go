package project

// Turning TOML decode errors and unknown keys into "file:line: message"
// errors with a fix. The decoder does not expose where keys are, so
// findKeyLine reads the file again.

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

var tomlLineRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)
var tomlTypesRE = regexp.MustCompile(`TOML value has type (\w+); destination has type (\w+)`)

// syntaxError reports a file that is not valid TOML.
func syntaxError(display string, err error) error {
	ce := &ConfigError{File: display, Msg: "invalid TOML: " + strings.TrimPrefix(err.Error(), "toml: "),
		Fix: "fix the TOML syntax in " + display + " (https://toml.io)"}
	var pe toml.ParseError
	if errors.As(err, &pe) {
		ce.Line = pe.Position.Line
		ce.Msg = "invalid TOML: " + pe.Message
	}
	return ce
}

// tomlError turns a decode error into a ConfigError with the file, the line
// and the key.
func tomlError(display, data string, prefix toml.Key, err error) error {
	ce := &ConfigError{File: display, Fix: "fix the value in " + display + " (see the configuration reference in the README)"}
	var pe toml.ParseError
	msg := err.Error()
	if errors.As(err, &pe) {
		ce.Line = pe.Position.Line
		ce.Key = pe.LastKey
		msg = pe.Message
	} else if m := tomlLineRE.FindStringSubmatch(msg); m != nil {
		ce.Line, _ = strconv.Atoi(m[1])
		ce.Key = m[2]
		msg = m[3]
	}
	msg = strings.TrimPrefix(msg, "toml: ")
	if m := tomlTypesRE.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("must be %s %s, not %s %s", article(m[2]), friendlyType(m[2]), article(m[1]), strings.ToLower(m[1]))
	}
	ce.Key = strings.TrimPrefix(ce.Key, prefix.String()+".")
	if ce.Key != "" {
		ce.Msg = ce.Key + " " + msg
		if ce.Line == 0 {
			ce.Line = findKeyLine(data, append(append(toml.Key{}, prefix...), strings.Split(ce.Key, ".")...))
		}
	} else {
		ce.Msg = "invalid TOML: " + msg
	}
	return ce
}

func friendlyType(goKind string) string {
	switch goKind {
	case "slice", "array":
		return "list"
	case "map", "struct":
		return "table"
	case "bool":
		return "boolean"
	}
	return goKind
}

func article(s string) string {
	if s != "" && strings.ContainsRune("aeiouAEIOU", rune(s[0])) {
		return "an"
	}
	return "a"
}

func hasPrefix(k, prefix toml.Key) bool {
	if len(k) < len(prefix) {
		return false
	}
	for i := range prefix {
		if k[i] != prefix[i] {
			return false
		}
	}
	return true
}

// knownKeys lists the valid keys of a table ("" for the top level), read
// from the toml tags of fileConfig so that it cannot drift from them.
func knownKeys(table string) []string {
	t := reflect.TypeOf(fileConfig{})
	if table != "" {
		f, ok := fieldByTag(t, table)
		if !ok {
			return nil
		}
		t = f.Type
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Map {
			t = t.Elem() // [processes.NAME] holds processConfig
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
	}
	var keys []string
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("toml"); tag != "" {
			keys = append(keys, tag)
		}
	}
	return keys
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("toml") == tag {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func unknownKeyFix(k toml.Key) string {
	table := ""
	if len(k) > 1 {
		table = k[0]
	}
	keys := knownKeys(table)
	if keys == nil {
		return "remove it (see the configuration reference in the README)"
	}
	if s := closest(k[len(k)-1], keys); s != "" {
		return fmt.Sprintf("did you mean %q? (valid keys here: %s)", s, strings.Join(keys, ", "))
	}
	return "remove it; valid keys here: " + strings.Join(keys, ", ")
}

// closest returns the key within edit distance 2 of s, if any.
func closest(s string, keys []string) string {
	best, bestD := "", 3
	for _, k := range keys {
		if d := editDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

var (
	tableHeaderRE = regexp.MustCompile(`^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$`)
	keyValueRE    = regexp.MustCompile(`^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=`)
)

// findKeyLine returns the 1-based line where key is defined in data, or 0.
// The decoder does not expose key positions, so this follows table headers
// and dotted keys; a key inside an inline table resolves to the line of the
// inline table.
func findKeyLine(data string, key toml.Key) int {
	want := key.String()
	var table toml.Key
	best := 0
	for i, line := range strings.Split(data, "\n") {
		if m := tableHeaderRE.FindStringSubmatch(line); m != nil {
			table = splitDottedKey(m[1])
			if table.String() == want {
				return i + 1
			}
			continue
		}
		m := keyValueRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		full := append(append(toml.Key{}, table...), splitDottedKey(m[1])...)
		if full.String() == want {
			return i + 1
		}
		if best == 0 && hasPrefix(key, full) {
			best = i + 1 // an inline table holding the key
		}
	}
	return best
}

func splitDottedKey(s string) toml.Key {
	var k toml.Key
	for _, part := range regexp.MustCompile(`"[^"]*"|'[^']*'|[^.\s]+`).FindAllString(s, -1) {
		k = append(k, strings.Trim(part, `"'`))
	}
	return k
}
