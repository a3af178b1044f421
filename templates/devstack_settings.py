"""Where a Django settings module sets each trust setting, read without
running it.

Split settings (``config/settings/{base,local,production}.py``) set a value
in one file and import it into another with ``from .base import *``. The
doctor must name the file and line a setting comes from, or the file where
it belongs, and must judge production's settings by production's module
even when the app runs with the local one. This reader parses the modules
(``ast``), follows star imports in order, and never imports the settings
themselves: a production module that reads ``os.environ["DATABASE_URL"]``
can be read without that variable.

The probe calls ``describe`` inside the app's worker; run as a script
(``python devstack_settings.py MODULE [NAME...]``, from the project
directory) it prints the same JSON, for a settings module that cannot be
imported at all.
"""
import ast
import importlib.util
import json
import os
import sys

# The settings the doctor reads (none is a secret).
TRUST_SETTINGS = ("DEBUG", "ALLOWED_HOSTS", "SECURE_PROXY_SSL_HEADER",
                  "USE_X_FORWARDED_HOST", "USE_X_FORWARDED_PORT", "SECURE_SSL_REDIRECT",
                  "SECURE_HSTS_SECONDS", "CSRF_TRUSTED_ORIGINS", "CSRF_COOKIE_SECURE",
                  "SESSION_COOKIE_SECURE", "CSRF_USE_SESSIONS", "MIDDLEWARE",
                  "SECURE_REDIRECT_EXEMPT")

# Module names production settings go by, next to the module the app runs.
PRODUCTION_NAMES = ("production", "prod", "production_settings", "settings_production",
                    "settings_prod", "live", "deploy")

_UNKNOWN = object()


def describe(module, names=TRUST_SETTINGS):
    """The settings module's files and, for each of names it sets, where and
    (when a literal) to what; plus the same for its production sibling."""
    report = _read_module(module, names)
    production = production_module(module)
    if production:
        report["production"] = _read_module(production, names)
    return report


def production_module(module):
    """The production settings module beside module ("config.settings.local"
    → "config.settings.production"), or None; None too when module is the
    production one."""
    package, _, leaf = module.rpartition(".")
    if leaf in PRODUCTION_NAMES:
        return None
    candidates = [f"{package}.{name}" if package else name for name in PRODUCTION_NAMES]
    if leaf == "settings" and package:
        # mysite/settings.py beside mysite/settings_production.py
        candidates = [f"{package}.{name}" for name in PRODUCTION_NAMES if name.startswith("settings_")] + candidates
    for candidate in candidates:
        if _module_file(candidate):
            return candidate
    return None


def _read_module(module, names):
    out = {"module": module, "file": None, "files": [], "settings": {}, "error": None}
    path = _module_file(module)
    if path is None:
        out["error"] = f"no file for settings module {module}"
        return out
    out["file"] = _display(path)
    try:
        _visit(module, path, set(names), out, set())
    except (OSError, SyntaxError, ValueError) as err:
        out["error"] = f"{type(err).__name__}: {err}"
    return out


def read_file(path, names):
    """What one Python file (a gunicorn.conf.py) sets among names, each as
    {"file", "line", "expr"[, "value"]}; star imports are not followed."""
    out = {"files": [], "settings": {}}
    _visit(None, path, set(names), out, set())
    return out["settings"]


def _module_file(module):
    """The .py file of module, found on sys.path without importing it (its
    parent packages may be imported, as Python would)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError, AttributeError):
        spec = None
    if spec is not None and spec.origin and spec.origin.endswith(".py"):
        return spec.origin
    # A parent package that cannot be imported: look on sys.path directly.
    parts = module.split(".")
    for root in sys.path or [os.getcwd()]:
        base = os.path.join(root or os.getcwd(), *parts)
        for path in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(path):
                return path
    return None


def _visit(module, path, names, out, seen):
    if path in seen:
        return
    seen.add(path)
    out["files"].append(_display(path))
    with open(path, "rb") as f:
        source = f.read()
    tree = ast.parse(source, path)
    text = source.decode("utf-8", "replace")
    package = ""
    if module is not None:
        package = module if os.path.basename(path) == "__init__.py" else module.rpartition(".")[0]
    for node in _statements(tree.body):
        if module is not None and isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            target = "." * node.level + (node.module or "")
            try:
                resolved = importlib.util.resolve_name(target, package) if node.level else target
            except (ImportError, ValueError):
                continue
            child = _module_file(resolved)
            if child:
                _visit(resolved, child, names, out, seen)
            continue
        for name, value, augmented in _assignments(node):
            if name not in names:
                continue
            entry = {"file": _display(path), "line": node.lineno,
                     "expr": (ast.get_source_segment(text, value) or "")[:200] if value is not None else ""}
            known = _UNKNOWN if augmented or value is None else _static_value(value)
            if known is not _UNKNOWN:
                entry["value"] = known
            out["settings"][name] = entry


def _statements(body):
    """Top-level statements in order, including those inside if/try/with
    blocks (settings often set a value under `if DEBUG:` or in a try)."""
    for node in body:
        yield node
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(node, field, None)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                break
            if isinstance(inner, list):
                yield from _statements(inner)
        for handler in getattr(node, "handlers", []) or []:
            yield from _statements(handler.body)


def _assignments(node):
    """(name, value node, augmented) for each module-level name node sets."""
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Name):
                yield target.id, node.value, False
            elif isinstance(target, (ast.Tuple, ast.List)):
                for elt in target.elts:
                    if isinstance(elt, ast.Name):
                        yield elt.id, None, False
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        yield node.target.id, node.value, False
    elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        yield node.target.id, node.value, True


def _static_value(node):
    """A literal's value; for a call reading the environment with a literal
    default (env.bool("X", default=True), os.environ.get("X", "y")), that
    default; otherwise _UNKNOWN."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    if isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg == "default":
                try:
                    return ast.literal_eval(kw.value)
                except (ValueError, TypeError, SyntaxError):
                    return _UNKNOWN
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("get", "getenv") and len(node.args) == 2:
            try:
                return ast.literal_eval(node.args[1])
            except (ValueError, TypeError, SyntaxError):
                return _UNKNOWN
    return _UNKNOWN


def _display(path):
    """path relative to the working directory (the project) when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def main(argv):
    if len(argv) < 2:
        print("usage: devstack_settings.py MODULE [NAME...]", file=sys.stderr)
        return 2
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    names = tuple(argv[2:]) or TRUST_SETTINGS
    json.dump(describe(argv[1], names), sys.stdout, sort_keys=True, default=repr)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
