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
   re-import it.
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
module state surviving a reload; the generation lives in the environment.
"""
import importlib
import importlib.util
import os
import sys
import time

_MARKER = "devstack-gateway:"
_GENERATION_ENV = "DEVSTACK_GATEWAY_GENERATION"


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

# 2. Framework modules, loaded once in the master.
_preimport([m.strip() for m in os.environ.get("DEVSTACK_PREIMPORT", "").split(",") if m.strip()],
           verbose=_generation == 1)

_probe = _load_probe()


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
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # only costs the faster clean-up
        return
    if os.getppid() != master_pid:  # the master died before prctl ran
        os._exit(1)


def post_fork(server, worker):
    _die_with_master(server.pid)
    if _project_post_fork is not None:
        _project_post_fork(server, worker)


def post_worker_init(worker):
    if _project_post_worker_init is not None:
        _project_post_worker_init(worker)
    worker.wsgi = _probe.install_in_gunicorn_worker(worker, _generation, _project_conf_path or None)
    _say(f"worker booted pid={os.getpid()} generation={_generation}")
