"""What the gateway processes have in common: how they start fast, end
with their parent and speak to devstack.

Shared by the gunicorn configuration (devstack_gunicorn_conf.py) and the
uvicorn supervisor (devstack_uvicorn.py): both keep a standby process,
forked ahead of time, that loads the app only when a reload asks for it;
both pre-import, in the process that forks, the modules its children
reported importing; both send devstack marker lines. What differs between
them is passed in: gunicorn re-executes its configuration file on every
SIGHUP, so it keeps its state in a module of its own and passes it here.
"""
import importlib
import os
import signal
import sys

MARKER = "devstack-gateway:"
MARKER_FD_ENV = "DEVSTACK_GATEWAY_MARKER_FD"

_MADV_POPULATE_WRITE = 23  # Linux 5.14


def load_libc():
    """libc through ctypes, loaded once in the parent for every child."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except Exception:  # only costs the faster clean-up
        return None


def prefault(libc):
    """Makes this forked process's copy of its parent's memory its own now,
    rather than one copy-on-write fault at a time while it loads the app:
    MADV_POPULATE_WRITE on every private writable page present after the
    fork (Linux 5.14 and later; elsewhere nothing is done)."""
    if libc is None:
        return
    import ctypes
    import struct

    madvise = libc.madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    page = os.sysconf("SC_PAGE_SIZE")
    try:
        with open("/proc/self/maps") as maps, open("/proc/self/pagemap", "rb", buffering=0) as pagemap:
            for line in maps:
                fields = line.split()
                if len(fields) < 2 or fields[1][:2] != "rw" or fields[1][3] != "p":
                    continue
                if len(fields) > 5 and fields[5].startswith("[v"):
                    continue
                lo, hi = (int(x, 16) for x in fields[0].split("-"))
                if hi - lo > 1 << 30:  # a reservation, not memory in use
                    continue
                pagemap.seek(lo // page * 8)
                raw = pagemap.read((hi - lo) // page * 8)
                present = [e >> 63 for e in struct.unpack(f"{len(raw) // 8}Q", raw)] + [0]
                start = None
                for i, bit in enumerate(present):
                    if bit and start is None:
                        start = i
                    elif not bit and start is not None:
                        if madvise(lo + start * page, (i - start) * page, _MADV_POPULATE_WRITE) != 0:
                            return  # an older kernel: the faults happen later instead
                        start = None
    except (OSError, ValueError):
        return


def die_with_parent(libc, parent_pid):
    """Makes this process die with its parent (Linux).

    devstack starts the gateway with PR_SET_PDEATHSIG, so a kill -9 of
    devstack takes the gateway's main process down at once; its children
    would notice only at their next wake-up, holding the app's resources
    meanwhile.
    """
    if libc is None:
        return
    try:
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # only costs the faster clean-up
        return
    if os.getppid() != parent_pid:  # the parent died before prctl ran
        os._exit(1)


def say(text):
    """Prints a note for the user on stderr in one write: every gateway
    process shares the pipe, and print() writes the text and its newline
    separately, so another process's line could land between them."""
    line = f"{MARKER} {text}\n"
    try:
        sys.stderr.flush()
        os.write(sys.stderr.fileno(), line.encode())
    except (AttributeError, OSError, ValueError):  # no real stderr
        print(line, end="", file=sys.stderr, flush=True)


def marker_fd(keep_env):
    """The descriptor devstack reads markers from (DEVSTACK_GATEWAY_MARKER_FD),
    kept from the app's subprocesses; None means stderr, for a gateway run
    by hand. The variable is removed from the environment unless keep_env
    (gunicorn's master reads it again at every configuration load)."""
    value = os.environ.get(MARKER_FD_ENV, "") if keep_env else os.environ.pop(MARKER_FD_ENV, "")
    if not value.isdigit():
        return None
    try:
        os.set_inheritable(int(value), False)
    except OSError:  # not open: the markers are lost, reloads time out
        return None
    return int(value)


def mark(fd, text):
    """Sends a marker to devstack on fd (from marker_fd; stderr if None).
    They go on a pipe of their own, not stderr: whatever the app prints, a
    client's input included, can never pass for one. One write per line
    (the pipe is shared)."""
    if fd is None:
        say(text)
        return
    try:
        os.write(fd, f"{MARKER} {text}\n".encode())
    except OSError:  # devstack is gone
        pass


def preimport(names, skipped=None):
    """Imports modules in the process that forks, so its children share
    them, and returns the names imported. A module that fails to import is
    left out (skipped(name, err) is told, if given): any failure only costs
    the speed-up, the child imports it as usual."""
    done = []
    for name in names:
        try:
            importlib.import_module(name)
            done.append(name)
        except Exception as err:
            if skipped is not None:
                skipped(name, err)
    return done


def learned_names(path):
    """The module names listed in the file at path (see write_learned)."""
    try:
        with open(path, encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip()]
    except OSError:
        return []


def library_modules(before, project_dir, skip=()):
    """The library modules this process imported that are not in before
    (its parent's modules) nor in skip: modules under a site-packages or
    dist-packages directory, or anywhere outside the project directory and
    devstack's own directory. Project code is never listed, so a reload
    always re-imports it."""
    own_dir = os.path.dirname(os.path.abspath(__file__))
    new = []
    for name in [n for n in sys.modules if n not in before and n not in skip]:
        file = getattr(sys.modules.get(name), "__file__", None)
        if not file or name.startswith(("devstack_", "__")):
            continue
        file = os.path.abspath(file)
        parts = file.split(os.sep)
        if "site-packages" not in parts and "dist-packages" not in parts:
            if _inside(file, project_dir) or _inside(file, own_dir):
                continue
        new.append(name)
    return new


def write_learned(path, names):
    """Replaces the list at path with names, at once: other processes may
    read or write it meanwhile."""
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


def open_control(path):
    """Makes the FIFO devstack writes reload requests to, at path, and
    returns (read descriptor, write descriptor), both non-blocking: the
    second is only held, so that the FIFO never reads end-of-file between
    requests. Raises OSError."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.mkfifo(path, 0o600)
    read_fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    keep_fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    return read_fd, keep_fd


def drain(fd):
    """The lines readable now on the non-blocking descriptor fd."""
    chunks = []
    while True:
        try:
            data = os.read(fd, 4096)
        except (BlockingIOError, InterruptedError):
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("ascii", "replace").splitlines()
