"""One writer at a time per index folder, across processes: a `filelock` on DIR/.lock.

Every write (ingest, remove, anything that builds a generation) holds the lock from reading
the current generation to switching the manifest. Readers never take it: a write builds its
generation beside the current one and switches the manifest atomically, so a reader sees the
old index or the new one. The lock is an OS lock (flock), so the kernel releases it when its
holder dies, even by kill -9.
"""
from __future__ import annotations

import math
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union

from qa.errors import ConfigError, IndexBusyError

LOCK = ".lock"
OWNER = ".lock.pid"  # the holder's pid, for the busy message (the lock file itself is filelock's)

Wait = Union[bool, float]
WAIT_DOC = ("False (default): refuse at once with IndexBusyError when another process is "
            "writing; True: wait until it is done; a number: wait at most that many seconds")


def wait_timeout(wait: Wait) -> float:
    """filelock's timeout for a `wait` argument: 0 (no wait), -1 (forever) or seconds."""
    if isinstance(wait, bool):
        return -1.0 if wait else 0.0
    if isinstance(wait, (int, float)) and not math.isnan(wait) and wait >= 0:
        return float(wait)
    raise ConfigError(f"wait={wait!r}: use True, False or a number of seconds >= 0")


def holder_pid(root: Path) -> int | None:
    """The pid the current (or last) lock holder wrote, if readable."""
    try:
        return int((Path(root) / OWNER).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


@contextmanager
def index_lock(root: str | Path, wait: Wait = False) -> Iterator[None]:
    """Hold the write lock of the index folder `root` (created if missing) for the block.

    Raises IndexBusyError when another process holds it and `wait` runs out (see WAIT_DOC)."""
    from filelock import FileLock, Timeout

    root = Path(root)
    timeout = wait_timeout(wait)
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(root / LOCK))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        pid = holder_pid(root)
        who = f"pid {pid}" if pid is not None else "pid unknown"
        if timeout > 0:
            raise IndexBusyError(
                f"index busy: another writer ({who}) was still writing {root} after {timeout:g} s; "
                "wait longer (--wait without a limit) or try again later") from None
        raise IndexBusyError(
            f"index busy: another writer ({who}) is writing {root}; wait or use --wait "
            "(Python API: wait=True)") from None
    try:
        _write_owner(root)
        yield
    finally:
        try:
            (root / OWNER).unlink(missing_ok=True)
        finally:
            lock.release()


def _write_owner(root: Path) -> None:
    # Written after acquiring, atomically, so a refused writer never reads half a pid.
    tmp = root / f"{OWNER}.tmp-{os.getpid()}"
    tmp.write_text(str(os.getpid()), encoding="ascii")
    os.replace(tmp, root / OWNER)
