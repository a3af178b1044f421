"""Where a Django project's static and media files are, as the project sees it.

devstack's proxy serves STATIC_URL and MEDIA_URL itself, as nginx does in
production, so the question "which directories?" is answered here, inside
the app's own interpreter, by the project's own staticfiles finders: the
directories `collectstatic` would collect from, in the order it searches
them, then STATIC_ROOT (what it already collected) and MEDIA_ROOT.

report() is called in a gateway worker (by the probe shim, for the per-run
path + "/static") where the app is already loaded. Run as a script with
DJANGO_SETTINGS_MODULE set, it sets Django up itself and prints the same
report as JSON (devstack export uses that).
"""
import json
import os
import sys

REPORT_VERSION = 1

# Directory names of installed distributions: links inside them were made by
# the package manager, not by the project.
_INSTALLED_DIRS = ("site-packages", "dist-packages")


def report():
    """The static and media layout of the loaded Django project, or None when
    the process runs no configured Django."""
    if "django" not in sys.modules:
        return None
    from django.conf import settings

    if not settings.configured:
        return None
    from django.apps import apps

    out = {
        "version": REPORT_VERSION,
        "framework": "django",
        "debug": bool(settings.DEBUG),
        "static_url": _str_or_none(settings.STATIC_URL),
        "static_root": _abs_or_none(getattr(settings, "STATIC_ROOT", None)),
        "media_url": _str_or_none(settings.MEDIA_URL),
        "media_root": _abs_or_none(getattr(settings, "MEDIA_ROOT", None)),
        "staticfiles": apps.is_installed("django.contrib.staticfiles"),
        "app_serves": [m for m in _middleware(settings) if "whitenoise" in m.lower()],
        "roots": [],
        "unserved_finders": [],
        "has_files": False,
    }
    if out["staticfiles"] and apps.ready:
        roots, unserved, has_files = _finder_roots(apps)
        out["roots"], out["unserved_finders"], out["has_files"] = roots, unserved, has_files
    out["exposed"] = _exposed(settings, out)
    return out


def _exposed(settings, out):
    """The directories a production proxy would publish (through
    collectstatic, or as they are) that hold the settings file, as
    {"setting", "dir", "file"}: STATICFILES_DIRS = [BASE_DIR] publishes
    SECRET_KEY."""
    module = sys.modules.get(getattr(settings, "SETTINGS_MODULE", None) or "")
    path = getattr(module, "__file__", None)
    if not path:
        return []
    path = os.path.realpath(path)
    published = [(r["source"], r["dir"]) for r in out["roots"] if not r["installed"]]
    published += [(name, out[key]) for name, key in (("STATIC_ROOT", "static_root"), ("MEDIA_ROOT", "media_root"))
                  if out[key]]
    found = []
    for setting, directory in published:
        if path.startswith(os.path.realpath(directory).rstrip(os.sep) + os.sep):
            found.append({"setting": setting, "dir": directory, "file": path})
    return found


def _finder_roots(apps):
    """The directories the configured finders search, in their order, as
    {"prefix", "dir", "source", "installed"}, with the finders whose files
    have no directory devstack can serve from, and whether any finder has a
    file at all."""
    from django.contrib.staticfiles import finders

    roots, unserved = [], []
    has_files = False
    for finder in finders.get_finders():
        name = f"{type(finder).__module__}.{type(finder).__qualname__}"
        if not has_files:
            has_files = _lists_a_file(finder)
        if isinstance(finder, finders.FileSystemFinder):
            for prefix, root in finder.locations:
                roots.append(_root(prefix, root, "STATICFILES_DIRS"))
        elif isinstance(finder, finders.AppDirectoriesFinder):
            # Every installed app, with a static/ directory or not yet:
            # one created while devstack runs is served without a restart.
            only = set(finder.apps) if type(finder) is not finders.AppDirectoriesFinder else None
            for config in apps.get_app_configs():
                if only is None or config.name in only:
                    roots.append(_root("", os.path.join(config.path, finder.source_dir), "app " + config.name))
        else:
            found = _storage_roots(finder)
            if found:
                roots.extend(found)
            else:
                unserved.append(name)
    return roots, unserved, has_files


def _storage_roots(finder):
    """Roots of a finder that keeps file-system storages (as Django's own
    finders do), read from the storages' locations."""
    storages = getattr(finder, "storages", None)
    if not isinstance(storages, dict):
        storage = getattr(finder, "storage", None)
        storages = {"": storage} if storage is not None else {}
    roots = []
    for storage in storages.values():
        try:
            location = storage.location
        except Exception:  # a remote storage: no directory
            return []
        if not isinstance(location, (str, os.PathLike)) or not location:
            return []
        roots.append(_root(getattr(storage, "prefix", None) or "", location,
                           f"{type(finder).__module__}.{type(finder).__qualname__}"))
    return roots


def _lists_a_file(finder):
    try:
        for _ in finder.list(["CVS", ".*", "*~"]):
            return True
    except Exception:  # a finder that cannot list: say nothing
        pass
    return False


def _root(prefix, path, source):
    path = os.path.abspath(os.fspath(path))
    parts = path.split(os.sep)
    return {
        "prefix": (prefix or "").strip("/"),
        "dir": path,
        "source": source,
        "installed": any(d in parts for d in _INSTALLED_DIRS),
    }


def _middleware(settings):
    return [m for m in (getattr(settings, "MIDDLEWARE", None) or []) if isinstance(m, str)]


def _str_or_none(value):
    return str(value) if value else None


def _abs_or_none(value):
    return os.path.abspath(os.fspath(value)) if value else None


def main():
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        import django

        django.setup()
        out = report()
    except Exception as err:  # the project's own error is the answer
        out = {"version": REPORT_VERSION, "error": f"{type(err).__name__}: {err}"}
    json.dump(out, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
