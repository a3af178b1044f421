package project

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestModuleVersion(t *testing.T) {
	root := writeTree(t, map[string]string{
		// A wheel install.
		"wheel/django/__init__.py":               "VERSION = (4, 2, 7)\n",
		"wheel/Django-4.2.7.dist-info/METADATA":  "Metadata-Version: 2.1\nName: Django\nVersion: 4.2.7\n\nVersion: 0.0 in the description\n",
		"wheel/django_extensions-3.0.dist-info/": "",
		// Debian: an .egg-info directory; the name's version is not read
		// when PKG-INFO says.
		"deb/gunicorn/__init__.py":                         "version_info = (20, 1, 0)\n",
		"deb/gunicorn-20.1.0.egg-info/PKG-INFO":            "Metadata-Version: 2.1\nName: gunicorn\nVersion: 20.1.0.post1\n",
		"deb/Flask-2.2.2.egg-info/PKG-INFO":                "Name: Flask\nVersion: 2.2.2\n",
		"deb/flask/__init__.py":                            "",
		"egg-file/uvicorn.py":                              "",
		"egg-file/uvicorn-0.17.6-py3.11.egg-info":          "Metadata-Version: 1.2\nName: uvicorn\nVersion: 0.17.6\n",
		"no-metadata/starlette-0.26.1.dist-info/":          "",
		"no-metadata/starlette/__init__.py":                "",
		"vendored/django/__init__.py":                      "\"\"\"doc\"\"\"\n__version__: str = \"9.9rc1\"\n",
		"editable/src/fastapi/__init__.py":                 "from .main import FastAPI\n",
		"editable/site/fastapi-0.100.0.dist-info/METADATA": "Name: fastapi\nVersion: 0.100.0\n",
		"plain/gunicorn/__init__.py":                       "__version__ = '.'.join(map(str, version_info))\n",
	})
	pkg := func(dir, name string) moduleLocation {
		d := filepath.Join(root, dir, name)
		return moduleLocation{Origin: filepath.Join(d, "__init__.py"), PkgDir: d}
	}
	tests := []struct {
		name, module string
		loc          moduleLocation
		sysPath      []string
		want         string
	}{
		{"dist-info, name differs in case", "django", pkg("wheel", "django"), nil, "4.2.7"},
		{"egg-info directory", "gunicorn", pkg("deb", "gunicorn"), nil, "20.1.0.post1"},
		{"egg-info beside another", "flask", pkg("deb", "flask"), nil, "2.2.2"},
		{"egg-info file of a plain module", "uvicorn", moduleLocation{Origin: filepath.Join(root, "egg-file", "uvicorn.py")}, nil, "0.17.6"},
		{"metadata missing: the directory name", "starlette", pkg("no-metadata", "starlette"), nil, "0.26.1"},
		{"literal __version__", "django", pkg("vendored", "django"), []string{filepath.Join(root, "wheel")}, "9.9rc1"},
		{"metadata elsewhere on the path", "fastapi", pkg("editable/src", "fastapi"), []string{filepath.Join(root, "editable", "src"), filepath.Join(root, "editable", "site")}, "0.100.0"},
		{"nothing says", "gunicorn", pkg("plain", "gunicorn"), []string{filepath.Join(root, "nonexistent")}, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := moduleVersion(tt.module, tt.loc, tt.sysPath); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNormalizeDistName(t *testing.T) {
	for in, want := range map[string]string{"Django": "django", "typing_extensions": "typing-extensions", "zope.interface": "zope-interface", "A__-.b": "a-b"} {
		if got := normalizeDistName(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// TestModuleVersionsMatchImportlib: the versions read from the files are
// the ones the interpreter itself reports.
func TestModuleVersionsMatchImportlib(t *testing.T) {
	py := systemPython(t)
	out, err := exec.Command(py, "-c", `from importlib import metadata
for d in ("Django", "gunicorn", "Flask", "uvicorn", "starlette"):
    print(metadata.version(d))`).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(string(out))
	p, err := Detect(fixture("django-basic"), Overrides{Python: py, Environ: testEnviron()})
	if err != nil {
		t.Fatal(err)
	}
	in := p.Interpreter
	got := []string{in.DjangoVersion, in.GunicornVersion, in.FlaskVersion, in.UvicornVersion, in.StarletteVersion}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("versions: got %q, importlib.metadata says %q", got, want)
	}
	if in.FrameworkVersion != in.DjangoVersion || in.GatewayVersion != in.GunicornVersion {
		t.Errorf("framework %q, gateway %q: want the django and gunicorn versions", in.FrameworkVersion, in.GatewayVersion)
	}
}
