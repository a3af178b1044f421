"""gunicorn configuration devstack passes with ``-c``.

gunicorn reads one configuration file, so this one stands in for the
project's own and changes nothing the project decides:

1. It runs the project's gunicorn.conf.py (path in
   DEVSTACK_PROJECT_GUNICORN_CONF, if any) and takes its settings over
   unchanged. Trust settings (forwarded_allow_ips, secure_scheme_headers,
   proxy_allow_ips…) are never set here: the app must see locally what it
   will see in production.
2. In the master it pre-imports framework modules (DEVSTACK_PREIMPORT, a
   comma-separated list) so that workers forked after a SIGHUP only import
   the app. The app itself is never imported in the master: a HUP must
   re-import it. With DEVSTACK_PREIMPORT_LEARNED (a file path) set, each
   worker also writes there the library modules it ended up importing
   (outside the project, or inside a site-packages), and the master
   pre-imports those as well at its next configuration load. Any of them
   that reads Django's settings is skipped: settings loaded in the master
   would survive a reload.
3. It chains hooks with the project's own (when_ready, on_reload, post_fork,
   post_worker_init; the project's always runs): each worker dies with its
   master (Linux) and installs the probe shim (devstack_probe.py), and every
   stage prints a marker line on stderr:

       devstack-gateway: ready pid=<master> generation=1 gunicorn=<version>
       devstack-gateway: reloading pid=<master> generation=<n>
       devstack-gateway: worker booted pid=<worker> generation=<n>

   The generation counts configuration loads in this master: 1 at start,
   one more per SIGHUP. A "worker booted" line with a generation above the
   one seen before a HUP means a worker running the new code is serving.

gunicorn re-executes this file on every SIGHUP, so nothing here may rely on
module state surviving a reload: the generation lives in the environment,
the pre-imports that failed in a module of its own in sys.modules.
"""
import importlib
import importlib.util
import os
import sys
import time
import types

_MARKER = "devstack-gateway:"
_GENERATION_ENV = "DEVSTACK_GATEWAY_GENERATION"
_LEARNED_ENV = "DEVSTACK_PREIMPORT_LEARNED"

# What must outlive the re-execution of this file in the master.
_state = sys.modules.setdefault("devstack_gateway_state", types.ModuleType("devstack_gateway_state"))
if not hasattr(_state, "failed"):
    _state.failed = set()  # learned modules that cannot be pre-imported


def _say(text):
    print(f"{_MARKER} {text}", file=sys.stderr, flush=True)


def _next_generation():
    """Counts configuration loads of this master process.

    The value is "<master pid>:<count>", so a stale value inherited from a
    parent process starts a fresh count.
    """
    pid = os.getpid()
    try:
        owner, count = os.environ.get(_GENERATION_ENV, "").split(":")
        count = int(count) + 1 if int(owner) == pid else 1
    except ValueError:
        count = 1
    os.environ[_GENERATION_ENV] = f"{pid}:{count}"
    return count


def _load_project_config(path):
    """Executes the project's gunicorn.conf.py as gunicorn would and returns
    its module namespace."""
    spec = importlib.util.spec_from_file_location("__devstack_project_config__", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception:
        _say(f"error: the project's gunicorn config {path} failed to load")
        raise
    return vars(module)


def _resolve_hook(value):
    """A hook as gunicorn accepts it: a callable or a "module.name" string."""
    if value is None or callable(value):
        return value
    module_name, _, name = str(value).rpartition(".")
    return getattr(importlib.import_module(module_name), name)


def _preimport(names, verbose):
    """Imports framework modules in the master so forked workers share them.

    A module that cannot be imported here (it may need the app's settings)
    is skipped, with a note at the first load; the worker imports it as usual.
    """
    started = time.monotonic()
    done = []
    for name in names:
        try:
            importlib.import_module(name)
            done.append(name)
        except Exception as err:  # any failure only costs the speed-up
            if verbose:
                _say(f"preimport skipped {name}: {type(err).__name__}: {err}")
    _warn_if_settings_loaded()
    if done and verbose:
        _say(f"preimported {len(done)} modules in {time.monotonic() - started:.2f}s")


class _SettingsRead(Exception):
    """A learned module read Django's settings while being imported."""


def _preimport_learned(path):
    """Imports in the master the library modules a worker imported before.

    The list is learned (see _learn), so it may name modules that read
    Django's settings at import: while they load, reading the settings
    raises, and such a module is skipped for the life of this master, as is
    any that fails to import for another reason. Returns the names read.
    """
    try:
        with open(path, encoding="utf-8") as f:
            names = [line.strip() for line in f if line.strip()]
    except OSError:
        return []
    if any(name.startswith("django.") for name in names):
        # Loaded first (it reads no settings), so the guard covers them all.
        try:
            importlib.import_module("django.conf")
        except Exception:
            return names
    guard = _SettingsGuard()
    try:
        for name in names:
            if name in sys.modules or name in _state.failed:
                continue
            if not guard.install():
                return names  # no way to keep the settings unread: import nothing
            try:
                importlib.import_module(name)
            except Exception:  # any failure only costs the speed-up
                _state.failed.add(name)
    finally:
        guard.remove()
        _warn_if_settings_loaded()
    return names


class _SettingsGuard:
    """Makes reading Django's settings raise _SettingsRead until removed."""

    def __init__(self):
        self._cls = None

    def install(self):
        """Installs the guard once django.conf is loaded; False if it cannot."""
        conf = sys.modules.get("django.conf")
        if self._cls is not None or conf is None:
            return True
        try:
            cls = type(conf.settings)
            saved = (cls.__dict__["_setup"], cls.__dict__["configured"])
        except (AttributeError, KeyError):  # a Django this guard does not know
            return False

        def refuse(*args, **kwargs):
            raise _SettingsRead("Django settings read during a pre-import")

        self._cls, self._saved = cls, saved
        cls._setup = refuse
        cls.configured = property(refuse)
        return True

    def remove(self):
        if self._cls is not None:
            self._cls._setup, self._cls.configured = self._saved
            self._cls = None


def _learn(path, project_dir):
    """Adds the library modules this worker imported beyond its master's to
    the list at path.

    Library: a module file under a site-packages or dist-packages directory,
    or anywhere outside the project directory and devstack's own directory.
    Project code is never listed, so a reload always re-imports it. Only the
    modules new since the fork are looked at (the master's are known), and
    the file is rewritten only when it changes: once the master has
    everything, a worker's boot costs nothing here.
    """
    own_dir = os.path.dirname(os.path.abspath(__file__))
    new = []
    for name in [n for n in sys.modules if n not in _master_modules]:
        file = getattr(sys.modules.get(name), "__file__", None)
        if not file or name in _state.failed or name.startswith(("devstack_", "__")):
            continue
        file = os.path.abspath(file)
        parts = file.split(os.sep)
        if "site-packages" not in parts and "dist-packages" not in parts:
            if _inside(file, project_dir) or _inside(file, own_dir):
                continue
        new.append(name)
    if not new and not _learned_stale:
        return
    names = [n for n in _learned if n not in _state.failed] + new
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(names) + "\n")
        os.replace(tmp, path)
    except OSError:  # only costs the speed-up of the next reload
        pass


def _inside(path, directory):
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _warm_django():
    """Resolves Django's URLconf, importing the project's urls and views, so
    that a worker reported as booted answers its first request at full
    speed. An error is left for that request to raise, visibly."""
    conf = sys.modules.get("django.conf")
    if conf is None or not conf.settings.configured:
        return
    try:
        from django.urls import get_resolver

        get_resolver().url_patterns
    except Exception:
        pass


def _warn_if_settings_loaded():
    # Django settings read in the master would be inherited, stale, by every
    # worker forked after a reload.
    conf = sys.modules.get("django.conf")
    if conf is not None and getattr(conf.settings, "configured", False):
        _say("warning: Django settings were loaded in the gunicorn master by a pre-imported "
             "module; reloads will keep the old settings")


def _load_probe():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "devstack_probe.py")
    module = sys.modules.get("devstack_probe")
    if module is None or getattr(module, "__file__", None) != path:
        spec = importlib.util.spec_from_file_location("devstack_probe", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["devstack_probe"] = module
        spec.loader.exec_module(module)
    return module


def _load_libc():
    """libc through ctypes, loaded once in the master for every worker."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except Exception:  # only costs the faster clean-up
        return None


# 1. The project's configuration, taken over as it is.
_project_conf_path = os.environ.get("DEVSTACK_PROJECT_GUNICORN_CONF", "")
_project = _load_project_config(_project_conf_path) if _project_conf_path else {}
for _name, _value in _project.items():
    if not _name.startswith("_"):
        globals()[_name] = _value

_project_when_ready = _resolve_hook(_project.get("when_ready"))
_project_on_reload = _resolve_hook(_project.get("on_reload"))
_project_post_worker_init = _resolve_hook(_project.get("post_worker_init"))
_project_post_fork = _resolve_hook(_project.get("post_fork"))

_generation = _next_generation()
_project_dir = os.getcwd()
_learned_path = os.environ.get(_LEARNED_ENV, "")

# 2. Framework modules, loaded once in the master.
_preimport([m.strip() for m in os.environ.get("DEVSTACK_PREIMPORT", "").split(",") if m.strip()],
           verbose=_generation == 1)
_learned = _preimport_learned(_learned_path) if _learned_path else []
_learned_stale = any(name in _state.failed for name in _learned)

_probe = _load_probe()
_libc = _load_libc()
# What a worker imports beyond this is what it may learn (see _learn).
_master_modules = frozenset(sys.modules)


# 3. Hooks, each calling the project's own first.
def when_ready(server):
    if _project_when_ready is not None:
        _project_when_ready(server)
    import gunicorn

    _say(f"ready pid={os.getpid()} generation={_generation} gunicorn={gunicorn.__version__}")


def on_reload(server):
    if _project_on_reload is not None:
        _project_on_reload(server)
    _say(f"reloading pid={os.getpid()} generation={_generation}")


def _die_with_master(master_pid):
    """Makes this worker die with its master (Linux).

    devstack starts the master with PR_SET_PDEATHSIG, so a kill -9 of
    devstack takes the master down at once; its workers would notice only
    at their next wake-up, up to half the worker timeout later, holding the
    app's resources meanwhile.
    """
    if _libc is None:
        return
    try:
        import signal

        PR_SET_PDEATHSIG = 1
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # only costs the faster clean-up
        return
    if os.getppid() != master_pid:  # the master died before prctl ran
        os._exit(1)


def post_fork(server, worker):
    # Until gunicorn installs the worker's own handlers, the worker runs the
    # master's, which would swallow a SIGTERM: a stop arriving now would then
    # wait out the master's graceful_timeout. The default action ends it.
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    _die_with_master(server.pid)
    if _project_post_fork is not None:
        _project_post_fork(server, worker)


def post_worker_init(worker):
    if _project_post_worker_init is not None:
        _project_post_worker_init(worker)
    worker.wsgi = _probe.install_in_gunicorn_worker(worker, _generation, _project_conf_path or None)
    _warm_django()
    _say(f"worker booted pid={os.getpid()} generation={_generation}")
    if _learned_path:
        _learn(_learned_path, _project_dir)
