# Reports, as one JSON line on stdout, the Python version and which web
# modules this interpreter has. devstack runs it with the interpreter it is
# checking, in the project directory, as:
#
#     python -c "<this file>" MODULE...
#
# The MODULEs are the ones the app needs; they are really imported, so a
# package that is installed but broken counts as missing. The other known
# modules are only looked up, which is cheap.
import importlib
import importlib.util
import json
import sys

# import name -> distribution name, for the version
KNOWN = {
    "django": "Django",
    "flask": "Flask",
    "fastapi": "fastapi",
    "starlette": "starlette",
    "gunicorn": "gunicorn",
    "uvicorn": "uvicorn",
}


def dist_version(name):
    try:
        from importlib import metadata
    except ImportError:  # Python < 3.8
        return None
    try:
        return metadata.version(KNOWN.get(name, name))
    except Exception:
        return None


def check(name, required):
    if required:
        try:
            mod = importlib.import_module(name)
        except BaseException as e:  # SystemExit from a broken package, too
            return {"error": "%s: %s" % (type(e).__name__, e)}
        version = dist_version(name) or getattr(mod, "__version__", None)
        return {"version": str(version or "unknown")}
    try:
        found = importlib.util.find_spec(name) is not None
    except Exception:
        found = False
    if not found:
        return {"error": "not installed"}
    return {"version": dist_version(name) or "unknown"}


def main():
    required = [m for m in sys.argv[1:] if m]
    modules = {}
    for name in sorted(set(KNOWN) | set(required)):
        modules[name] = check(name, name in required)
    out = {
        "python": "%d.%d.%d" % tuple(sys.version_info[:3]),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "modules": modules,
    }
    sys.stdout.write("\n" + json.dumps(out) + "\n")
    sys.stdout.flush()


main()
