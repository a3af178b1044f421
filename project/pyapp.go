package project

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// appGuess is what the reading of one Python file found.
type appGuess struct {
	Framework Framework
	Kind      Kind
	Callable  string // "app", "application", "create_app()"
	File      string
	// PathDir is a directory, relative to the project, that must be on the
	// import path for the module to import ("" when the project directory
	// itself is enough), as Flask's CLI and the fastapi CLI add it.
	PathDir string
}

var (
	fastapiRE     = regexp.MustCompile(`\bFastAPI\s*\(`)
	starletteRE   = regexp.MustCompile(`\bStarlette\s*\(`)
	flaskCallRE   = regexp.MustCompile(`\bFlask\s*\(`)
	flaskImportRE = regexp.MustCompile(`(?m)^\s*(?:from\s+flask\s+import\b|import\s+flask\b)`)
	asgiAssignRE  = regexp.MustCompile(`(?m)^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=\s*(?:[\w.]+\.)?(?:FastAPI|Starlette)\s*\(`)
	flaskAssignRE = regexp.MustCompile(`(?m)^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=\s*(?:flask\.)?Flask\s*\(`)
	factoryCallRE = regexp.MustCompile(`(?m)^([A-Za-z_]\w*)\s*=\s*(?:create_app|make_app)\s*\(`)
	factoryDefRE  = regexp.MustCompile(`(?m)^def\s+(create_app|make_app)\s*\(`)
)

// guessApp reads one file. wsgi.py and asgi.py may hold a plain callable;
// app.py a framework app or a plain WSGI callable; main.py only counts with
// a framework. A FastAPI or Starlette app made only by a factory is served
// through the factory.
func guessApp(name, src string) *appGuess {
	switch {
	case fastapiRE.MatchString(src) || starletteRE.MatchString(src):
		fw := FastAPI
		if !fastapiRE.MatchString(src) {
			fw = Starlette
		}
		callable := "app"
		if m := asgiAssignRE.FindStringSubmatch(src); m != nil {
			callable = m[1]
		} else if !definesName(src, "app") && definesName(src, "application") {
			callable = "application"
		} else if m := factoryDefRE.FindStringSubmatch(src); m != nil && !definesName(src, "app") {
			callable = m[1] + "()"
		}
		return &appGuess{Framework: fw, Kind: KindASGI, Callable: callable}
	case flaskCallRE.MatchString(src) || flaskImportRE.MatchString(src):
		return &appGuess{Framework: Flask, Kind: KindWSGI, Callable: flaskCallable(src)}
	}
	if name == "main.py" {
		return nil
	}
	kind := KindWSGI
	fw := WSGI
	if name == "asgi.py" {
		kind, fw = KindASGI, ASGI
	}
	for _, c := range []string{"application", "app"} {
		if definesName(src, c) {
			return &appGuess{Framework: fw, Kind: kind, Callable: c}
		}
	}
	return nil
}

// flaskCallable names the Flask app: the name assigned from Flask(…), an
// app made by a factory, or the factory itself called by gunicorn
// ("create_app()", gunicorn ≥ 20.1).
func flaskCallable(src string) string {
	if m := flaskAssignRE.FindStringSubmatch(src); m != nil {
		return m[1]
	}
	if m := factoryCallRE.FindStringSubmatch(src); m != nil {
		return m[1]
	}
	if m := factoryDefRE.FindStringSubmatch(src); m != nil {
		return m[1] + "()"
	}
	for _, c := range []string{"app", "application"} {
		if definesName(src, c) {
			return c
		}
	}
	return "app"
}

// definesName reports whether src defines name at module level: an
// assignment, a def or class, or an import.
func definesName(src, name string) bool {
	q := regexp.QuoteMeta(name)
	re := regexp.MustCompile(`(?m)^(?:` + q + `\s*(?::[^=\n]*)?=[^=]|(?:async\s+)?def\s+` + q + `\s*\(|class\s+` + q + `\b|from\s+\S+\s+import\s+(?:\(?[^\n]*,\s*)?` + q + `\b|from\s+\S+\s+import\s+[^\n]*\bas\s+` + q + `\b|import\s+[^\n]*\bas\s+` + q + `\b)`)
	return re.MatchString(src)
}

// guessModuleKind reads the file of a configured "module:callable" target
// to tell WSGI from ASGI and name the framework. ok is false when the
// module is not a file under dir.
func guessModuleKind(dir, target string) (g appGuess, ok bool) {
	module := strings.SplitN(target, ":", 2)[0]
	file, pathDir := moduleFile(dir, module), ""
	if file == "" {
		// A src/ layout: the package is importable once src/ is on the path.
		if file = moduleFile(filepath.Join(dir, "src"), module); file != "" {
			pathDir = "src"
		}
	}
	g = appGuess{Framework: WSGI, Kind: KindWSGI, File: file, PathDir: pathDir}
	last := module[strings.LastIndexByte(module, '.')+1:]
	if last == "asgi" {
		g.Framework, g.Kind = ASGI, KindASGI
	}
	if file == "" {
		return g, false
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return g, false
	}
	switch {
	case fastapiRE.Match(src):
		g.Framework, g.Kind = FastAPI, KindASGI
	case starletteRE.Match(src):
		g.Framework, g.Kind = Starlette, KindASGI
	case flaskCallRE.Match(src) || flaskImportRE.Match(src):
		g.Framework, g.Kind = Flask, KindWSGI
	default:
		if f := factoryFramework(filepath.Dir(file), dir, string(src)); f != nil {
			g.Framework, g.Kind = f.Framework, f.Kind
		}
	}
	return g, true
}

var factoryImportRE = regexp.MustCompile(`(?m)^from\s+([A-Za-z_][\w.]*)\s+import\s+[^\n]*\b(?:create_app|make_app)\b`)

// factoryFramework reads the framework of an app made by a factory
// imported from another module ("from app import create_app"): the
// framework of that module. dirs are where the module may be (the
// importing file's directory, the project). nil when it cannot tell.
func factoryFramework(fileDir, root, src string) *appGuess {
	m := factoryImportRE.FindStringSubmatch(src)
	if m == nil {
		return nil
	}
	for _, base := range []string{fileDir, root} {
		f := moduleFile(base, m[1])
		if f == "" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil
		}
		if g := guessApp(filepath.Base(f), string(data)); g != nil && g.Framework.Module() != "" {
			return g
		}
		return nil
	}
	return nil
}

var targetRE = regexp.MustCompile(`^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(\(.*\))?$`)
