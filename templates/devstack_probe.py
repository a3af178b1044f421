"""The probe shim: the app's own answer to "what do you see?".

devstack runs the app under its real gateway (gunicorn or uvicorn) and asks
it, through the TLS proxy, how it understands a forwarded request: scheme,
is_secure, host, client address, absolute URL and, for Django, the CSRF
Origin/Referer verdict. Only GET/HEAD requests to the per-run secret path in
DEVSTACK_PROBE_PATH are answered; every other request passes through
untouched, and without that variable the shim is not installed at all.

A probe request travels down the app's real middleware chain (so Werkzeug's
ProxyFix or any WSGI/ASGI middleware has had its say) carrying a marker in
the WSGI environ / ASGI scope. The framework's innermost handler (Django's
get_response, Flask's full_dispatch_request, Starlette's Router) notices the
marker and records what the framework sees instead of routing; the outer
wrapper then answers with one JSON document. If the request never reaches
the framework (a middleware refused it, or the app is plain WSGI/ASGI), the
answer says so ("reached_framework": false) and reports the gateway's view
plus the app's own response status.
"""
import json
import os
import sys

PROBE_PATH_ENV = "DEVSTACK_PROBE_PATH"
# Where the gateway's options came from when devstack carried them over
# from the Procfile's web line ("Procfile:2"); see templates.EnvGatewayArgsFrom.
ARGS_FROM_ENV = "DEVSTACK_GATEWAY_ARGS_FROM"
MARKER_KEY = "devstack.probe"
PROBE_VERSION = 1
# The probe path plus this answers with where the app's static and media
# files are (devstack_static.py), for the proxy to serve them.
STATIC_SUFFIX = "/static"

# Request headers that decide or reveal how a request was forwarded.
_REPORTED_HEADERS = ("host", "forwarded", "x-forwarded-for", "x-forwarded-proto",
                     "x-forwarded-host", "x-forwarded-port", "x-forwarded-prefix",
                     "x-forwarded-ssl", "x-forwarded-protocol", "x-real-ip",
                     "origin", "referer")

# gunicorn settings of the project's own configuration file worth reporting
# (what production runs with, before devstack's --bind).
_GUNICORN_TRUST = ("bind", "forwarded_allow_ips", "proxy_allow_ips", "secure_scheme_headers",
                   "worker_class", "forwarder_headers", "header_map", "proxy_protocol",
                   # uvicorn's names, which gunicorn ignores under UvicornWorker
                   "proxy_headers", "root_path", "server_header", "lifespan")


def _sibling(name):
    """Imports one of devstack's own helper files from this file's directory
    (gunicorn does not put it on sys.path)."""
    import importlib.util

    module = sys.modules.get(name)
    if module is None:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def probe_path():
    """The secret path from the environment, or None when devstack is not
    running the app."""
    path = os.environ.get(PROBE_PATH_ENV, "")
    return path if path.startswith("/") and len(path) > 1 else None


def install_in_gunicorn_worker(worker, generation, project_config):
    """Wraps a gunicorn worker's app (WSGI, or ASGI under UvicornWorker).

    Called from post_worker_init, once the app is loaded in the worker.
    """
    import gunicorn

    cfg = worker.cfg
    own = _project_gunicorn_settings(project_config)
    server = {
        "name": "gunicorn",
        "version": gunicorn.__version__,
        "worker_class": getattr(cfg, "worker_class_str", None),
        "workers": cfg.workers,
        "proc_name": cfg.proc_name,
        "bind": cfg.bind,
        "forwarded_allow_ips": cfg.forwarded_allow_ips,
        "forwarded_allow_ips_source": _trust_source("forwarded_allow_ips", "--forwarded-allow-ips", own,
                                                    project_config, "GUNICORN_CMD_ARGS"),
        "secure_scheme_headers": cfg.secure_scheme_headers,
        "proxy_allow_ips": cfg.proxy_allow_ips,
        "project_config": project_config,
        "project_settings": own,
    }
    if type(worker).__module__.startswith("uvicorn"):
        config = getattr(worker, "config", None)
        server["uvicorn"] = _uvicorn_config(config)
        return wrap_asgi(worker.wsgi, server, generation)
    return wrap_wsgi(worker.wsgi, server, generation)


def uvicorn_server():
    """The server description under plain uvicorn: its version and the trust
    settings of the uvicorn Config loading the app (found on the call stack:
    the app is imported from Config.load)."""
    try:
        import uvicorn
    except ImportError:
        return None
    config = None
    frame = sys._getframe()
    while frame is not None and config is None:
        candidate = frame.f_locals.get("self")
        if type(candidate).__name__ == "Config" and type(candidate).__module__.startswith("uvicorn"):
            config = candidate
        frame = frame.f_back
    server = {"name": "uvicorn", "version": uvicorn.__version__}
    server.update(_uvicorn_config(config) or {})
    if config is not None:
        server["forwarded_allow_ips_source"] = _trust_source("forwarded_allow_ips", "--forwarded-allow-ips",
                                                             {}, None, None)
        if "--no-proxy-headers" in sys.argv or "--proxy-headers" in sys.argv:
            server["proxy_headers_source"] = os.environ.get(ARGS_FROM_ENV) or "command line"
    return server


def _uvicorn_config(config):
    """uvicorn's trust settings as its Config holds them."""
    if config is None:
        return None
    import uvicorn

    ips = getattr(config, "forwarded_allow_ips", None)
    if isinstance(ips, str):
        ips = [item.strip() for item in ips.split(",") if item.strip()]
    return {"version": uvicorn.__version__, "proxy_headers": bool(getattr(config, "proxy_headers", False)),
            "forwarded_allow_ips": list(ips) if ips is not None else None}


def _trust_source(setting, flag, own, project_config, args_env):
    """Where the gateway's trust list came from, for the fix: the project's
    config file (with its line), the command line, FORWARDED_ALLOW_IPS, or
    the server's default, in gunicorn's order: the command line wins over
    GUNICORN_CMD_ARGS, which wins over the config file."""
    def given(argv):
        return any(a == flag or a.startswith(flag + "=") for a in argv)

    if given(sys.argv):
        # devstack never passes the flag itself: the line it carried the
        # gateway's options over from, when it did, set it.
        return os.environ.get(ARGS_FROM_ENV) or "command line"
    if args_env and given(os.environ.get(args_env, "").split()):
        return "command line"
    if setting in own:
        return f"{_display(project_config)}:{own[setting]['line']}"
    if "FORWARDED_ALLOW_IPS" in os.environ:
        return "FORWARDED_ALLOW_IPS"
    return "default"


def _project_gunicorn_settings(path):
    """The trust settings the project's gunicorn.conf.py sets, each with its
    line and, when a literal, its value."""
    if not path:
        return {}
    try:
        return _sibling("devstack_settings").read_file(path, _GUNICORN_TRUST)
    except Exception:  # only costs the file:line in the report
        return {}


def _display(path):
    return _sibling("devstack_settings")._display(path)


def wrap_wsgi(app, server=None, generation=None):
    """Returns app answering the probe path, or app itself without one."""
    path = probe_path()
    if path is None:
        return app
    _patch_frameworks()
    return _WSGIProbe(app, path, server, generation)


def wrap_asgi(app, server=None, generation=None):
    """The ASGI counterpart of wrap_wsgi."""
    path = probe_path()
    if path is None:
        return app
    _patch_frameworks()
    return _ASGIProbe(app, path, server, generation)


def _base_report(server, generation):
    return {
        "probe": PROBE_VERSION,
        "pid": os.getpid(),
        "generation": generation,
        "python": sys.version.split()[0],
        "server": server,
        "reached_framework": False,
    }


def _static_answer(generation):
    """The answer at the probe path + STATIC_SUFFIX: which worker answered,
    and _static_report()."""
    return {"pid": os.getpid(), "generation": generation, "static": _static_report()}


def _static_report():
    """devstack_static.report(), loaded from beside this file."""
    import importlib.util

    module = sys.modules.get("devstack_static")
    if module is None:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "devstack_static.py")
        spec = importlib.util.spec_from_file_location("devstack_static", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["devstack_static"] = module
    try:
        return module.report()
    except Exception as err:  # the project's own error is the answer
        return {"error": f"{type(err).__name__}: {err}"}


def _encode(report):
    return json.dumps(report, default=repr, sort_keys=True).encode()


_RESPONSE_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


# --- WSGI -----------------------------------------------------------------

class _WSGIProbe:
    def __init__(self, app, path, server, generation):
        self.app = app
        self.path = path
        self.server = server
        self.generation = generation

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == self.path + STATIC_SUFFIX:
            data = _encode(_static_answer(self.generation))
            start_response("200 OK", _RESPONSE_HEADERS + [("Content-Length", str(len(data)))])
            return [data]
        if path != self.path and environ.get("SCRIPT_NAME", "") + path != self.path:
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", _RESPONSE_HEADERS + [("Allow", "GET, HEAD")])
            return [b'{"error": "the probe answers GET only"}']

        report = _base_report(self.server, self.generation)
        report["gateway"] = _wsgi_view(environ)
        report["headers"] = _wsgi_headers(environ)
        report.update(_generic_wsgi_view(environ))
        holder = {}
        environ[MARKER_KEY] = holder
        status, body, error = _call_wsgi(self.app, environ)
        if "report" in holder:
            report["reached_framework"] = True
            report.update(holder["report"])
        else:
            report["app_response"] = {"status": status, "body": body[:300].decode("utf-8", "replace"),
                                      "error": error}
        data = _encode(report)
        start_response("200 OK", _RESPONSE_HEADERS + [("Content-Length", str(len(data)))])
        return [b""] if method == "HEAD" else [data]


def _call_wsgi(app, environ):
    """Runs app to completion, returning (status, body, error)."""
    captured = {}
    chunks = []

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        return chunks.append

    try:
        result = app(environ, start_response)
        try:
            for chunk in result:
                chunks.append(chunk)
        finally:
            if hasattr(result, "close"):
                result.close()
    except Exception as err:  # the app's failure is part of the answer
        return _status_code(captured.get("status")), b"".join(chunks), f"{type(err).__name__}: {err}"
    return _status_code(captured.get("status")), b"".join(chunks), None


def _status_code(status):
    try:
        return int(status.split(None, 1)[0])
    except (AttributeError, IndexError, ValueError):
        return None


def _wsgi_view(environ):
    """What the gateway put in the environ, before any app middleware."""
    keys = ("wsgi.url_scheme", "REMOTE_ADDR", "REMOTE_PORT", "HTTP_HOST", "SERVER_NAME",
            "SERVER_PORT", "SCRIPT_NAME", "SERVER_PROTOCOL")
    return {key: environ.get(key) for key in keys}


def _wsgi_headers(environ):
    headers = {}
    for name in _REPORTED_HEADERS:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
        if value is not None:
            headers[name] = value
    return headers


def _generic_wsgi_view(environ):
    """Scheme, host and URL as PEP 3333 reconstructs them."""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST")
    if not host:
        host = environ.get("SERVER_NAME", "")
        port = environ.get("SERVER_PORT", "")
        if port and port != {"https": "443", "http": "80"}.get(scheme):
            host += ":" + port
    return {
        "framework": {"name": "wsgi", "version": None},
        "scheme": scheme,
        "is_secure": scheme == "https",
        "host": host,
        "host_error": None,
        "remote_addr": environ.get("REMOTE_ADDR"),
        "absolute_url": f"{scheme}://{host}{environ.get('SCRIPT_NAME', '')}/",
    }


# --- ASGI -----------------------------------------------------------------

class _ASGIProbe:
    def __init__(self, app, path, server, generation):
        self.app = app
        self.path = path
        self.server = server
        self.generation = generation

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http" or (
                scope.get("path") != self.path
                and scope.get("root_path", "") + scope.get("path", "") != self.path):
            if scope.get("type") == "http" and scope.get("path") == self.path + STATIC_SUFFIX:
                await _send_json(send, 200, _encode(_static_answer(self.generation)), scope.get("method", "GET"))
                return
            return await self.app(scope, receive, send)
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            await _send_json(send, 405, b'{"error": "the probe answers GET only"}', method)
            return

        headers = _asgi_headers(scope)
        report = _base_report(self.server, self.generation)
        report["gateway"] = {
            "scheme": scope.get("scheme"),
            "client": list(scope["client"]) if scope.get("client") else None,
            "peer": _asgi_peer(),
            "server": list(scope["server"]) if scope.get("server") else None,
            "root_path": scope.get("root_path", ""),
            "http_version": scope.get("http_version"),
        }
        report["headers"] = {k: v for k, v in headers.items() if k in _REPORTED_HEADERS}
        report.update(_generic_asgi_view(scope, headers))

        holder = {}
        scope = dict(scope)
        scope[MARKER_KEY] = holder
        status, body, error = await _call_asgi(self.app, scope, receive)
        if "report" in holder:
            report["reached_framework"] = True
            report.update(holder["report"])
        else:
            report["app_response"] = {"status": status, "body": body[:300].decode("utf-8", "replace"),
                                      "error": error}
        await _send_json(send, 200, _encode(report), method)


def _asgi_peer():
    """The address that connected to the server, before uvicorn's proxy
    headers middleware replaced the scope's client: read from the
    connection's transport, found on the call stack."""
    frame = sys._getframe()
    for _ in range(64):
        if frame is None:
            break
        transport = getattr(frame.f_locals.get("self"), "transport", None)
        if transport is not None and hasattr(transport, "get_extra_info"):
            peer = transport.get_extra_info("peername")
            if isinstance(peer, (tuple, list)) and peer:
                return str(peer[0])
            return None
        frame = frame.f_back
    return None


async def _call_asgi(app, scope, receive):
    captured = {"status": None}
    chunks = []

    async def send(message):
        if message["type"] == "http.response.start":
            captured["status"] = message.get("status")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except Exception as err:  # the app's failure is part of the answer
        return captured["status"], b"".join(chunks), f"{type(err).__name__}: {err}"
    return captured["status"], b"".join(chunks), None


async def _send_json(send, status, data, method):
    headers = [(k.lower().encode(), v.encode()) for k, v in _RESPONSE_HEADERS]
    headers.append((b"content-length", str(len(data)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else data})


def _asgi_headers(scope):
    headers = {}
    for name, value in scope.get("headers", []):
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = headers[key] + "," + text if key in headers else text
    return headers


def _generic_asgi_view(scope, headers):
    scheme = scope.get("scheme", "http")
    host = headers.get("host")
    if not host and scope.get("server"):
        host = "%s:%s" % tuple(scope["server"])
    client = scope.get("client")
    return {
        "framework": {"name": "asgi", "version": None},
        "scheme": scheme,
        "is_secure": scheme in ("https", "wss"),
        "host": host,
        "host_error": None,
        "remote_addr": client[0] if client else None,
        "absolute_url": f"{scheme}://{host}{scope.get('root_path', '')}/",
    }


# --- Framework hooks --------------------------------------------------------
#
# Each hook replaces one method on a framework class, in the worker process
# only, after the app was loaded. For a request without the marker the
# original runs unchanged.

def _patch_frameworks():
    if "django" in sys.modules:
        _patch_django()
    if "flask" in sys.modules:
        _patch_flask()
    if "starlette.routing" in sys.modules:
        _patch_starlette()


def _patch_once(cls, name, make):
    flag = "_devstack_probe_" + name
    if cls.__dict__.get(flag):
        return
    setattr(cls, name, make(getattr(cls, name)))
    setattr(cls, flag, True)


def _patch_django():
    from django.core.handlers.wsgi import WSGIHandler

    def make_sync(original):
        def get_response(self, request):
            holder = request.META.get(MARKER_KEY)
            if holder is None:
                return original(self, request)
            return _django_answer(request, holder)
        return get_response

    _patch_once(WSGIHandler, "get_response", make_sync)

    try:
        from django.core.handlers.asgi import ASGIHandler
    except ImportError:  # Django without ASGI support
        return

    def make_async(original):
        async def get_response_async(self, request):
            holder = request.scope.get(MARKER_KEY)
            if holder is None:
                return await original(self, request)
            return _django_answer(request, holder)
        return get_response_async

    _patch_once(ASGIHandler, "get_response_async", make_async)


def _django_answer(request, holder):
    from django.http import HttpResponse

    holder["report"] = _django_report(request)
    return HttpResponse(b"{}", content_type="application/json")


def _django_report(request):
    import django
    from django.conf import settings
    from django.core.exceptions import DisallowedHost, ImproperlyConfigured

    report = {"framework": {"name": "django", "version": django.get_version()}}
    try:
        report["scheme"] = request.scheme
        report["is_secure"] = request.is_secure()
        report["scheme_error"] = None
    except ImproperlyConfigured as err:  # e.g. SECURE_PROXY_SSL_HEADER not a 2-tuple
        report.update(scheme=None, is_secure=None, scheme_error=str(err))
    try:
        report["host"] = request.get_host()
        report["host_error"] = None
    except DisallowedHost as err:
        report.update(host=None, host_error=str(err))
    report["remote_addr"] = request.META.get("REMOTE_ADDR")
    try:
        report["port"] = str(request.get_port())
    except Exception:  # only costs the port check
        report["port"] = None
    report["absolute_url"] = None
    if report["host"] and report["scheme"]:
        report["absolute_url"] = request.build_absolute_uri("/")
    report["csrf"] = _django_csrf_verdict(request)
    reader = _sibling("devstack_settings")
    report["settings"] = {name: getattr(settings, name, None) for name in reader.TRUST_SETTINGS}
    module = getattr(settings, "SETTINGS_MODULE", None)
    report["settings"]["SETTINGS_MODULE"] = module
    if module:
        try:
            report["settings_sources"] = reader.describe(module)
        except Exception as err:  # only costs the file:line in the report
            report["settings_sources"] = {"module": module, "error": f"{type(err).__name__}: {err}"}
    report["static"] = _static_report()
    return report


def _django_csrf_verdict(request):
    """Runs Django's own CSRF middleware on a POST copy of the request.

    The copy carries no CSRF token, so the middleware always refuses it; the
    reason tells which stage refused: the Origin check (Django 4.0+) or the
    Referer check (https requests) failing, or only the token check, which
    means the origin was accepted.
    """
    import copy

    from django.conf import settings
    from django.core.exceptions import DisallowedHost, ImproperlyConfigured
    from django.http import QueryDict
    from django.middleware.csrf import CsrfViewMiddleware
    from django.utils.datastructures import MultiValueDict

    class Verdict(CsrfViewMiddleware):
        def _reject(self, request, reason):
            return ("reject", reason)

        def _accept(self, request):
            return ("accept", None)

    post = copy.copy(request)
    post.method = "POST"
    post.META = dict(request.META)
    post.COOKIES = {}
    post._post, post._files = QueryDict(), MultiValueDict()
    post.session = {}  # for CSRF_USE_SESSIONS: no token stored
    origin = request.META.get("HTTP_ORIGIN")
    verdict = {
        "middleware_enabled": any(m.endswith("CsrfViewMiddleware") for m in settings.MIDDLEWARE),
        "origin": origin,
        "referer": request.META.get("HTTP_REFERER"),
        "checked": None,
        "ok": None,
        "reason": None,
    }
    try:
        secure = post.is_secure()
        if origin is not None and _django_has_origin_check():
            verdict["checked"] = "origin"
        elif secure:
            verdict["checked"] = "referer"
        else:
            verdict["checked"] = "token-only"
        outcome = Verdict(lambda r: None).process_view(post, _csrf_protected_view, (), {})
    except (ImproperlyConfigured, DisallowedHost) as err:
        verdict.update(ok=False, reason=str(err))
        return verdict
    reason = outcome[1] if outcome else None
    refused_early = reason is not None and reason.startswith(
        ("Origin checking failed", "Referer checking failed"))
    verdict["ok"] = not refused_early
    verdict["reason"] = reason if refused_early else None
    return verdict


def _django_has_origin_check():
    import django

    return django.VERSION >= (4, 0)


def _csrf_protected_view(request):
    return None


def _patch_flask():
    import flask

    def make(original):
        def full_dispatch_request(self):
            holder = flask.request.environ.get(MARKER_KEY)
            if holder is None:
                return original(self)
            holder["report"] = _flask_report(self, flask.request)
            return self.response_class(b"{}", mimetype="application/json")
        return full_dispatch_request

    _patch_once(flask.Flask, "full_dispatch_request", make)


def _flask_report(app, request):
    report = {"framework": {"name": "flask", "version": _distribution_version("flask")},
              "scheme": request.scheme, "is_secure": request.is_secure,
              "remote_addr": request.remote_addr}
    try:
        report["host"] = request.host
        report["host_error"] = None
        report["absolute_url"] = request.url_root
    except Exception as err:  # werkzeug's SecurityError for TRUSTED_HOSTS
        report.update(host=None, host_error=str(err), absolute_url=None)
    report["middleware"] = _wsgi_middleware_chain(app.wsgi_app)
    return report


def _wsgi_middleware_chain(handler):
    """The WSGI middleware wrapped around a Flask app, outermost first, with
    ProxyFix's hop counts."""
    chain = []
    for _ in range(20):
        if getattr(handler, "__self__", None) is not None:  # the bound Flask.wsgi_app
            break
        entry = {"class": f"{type(handler).__module__}.{type(handler).__qualname__}"}
        if type(handler).__name__ == "ProxyFix":
            for name in ("x_for", "x_proto", "x_host", "x_port", "x_prefix"):
                entry[name] = getattr(handler, name, None)
        chain.append(entry)
        handler = getattr(handler, "app", None)
        if handler is None:
            break
    return chain


def _patch_starlette():
    from starlette.routing import Router

    def make(original):
        async def __call__(self, scope, receive, send):
            holder = scope.get(MARKER_KEY) if scope.get("type") == "http" else None
            if holder is None or "report" in holder:
                return await original(self, scope, receive, send)
            holder["report"] = _starlette_report(scope)
            from starlette.responses import Response

            await Response(b"{}", media_type="application/json")(scope, receive, send)
        return __call__

    _patch_once(Router, "__call__", make)


def _starlette_report(scope):
    from starlette.requests import Request

    request = Request(scope)
    name = "fastapi" if "fastapi" in sys.modules else "starlette"
    return {
        "framework": {"name": name, "version": _distribution_version(name)},
        "scheme": request.url.scheme,
        "is_secure": request.url.scheme in ("https", "wss"),
        "host": request.headers.get("host"),
        "host_error": None,
        "remote_addr": request.client.host if request.client else None,
        "absolute_url": str(request.base_url),
    }


def _distribution_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # not installed as a distribution
        return getattr(sys.modules.get(name), "__version__", None)
