# Reports the Python version, the import path and where the web modules
# this interpreter would import live. devstack runs it with the interpreter
# it is checking, in the project directory, as:
#
#     python -c "<this file>" MODULE...
#
# It runs on every `devstack up`, so it must cost no more than the
# interpreter's own start: it imports nothing beyond what Python loads
# before running it (sys, os), and it finds each module the way `import`
# would (sys.meta_path: PYTHONPATH, .pth files and import hooks count)
# without running the module. devstack reads the versions from the files.
#
# Output, after a NUL and the marker line (a sitecustomize may print before
# it): NUL-separated fields, the key first, paths as raw bytes.
#     python  3.11.2
#     prefix  /usr          base_prefix  /usr
#     executable  <sys.executable>
#     path    <one sys.path entry>                 (repeated)
#     watch   <a site directory, existing or not>  (repeated: creating one
#             adds it to sys.path at the next start)
#     module  <name>  <origin>  <package dir>      ("" when not a package)
#     missing <name>
#     end                  (what follows it, e.g. an atexit print, is not read)
import os
import sys

# certifi: where requests and httpx take their roots from, for the CA
# bundle devstack gives the app.
KNOWN = ("django", "flask", "fastapi", "starlette", "gunicorn", "uvicorn", "certifi")


def find(name):
    """The spec `import name` would use, or None."""
    mod = sys.modules.get(name)
    if mod is not None:
        return getattr(mod, "__spec__", None)
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        try:
            spec = find_spec(name, None)
        except Exception:  # a broken finder or .pth: the import would fail too
            continue
        if spec is not None:
            return spec
    return None


def main():
    if sys.version_info[0] < 3:
        sys.stderr.write("Python %d.%d is not Python 3\n" % sys.version_info[:2])
        sys.exit(1)
    fields = [b"python", ("%d.%d.%d" % tuple(sys.version_info[:3])).encode()]
    fields += [b"prefix", os.fsencode(sys.prefix)]
    fields += [b"base_prefix", os.fsencode(getattr(sys, "base_prefix", sys.prefix))]
    fields += [b"executable", os.fsencode(sys.executable or "")]
    for entry in sys.path:
        fields += [b"path", os.fsencode(entry or os.getcwd())]
    site = sys.modules.get("site")  # absent under python -S
    watch = list(getattr(site, "getsitepackages", lambda: [])())
    if getattr(site, "ENABLE_USER_SITE", False) and getattr(site, "USER_SITE", None):
        watch.append(site.USER_SITE)
    for entry in watch:
        fields += [b"watch", os.fsencode(entry)]
    names = list(KNOWN) + [m for m in sys.argv[1:] if m and m not in KNOWN]
    for name in names:
        spec = find(name)
        origin = getattr(spec, "origin", None)
        # A namespace package (a directory without __init__.py) has no
        # origin a version could come from, and `import` only falls back to
        # one when no real package exists: the module is not installed.
        if spec is None or not origin or origin == "namespace":
            fields += [b"missing", name.encode()]
            continue
        locations = list(getattr(spec, "submodule_search_locations", None) or [])
        package = locations[0] if locations else ""
        fields += [b"module", name.encode(), os.fsencode(origin), os.fsencode(package)]
    out = sys.stdout.buffer
    out.write(b"\n\0devstack-interpreter\n" + b"\0".join(fields) + b"\0end\0")
    out.flush()


main()
