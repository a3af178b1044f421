"""gunicorn configuration devstack passes with ``-c``.

gunicorn reads one configuration file, so this one stands in for the
project's own and changes nothing the project decides:

1. It runs the project's gunicorn.conf.py (path in
   DEVSTACK_PROJECT_GUNICORN_CONF, if any) and takes its settings over
   unchanged. Trust settings (forwarded_allow_ips, secure_scheme_headers,
   proxy_allow_ips…) are never set here: the app must see locally what it
   will see in production.
2. In the master it pre-imports framework modules (DEVSTACK_PREIMPORT, a
   comma-separated list) so that workers of a new generation only import
   the app. The app itself is never imported in the master: a reload must
   re-import it. With DEVSTACK_PREIMPORT_LEARNED (a file path) set, each
   worker also writes there the library modules it ended up importing
   (outside the project, or inside a site-packages), and the master
   pre-imports those as well once a worker reports it booted. Any of them
   that reads Django's settings is skipped: settings loaded in the master
   would survive a reload.
3. With DEVSTACK_GATEWAY_CONTROL (a FIFO path) set, the master keeps a
   standby worker for reloads (section 3 below).
4. It chains hooks with the project's own (when_ready, on_reload, pre_fork,
   post_fork, post_worker_init, child_exit; the project's always runs
   first): each worker dies with its master (Linux) and installs the probe
   shim (devstack_probe.py), and every stage writes a marker line to the
   descriptor DEVSTACK_GATEWAY_MARKER_FD names (stderr when unset), a pipe
   devstack reads apart from the app's output:

       devstack-gateway: ready pid=<master> generation=1 gunicorn=<version> reload=<standby|hup|restart> graceful_timeout=<seconds>
       devstack-gateway: reloading pid=<master> generation=<n> via=<standby|fork|hup>
       devstack-gateway: worker booted pid=<worker> generation=<n>
       devstack-gateway: retired pid=<master> generation=<n>

   The generation counts the master's generations: 1 at start, one more
   per reload request or SIGHUP. A "worker booted" line with a generation
   above the one seen before a reload means a worker running the new code
   is serving.

gunicorn re-executes this file on every SIGHUP, so what must outlive a
reload (the generation, the control descriptors, the pre-imports that
failed) lives in a module of its own in sys.modules.
"""
import importlib
import importlib.util
import os
import signal
import sys
import time
import types

_CONTROL_ENV = "DEVSTACK_GATEWAY_CONTROL"
_LEARNED_ENV = "DEVSTACK_PREIMPORT_LEARNED"

# What must outlive the re-execution of this file in the master.
_state = sys.modules.setdefault("devstack_gateway_state", types.ModuleType("devstack_gateway_state"))
if not hasattr(_state, "failed"):
    _state.failed = set()  # learned modules that cannot be pre-imported


def _marker_fd():
    """The marker descriptor (see devstack_fork.marker_fd), taken once per
    master."""
    if not hasattr(_state, "marker_fd"):
        _state.marker_fd = _fork.marker_fd(keep_env=True)
    return _state.marker_fd


def _mark(text):
    """Sends a marker (see section 4) to devstack."""
    _fork.mark(_marker_fd(), text)


def _next_generation():
    """Counts the generations of this master: one per configuration load and
    one per reload through the standby (see section 4)."""
    _state.generation = getattr(_state, "generation", 0) + 1
    return _state.generation


def _load_project_config(path):
    """Executes the project's gunicorn.conf.py as gunicorn would and returns
    its module namespace."""
    spec = importlib.util.spec_from_file_location("__devstack_project_config__", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception:
        _fork.say(f"error: the project's gunicorn config {path} failed to load")
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

    def skipped(name, err):
        if verbose:
            _fork.say(f"preimport skipped {name}: {type(err).__name__}: {err}")

    done = _fork.preimport(names, skipped)
    _warn_if_settings_loaded()
    if done and verbose:
        _fork.say(f"preimported {len(done)} modules in {time.monotonic() - started:.2f}s")


class _SettingsRead(Exception):
    """A learned module read Django's settings while being imported."""


def _preimport_learned(path):
    """Imports in the master the library modules a worker imported before.

    The list is learned (see _learn), so it may name modules that read
    Django's settings at import: while they load, reading the settings
    raises, and such a module is skipped for the life of this master, as is
    any that fails to import for another reason. Returns the names read.
    """
    names = _fork.learned_names(path)
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
    the list at path (see devstack_fork.library_modules).

    Only the modules new since the fork are looked at (the master's are
    known), and the file is rewritten only when it changes: once the master
    has everything, a worker's boot costs nothing here.
    """
    new = _fork.library_modules(_state.master_modules, project_dir, skip=_state.failed)
    if new or _learned_stale:
        _fork.write_learned(path, [n for n in _learned if n not in _state.failed] + new)


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
        _fork.say("warning: Django settings were loaded in the gunicorn master by a pre-imported "
             "module; reloads will keep the old settings")


def _load_sibling(name):
    """Loads devstack's module name from this file's directory (gunicorn
    reads this file by path; the directory need not be on sys.path)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
    module = sys.modules.get(name)
    if module is None or getattr(module, "__file__", None) != path:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


_fork = _load_sibling("devstack_fork")

# 1. The project's configuration, taken over as it is.
_project_conf_path = os.environ.get("DEVSTACK_PROJECT_GUNICORN_CONF", "")
_project = _load_project_config(_project_conf_path) if _project_conf_path else {}
for _name, _value in _project.items():
    if not _name.startswith("_"):
        globals()[_name] = _value

_project_hooks = {name: _resolve_hook(_project.get(name)) for name in (
    "when_ready", "on_reload", "pre_fork", "post_fork", "post_worker_init", "child_exit")}


def _project_hook(name, *args):
    hook = _project_hooks[name]
    if hook is not None:
        hook(*args)


_generation = _next_generation()
_marker_fd()  # kept from the app's subprocesses before anything runs
_project_dir = os.getcwd()
_learned_path = os.environ.get(_LEARNED_ENV, "")

# 2. Framework modules, loaded once in the master.
_preimport([m.strip() for m in os.environ.get("DEVSTACK_PREIMPORT", "").split(",") if m.strip()],
           verbose=_generation == 1)
_learned = _preimport_learned(_learned_path) if _learned_path else []
_learned_stale = any(name in _state.failed for name in _learned)

_probe = _load_sibling("devstack_probe")
_libc = _fork.load_libc()
# What a worker imports beyond this is what it may learn (see _learn).
_state.master_modules = frozenset(sys.modules)


# 3. Reloads through a standby worker.
#
# A SIGHUP makes gunicorn re-read its whole configuration, fork, and let
# each new worker fault in, page by page, the memory it shares with the
# master before it even starts importing the app. Instead, the master keeps
# one standby worker beside the serving ones: forked ahead of time, its
# memory already made private, waiting before gunicorn loads the app in it.
# A reload request (a line written to the control FIFO, then SIGWINCH to the
# master) hands the standby the next generation number; it loads the app as
# any worker does, and once it reports itself booted the master stops the
# older generation gracefully (SIGTERM, in-flight requests finish) and forks
# the next standby. Without a standby at hand, the request forks workers of
# the new generation directly. The configuration is not re-read: devstack
# restarts the gateway when it changes. A SIGHUP still works as gunicorn's.
#
# Roles, on the master's Worker objects (inherited by the forked child):
#   _devstack_role  "serving", "standby" or "retiring"
#   _devstack_gen   the generation a serving worker runs
#   _devstack_go    (read fd, write fd): the standby's generation pipe
#   _devstack_up    the master read the worker's "booted" notice


def _standby_supported(server):
    return getattr(_state, "control", None) is not None and not server.cfg.preload_app


def _reload_mode(server):
    """How devstack should bring new code live in this master: "standby"
    (a reload request), "hup", or "restart" when the app is loaded in the
    master (preload_app), where a SIGHUP would keep the old modules."""
    if server.cfg.preload_app:
        return "restart"
    return "standby" if _standby_supported(server) else "hup"


def _role(worker):
    return getattr(worker, "_devstack_role", "serving")


def _open_control(server):
    """Opens the control FIFO devstack writes reload requests to (master,
    once; see devstack_fork.open_control)."""
    if hasattr(_state, "control"):
        return
    _state.control = None
    path = os.environ.get(_CONTROL_ENV, "")
    if not path or server.cfg.preload_app:
        return
    try:
        control = _fork.open_control(path)
        booted_r, booted_w = os.pipe()
        os.set_blocking(booted_r, False)
    except OSError as err:
        _fork.say(f"reloads fall back to SIGHUP: control FIFO {path}: {err}")
        return
    _state.control = control
    _state.booted = (booted_r, booted_w)


def _on_control(server):
    """SIGWINCH in the master: reload requests from devstack and "booted"
    notices from workers. (gunicorn uses SIGWINCH only when daemonized,
    which a gateway under devstack never is.)"""
    if not _standby_supported(server):
        return
    requests = _fork.drain(_state.control[0])
    booted = False
    for notice in _fork.drain(_state.booted[0]):
        try:
            pid, gen = (int(x) for x in notice.split())
        except ValueError:
            continue
        worker = server.WORKERS.get(pid)
        if worker is not None and getattr(worker, "_devstack_gen", 0) == gen:
            worker._devstack_up = True
            booted = True
    if requests:
        _new_generation(server)
    _retire_superseded(server)
    if booted and _learned_path:
        # What the booted worker learned, loaded here (after the old
        # generation was told to stop) before the next standby forks.
        _preimport_learned(_learned_path)
        _state.master_modules = frozenset(sys.modules)
    _reconcile(server)


def _new_generation(server):
    gen = _next_generation()
    standby = next((w for w in server.WORKERS.values() if _role(w) == "standby"), None)
    via = "fork"
    if standby is not None:
        standby._devstack_role, standby._devstack_gen = "serving", gen
        try:
            os.write(standby._devstack_go[1], f"{gen}\n".encode())
            via = "standby"
        except OSError:  # it just died: the reconcile below forks a worker instead
            standby._devstack_role = "retiring"
        _close_go(standby, write=True)
    _mark(f"reloading pid={os.getpid()} generation={gen} via={via}")


def _retire_superseded(server):
    """Stops, gracefully, every serving worker older than the newest
    generation that has a booted worker."""
    newest = max((w._devstack_gen for w in server.WORKERS.values()
                  if _role(w) == "serving" and getattr(w, "_devstack_up", False)), default=0)
    retired = False
    for pid, worker in list(server.WORKERS.items()):
        if _role(worker) == "serving" and getattr(worker, "_devstack_gen", newest) < newest:
            worker._devstack_role = "retiring"
            server.kill_worker(pid, signal.SIGTERM)
            retired = True
    if retired:
        # From now on only the new code answers: devstack's reload is done.
        _mark(f"retired pid={os.getpid()} generation={newest}")


def _reconcile(server):
    """Sets how many workers gunicorn keeps: the configured number of the
    current generation, the older ones still serving or stopping, and the
    standby. While the first worker of a new generation loads, nothing else
    forks: it would compete with it for the CPU."""
    if not _standby_supported(server):
        return
    gen = _state.generation
    workers = list(server.WORKERS.values())
    current = [w for w in workers if _role(w) == "serving" and getattr(w, "_devstack_gen", 0) == gen]
    older = [w for w in workers if _role(w) != "standby" and w not in current]
    has_standby = any(_role(w) == "standby" for w in workers)
    up = any(getattr(w, "_devstack_up", False) for w in current)
    wanted = server.cfg.workers if (up or not current) else len(current)
    standby = 1 if (up or has_standby) else 0
    server.num_workers = wanted + len(older) + standby


def _stand_by(server, worker):
    """The standby's wait, before gunicorn loads the app in it: it keeps its
    heartbeat up for the master's timeout check and returns with the
    generation it is handed. It ends if its master goes away."""
    import select

    _close_go(worker, write=True)
    go = worker._devstack_go[0]
    _fork.prefault(_libc)
    interval = max(0.2, min(1.0, server.timeout / 4)) if server.timeout else 1.0
    line = b""
    while True:
        worker.tmp.notify()
        if os.getppid() != server.pid:
            os._exit(0)
        ready, _, _ = select.select([go], [], [], interval)
        if not ready:
            continue
        data = os.read(go, 64)
        if not data:
            os._exit(0)  # the master gave up on this standby
        line += data
        if line.endswith(b"\n"):
            break
    _close_go(worker, read=True)
    worker._devstack_gen = int(line)
    worker._devstack_role = "serving"


def _close_go(worker, read=False, write=False):
    """Closes ends of a standby's generation pipe, each once."""
    go = getattr(worker, "_devstack_go", None)
    if go is None:
        return
    r, w = go
    for fd, close in ((r, read), (w, write)):
        if close and fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
    worker._devstack_go = (None if read else r, None if write else w)


def _close_master_fds(server, worker):
    """A forked worker keeps none of the master's control descriptors: only
    its own standby pipe's reading end and the booted pipe's writing end."""
    if getattr(_state, "control", None) is not None:
        for fd in list(_state.control) + [_state.booted[0]]:
            try:
                os.close(fd)
            except OSError:
                pass
    for other in server.WORKERS.values():
        if other is not worker:
            _close_go(other, read=True, write=True)


def _notify_booted(worker):
    """Tells the master this worker booted. The notice is written before the
    marker line devstack waits for, so the SIGWINCH devstack sends after
    seeing the marker finds it even if this worker's own signal is lost
    (gunicorn 20 keeps at most five pending signals)."""
    booted = getattr(_state, "booted", None)
    if booted is None:
        return False
    try:
        os.write(booted[1], f"{os.getpid()} {worker._devstack_gen}\n".encode())
    except OSError:
        return False
    return True


def _quiet_control_signal(server):
    """Keeps gunicorn's "Handling signal: winch" out of the log: that signal
    is devstack talking to the master, a few times per reload."""
    import logging

    error_log = getattr(server.log, "error_log", None)
    if error_log is None or getattr(_state, "quiet", False):
        return

    class _Quiet(logging.Filter):
        def filter(self, record):
            return record.getMessage() != "Handling signal: winch"

    error_log.addFilter(_Quiet())
    _state.quiet = True


# 4. Hooks, each calling the project's own first.
def when_ready(server):
    _project_hook("when_ready", server)
    import gunicorn

    _open_control(server)
    if _standby_supported(server):
        server.handle_winch = lambda: _on_control(server)
        _quiet_control_signal(server)
    _mark(f"ready pid={os.getpid()} generation={_generation} gunicorn={gunicorn.__version__} "
          f"reload={_reload_mode(server)} graceful_timeout={server.cfg.graceful_timeout}")


def on_reload(server):
    # A SIGHUP: gunicorn re-read this file and forks the new generation
    # next. Every worker there is now is stopped, as gunicorn would, the
    # standby too: gunicorn 23+ waits for all older workers to go before it
    # handles anything else. A new standby forks once the new generation
    # has booted.
    _project_hook("on_reload", server)
    if _standby_supported(server):
        server.handle_winch = lambda: _on_control(server)
    for pid, worker in list(server.WORKERS.items()):
        worker._devstack_role = "retiring"
        server.kill_worker(pid, signal.SIGTERM)
    _reconcile(server)
    _mark(f"reloading pid={os.getpid()} generation={_generation} via=hup")


def pre_fork(server, worker):
    _project_hook("pre_fork", server, worker)
    worker._devstack_gen = _state.generation
    if not _standby_supported(server):
        return
    workers = list(server.WORKERS.values())
    current = sum(1 for w in workers if _role(w) == "serving" and w._devstack_gen == _state.generation)
    if current >= server.cfg.workers and not any(_role(w) == "standby" for w in workers):
        worker._devstack_role = "standby"
        worker._devstack_go = os.pipe()


def post_fork(server, worker):
    # Until gunicorn installs the worker's own handlers, the worker runs the
    # master's, which would swallow a SIGTERM: a stop arriving now would then
    # wait out the master's graceful_timeout. The default action ends it.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    _fork.die_with_parent(_libc, server.pid)
    _close_master_fds(server, worker)
    _project_hook("post_fork", server, worker)
    if _role(worker) == "standby":
        _stand_by(server, worker)


def post_worker_init(worker):
    _project_hook("post_worker_init", worker)
    gen = worker._devstack_gen
    worker.wsgi = _probe.install_in_gunicorn_worker(worker, gen, _project_conf_path or None)
    _warm_django()
    notified = _notify_booted(worker)
    _mark(f"worker booted pid={os.getpid()} generation={gen}")
    if _learned_path:
        _learn(_learned_path, _project_dir)
    if notified:
        try:
            os.kill(worker.ppid, signal.SIGWINCH)
        except OSError:
            pass


def child_exit(server, worker):
    _project_hook("child_exit", server, worker)
    _close_go(worker, read=True, write=True)
    _reconcile(server)
