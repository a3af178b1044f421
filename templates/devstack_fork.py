"""What a forked gateway process does to start fast and end with its parent.

Shared by the gunicorn configuration (devstack_gunicorn_conf.py) and the
uvicorn supervisor (devstack_uvicorn.py): both keep a standby process,
forked ahead of time, that loads the app only when a reload asks for it.
"""
import os
import signal
import sys

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
