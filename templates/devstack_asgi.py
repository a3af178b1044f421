"""The app devstack hands to uvicorn: the project's ASGI app plus the probe.

uvicorn is started as

    python -m uvicorn devstack_asgi:app --port 8000 [the project's own flags]

with this file's directory on PYTHONPATH, the project directory as the
working directory, and DEVSTACK_ASGI_APP naming the real app in uvicorn's
"module:attribute" form (e.g. "mysite.asgi:application" or "main:app").
Everything uvicorn does itself (proxy headers, --forwarded-allow-ips, the
lifespan protocol) is untouched: uvicorn wraps this app exactly as it would
wrap the project's.
"""
import importlib
import os
import sys

import devstack_probe

APP_ENV = "DEVSTACK_ASGI_APP"


def load(target):
    """Imports "module:attribute" (attribute may be dotted) from the working
    directory, as uvicorn does."""
    module_name, sep, attrs = target.partition(":")
    if not sep or not module_name or not attrs:
        raise ImportError(f'{APP_ENV} must look like "module:attribute", got {target!r}')
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    obj = importlib.import_module(module_name)
    for attr in attrs.split("."):
        obj = getattr(obj, attr)
    return obj


app = devstack_probe.wrap_asgi(load(os.environ.get(APP_ENV, "")), devstack_probe.uvicorn_server(), None)
