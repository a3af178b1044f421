"""uvicorn with a standby process for reloads.

devstack runs the project's uvicorn command with ``-m devstack_uvicorn`` in
place of ``-m uvicorn``; every other argument is the project's own. The
arguments go through uvicorn's own command line, so the server runs with
exactly the configuration ``uvicorn ...`` would give it (proxy headers,
forwarded_allow_ips, lifespan, loop, http implementation…). What changes is
who holds the listening socket and when the app is imported:

1. This process (the supervisor) parses the arguments, binds the socket as
   uvicorn would, imports uvicorn's protocol modules and the framework
   (DEVSTACK_PREIMPORT, a comma-separated list, plus the library modules a
   serving process reported in DEVSTACK_PREIMPORT_LEARNED), but never the
   app.
2. It forks the serving processes (uvicorn's ``workers``, 1 by default): each
   runs uvicorn's Server on the inherited socket, importing the app there.
   Once serving it prints
       devstack-gateway: worker booted pid=<pid> generation=<n>
3. It then forks a standby: a process with the same imports, its memory
   pre-faulted, waiting before it imports the app
       devstack-gateway: standby forked pid=<pid>
4. A reload request (a line on the FIFO named by DEVSTACK_GATEWAY_CONTROL,
   or SIGHUP) hands the standby the next generation number; it imports the
   app and starts serving on the same socket. Once it reports itself
   serving, the older generation gets SIGTERM — uvicorn's graceful shutdown:
   it stops accepting, finishes the requests it has, runs the lifespan
   shutdown — and a new standby is forked. The socket never closes, so no
   connection is refused; the kernel queues new ones for whoever accepts.

If the newest generation fails to start (an import error, a failed lifespan
startup), the supervisor stops every process and exits with uvicorn's own
startup-failure code, 3, as uvicorn would have at start.

SIGTERM and SIGINT are passed on to every process and the supervisor exits
once they are gone. With ``--reload`` in the command (uvicorn's own
reloader), the command runs as plain uvicorn and reloads are restarts.
"""
import os
import select
import signal
import socket
import sys
import time

import devstack_fork

_CONTROL_ENV = "DEVSTACK_GATEWAY_CONTROL"
_PREIMPORT_ENV = "DEVSTACK_PREIMPORT"
_LEARNED_ENV = "DEVSTACK_PREIMPORT_LEARNED"

# How long a stopping process keeps its open connections after it stopped
# accepting, before uvicorn's own shutdown closes the idle ones.
_DRAIN_DELAY = 0.2

# More serving processes than this ending by themselves within the window
# make the supervisor stop rather than fork them again and again.
_MAX_REPLACED = 5
_REPLACE_WINDOW = 10.0

# uvicorn's exit code when the server could not start (uvicorn.main).
STARTUP_FAILURE = 3

# uvicorn's own modules a serving process loads for "auto" implementations.
_UVICORN_MODULES = (
    "uvicorn.server", "uvicorn.config", "uvicorn.lifespan.on", "uvicorn.middleware.proxy_headers",
    "uvicorn.middleware.asgi2", "uvicorn.middleware.message_logger",
    "uvicorn.protocols.http.auto", "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.http.httptools_impl", "uvicorn.protocols.websockets.auto",
    "uvicorn.protocols.websockets.websockets_impl", "uvicorn.protocols.websockets.wsproto_impl",
    "uvicorn.loops.auto", "uvicorn.loops.uvloop", "uvicorn.loops.asyncio",
    "devstack_probe",
)


_marker = None  # the marker descriptor (see devstack_fork.marker_fd)


def _mark(text):
    devstack_fork.mark(_marker, text)


def uvicorn_config(argv):
    """Runs uvicorn's command line on argv up to the point where it would
    start the server, and returns the app and the keyword arguments it
    would run it with. Usage errors and --help end the process as uvicorn's
    would."""
    import uvicorn.main

    cli = sys.modules["uvicorn.main"]  # the package's "main" attribute is the command
    captured = {}

    def capture(app, **kwargs):
        captured["app"], captured["kwargs"] = app, kwargs

    run = cli.run
    cli.run = capture
    try:
        cli.main.main(args=argv, prog_name="uvicorn")
    except SystemExit as exit:
        if exit.code not in (0, None) or not captured:
            raise
    finally:
        cli.run = run
    return captured["app"], captured["kwargs"]


def _learn(path, before, project_dir):
    """Adds the library modules this process imported beyond its parent's
    (before) to the list at path."""
    known = set(devstack_fork.learned_names(path))
    new = devstack_fork.library_modules(before, project_dir, skip=known)
    if new:
        devstack_fork.write_learned(path, sorted(known) + new)


def listening_socket(config):
    """The socket every generation serves on, bound as uvicorn binds it."""
    if config.fd is not None:
        # uvicorn wraps the descriptor as AF_UNIX whatever it is; let the
        # socket module find its real family, so client addresses read right.
        sock = socket.socket(fileno=config.fd)
    else:
        sock = config.bind_socket()
    sock.set_inheritable(True)
    return sock


class _Child:
    def __init__(self, pid, generation, standby, go):
        self.pid = pid
        self.generation = generation
        self.standby = standby  # waiting for a generation number on go
        self.go = go  # the write end of its generation pipe, for a standby
        self.up = False  # it reported itself serving
        self.retiring = False
        self.started = time.monotonic()


class Supervisor:
    def __init__(self, config, sock, control_path, learned_path):
        self.config = config
        self.sock = sock
        self.learned_path = learned_path
        self.generation = 1
        self.children = {}
        self.libc = devstack_fork.load_libc()
        self.stopping = False
        self.exit_code = 0
        self.signals = []
        self.wake_r, self.wake_w = os.pipe()
        self.booted_r, self.booted_w = os.pipe()
        for fd in (self.wake_r, self.wake_w, self.booted_r):
            os.set_blocking(fd, False)
        self.control = self._open_control(control_path)
        self.standby_failures = 0
        self.replaced = []  # when serving processes were replaced lately

    @staticmethod
    def _open_control(path):
        """The control FIFO's descriptors (see devstack_fork.open_control)."""
        if not path:
            return None
        try:
            return devstack_fork.open_control(path)
        except OSError as err:
            devstack_fork.say(f"reloads fall back to restarts: control FIFO {path}: {err}")
            return None

    def _on_signal(self, sig, frame):
        self.signals.append(sig)

    def run(self):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP,
                    signal.SIGCHLD, signal.SIGWINCH):
            signal.signal(sig, self._on_signal)
        signal.set_wakeup_fd(self.wake_w)
        self.modules = frozenset(sys.modules)
        for _ in range(max(1, self.config.workers)):
            self._fork(standby=False, generation=self.generation)
        import uvicorn

        mode = "standby" if self.control is not None else "restart"
        _mark(f"ready pid={os.getpid()} generation=1 uvicorn={uvicorn.__version__} reload={mode}")
        while self.children or not self.stopping:
            fds = [self.wake_r, self.booted_r] + ([self.control[0]] if self.control else [])
            try:
                ready, _, _ = select.select(fds, [], [], 1.0)
            except InterruptedError:
                ready = []
            devstack_fork.drain(self.wake_r)
            for sig in self._take_signals():
                if sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
                    self._stop(sig)
                elif sig == signal.SIGHUP and not self.stopping:
                    self._reload()
            # Boot notices first: a process that booted and ended since
            # must not pass for one that never started.
            self._read_booted()
            self._reap()
            if self.control and self.control[0] in ready and devstack_fork.drain(self.control[0]) and not self.stopping:
                self._reload()
            self._keep_standby()
        return self.exit_code

    def _take_signals(self):
        taken, self.signals = self.signals, []
        return taken

    def _stop(self, sig):
        """Stops every child; the loop ends once all are gone. Serving ones
        get SIGINT (uvicorn's graceful stop, as SIGTERM) unless sig is
        SIGQUIT: SIGTERM is what retires an older generation, which first
        waits for requests on their way to the shared socket (see _serve);
        when everything stops there is no next generation to wait for."""
        self.stopping = True
        for child in self.children.values():
            if child.standby:
                _kill(child.pid, signal.SIGTERM)
            else:
                _kill(child.pid, sig if sig == signal.SIGQUIT else signal.SIGINT)

    def _reload(self):
        """Starts the next generation: the standby takes it, or a new process
        is forked for it. Older processes still loading are stopped; those
        serving keep serving until the new generation does."""
        self.generation += 1
        for child in self.children.values():
            if not child.up and not child.standby and not child.retiring:
                child.retiring = True
                _kill(child.pid, signal.SIGTERM)
        standby = next((c for c in self.children.values() if c.standby), None)
        via = "fork"
        if standby is not None:
            try:
                os.write(standby.go, f"{self.generation}\n".encode())
                standby.standby, standby.generation = False, self.generation
                via = "standby"
            except OSError:  # it just died
                standby.retiring = True
            os.close(standby.go)
            standby.go = None
        wanted = max(1, self.config.workers) - (1 if via == "standby" else 0)
        for _ in range(wanted):
            self._fork(standby=False, generation=self.generation)
        _mark(f"reloading pid={os.getpid()} generation={self.generation} via={via}")

    def _read_booted(self):
        booted = False
        for notice in devstack_fork.drain(self.booted_r):
            try:
                pid, gen = (int(x) for x in notice.split())
            except ValueError:
                continue
            child = self.children.get(pid)
            if child is not None and child.generation == gen:
                child.up = True
                booted = True
        if not booted:
            return
        newest = max(c.generation for c in self.children.values() if c.up)
        retired = False
        for child in self.children.values():
            if not child.standby and not child.retiring and child.generation < newest:
                child.retiring = True
                _kill(child.pid, signal.SIGTERM)
                retired = True
        if retired:
            # From now on only the new code answers: devstack's reload is done.
            _mark(f"retired pid={os.getpid()} generation={newest}")

    def _keep_standby(self):
        """Forks a standby once the current generation is serving, with what
        the serving processes learned imported first."""
        if self.stopping or self.control is None or self.standby_failures >= 3:
            return
        children = list(self.children.values())
        if any(c.standby for c in children):
            return
        current = [c for c in children if c.generation == self.generation and not c.retiring]
        if not current or not all(c.up for c in current):
            return
        if self.learned_path:
            devstack_fork.preimport(devstack_fork.learned_names(self.learned_path))
            self.modules = frozenset(sys.modules)
        pid = self._fork(standby=True, generation=0)
        _mark(f"standby forked pid={pid}")

    def _reap(self):
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            # A boot notice is written before the process can end: read it
            # now, or one that booted and ended would pass for a failed start.
            self._read_booted()
            child = self.children.pop(pid, None)
            if child is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if child.go is not None:
                os.close(child.go)
            if self.stopping or child.retiring:
                continue
            if child.standby:
                # It died waiting: fork another, unless that keeps happening.
                if time.monotonic() - child.started < 1:
                    self.standby_failures += 1
                continue
            if not child.up:
                devstack_fork.say(f"error: generation {child.generation} did not start (exit code {code})")
                self.exit_code = STARTUP_FAILURE
                self._stop(signal.SIGTERM)
                continue
            if child.generation == self.generation:
                # A serving process ended by itself (limit_max_requests, a
                # crash): another takes its place, as uvicorn's workers do,
                # unless they keep ending: then the supervisor ends as
                # uvicorn would, and devstack restarts it with backoff.
                now = time.monotonic()
                self.replaced = [t for t in self.replaced if now - t < _REPLACE_WINDOW] + [now]
                if len(self.replaced) > _MAX_REPLACED:
                    devstack_fork.say(f"error: serving processes keep ending (exit code {code}); stopping")
                    self.exit_code = 1
                    self._stop(signal.SIGTERM)
                    continue
                self._fork(standby=False, generation=self.generation)

    def _fork(self, standby, generation):
        go_r, go_w = os.pipe() if standby else (None, None)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = self._child(go_r, go_w, generation)
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else 1
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        if go_r is not None:
            os.close(go_r)
        self.children[pid] = _Child(pid, generation, standby, go_w)
        return pid

    def _child(self, go_r, go_w, generation):
        parent = os.getppid()
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP,
                    signal.SIGCHLD, signal.SIGWINCH):
            signal.signal(sig, signal.SIG_DFL)
        devstack_fork.die_with_parent(self.libc, parent)
        keep = {self.booted_w, self.sock.fileno(), go_r}
        for fd in [self.wake_r, self.wake_w, self.booted_r] + list(self.control or ()) + \
                [c.go for c in self.children.values() if c.go is not None] + [go_w]:
            if fd is not None and fd not in keep:
                _close(fd)
        if go_r is not None:
            generation = self._stand_by(go_r, parent)
        return self._serve(generation)

    def _stand_by(self, go, parent):
        devstack_fork.prefault(self.libc)
        line = b""
        while True:
            if os.getppid() != parent:
                os._exit(0)
            ready, _, _ = select.select([go], [], [], 1.0)
            if not ready:
                continue
            data = os.read(go, 64)
            if not data:
                os._exit(0)  # the supervisor gave up on this standby
            line += data
            if line.endswith(b"\n"):
                _close(go)
                return int(line)

    def _serve(self, generation):
        from uvicorn.server import Server

        server = Server(config=self.config)
        startup = server.startup
        booted_w, learned, before = self.booted_w, self.learned_path, self.modules

        async def startup_and_report(sockets=None):
            await startup(sockets=sockets)
            if server.started and not server.should_exit:
                try:
                    os.write(booted_w, f"{os.getpid()} {generation}\n".encode())
                except OSError:
                    pass
                _mark(f"worker booted pid={os.getpid()} generation={generation}")
                if learned:
                    _learn(learned, before, os.getcwd())

        shutdown, handle_exit = server.shutdown, server.handle_exit
        retired = []

        def note_exit(sig, frame):
            retiring = sig == signal.SIGTERM  # see Supervisor._stop
            retired.append(retiring)
            handle_exit(sig, frame)
            if retiring:
                # uvicorn looks at its exit flag every 100 ms; stop taking
                # new requests now (call_soon_threadsafe: this may run as a
                # plain signal handler).
                import asyncio

                try:
                    asyncio.get_running_loop().call_soon_threadsafe(_stop_serving, server)
                except RuntimeError:  # no loop yet: shutdown does it
                    pass

        async def drain_then_shutdown(sockets=None):
            # uvicorn's shutdown closes every connection without a request
            # in progress, including one accepted a moment ago whose request
            # is still on its way: when a newer generation takes over, stop
            # accepting first and give such requests time to arrive (the
            # next generation accepts the rest). Connections that already
            # served a request are shut down at once, as uvicorn's shutdown
            # would (idle ones close, busy ones after their response), so
            # kept-alive clients such as devstack's proxy reach the new code
            # without waiting out the delay.
            if retired and retired[0]:
                import asyncio

                for listener in getattr(server, "servers", []):
                    listener.close()
                loop = asyncio.get_running_loop()
                deadline = loop.time() + _DRAIN_DELAY
                while True:
                    _shut_down_used(server)
                    if loop.time() >= deadline:
                        break
                    await asyncio.sleep(0.01)
            await shutdown(sockets=sockets)

        server.startup = startup_and_report
        server.shutdown = drain_then_shutdown
        server.handle_exit = note_exit
        server.run(sockets=[self.sock])
        return 0 if server.started else STARTUP_FAILURE


def _stop_serving(server):
    """Stops accepting and shuts down the used connections at once."""
    for listener in getattr(server, "servers", None) or []:
        listener.close()
    _shut_down_used(server)


def _shut_down_used(server):
    """Shuts down, as uvicorn's shutdown does, every HTTP connection of
    server that has received a request; fresh ones are left alone."""
    state = getattr(server, "server_state", None)
    for connection in list(getattr(state, "connections", ())):
        if getattr(connection, "cycle", None) is not None:
            try:
                connection.shutdown()
            except Exception:  # a protocol this does not know: uvicorn's shutdown handles it
                pass


def _kill(pid, sig):
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def _close(fd):
    try:
        os.close(fd)
    except OSError:
        pass


def main(argv):
    global _marker
    _marker = devstack_fork.marker_fd(keep_env=False)
    app, kwargs = uvicorn_config(argv)
    from uvicorn.config import Config

    if kwargs.get("reload"):
        import uvicorn

        _mark(f"ready pid={os.getpid()} generation=1 uvicorn={uvicorn.__version__} reload=restart")
        sys.modules["uvicorn.main"].run(app, **kwargs)
        return 0
    app_dir = kwargs.pop("app_dir", None)
    if app_dir is not None:
        sys.path.insert(0, app_dir)
    config = Config(app, **kwargs)
    config.setup_event_loop()
    devstack_fork.preimport(_UVICORN_MODULES)
    devstack_fork.preimport([m.strip() for m in os.environ.get(_PREIMPORT_ENV, "").split(",") if m.strip()])
    learned = os.environ.get(_LEARNED_ENV, "")
    if learned:
        devstack_fork.preimport(devstack_fork.learned_names(learned))
    sock = listening_socket(config)
    return Supervisor(config, sock, os.environ.get(_CONTROL_ENV, ""), learned).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
