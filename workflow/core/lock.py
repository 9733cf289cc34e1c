"""One run per project at a time.

``workflow run`` (and ``workflow score``) hold an exclusive ``flock`` on ``<store>.lock``
for the whole run. A second run on the same project waits up to
``WORKFLOW_LOCK_WAIT`` seconds (default 60), saying so, then stops with
:class:`ProjectBusy` (exit code 5). The lock belongs to the process: a run killed with
``kill -9`` releases it at once, so a stale lock file never blocks anyone. The holder
writes its PID and start time into the file, so a waiting run can say who holds it.
A lock path that cannot be opened (a folder, a read-only place) is a :class:`LockError`
naming it, before any work.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import time
from pathlib import Path

from workflow.core.errors import WorkflowError

DEFAULT_WAIT = 60.0


class ProjectBusy(WorkflowError):
    """Another run holds the project lock."""

    exit_code = 5


class LockError(WorkflowError):
    """The lock file cannot be created or opened."""

    exit_code = 2


def lock_path(store: Path) -> Path:
    return store.with_name(store.name + ".lock")


def wait_seconds() -> float:
    try:
        return float(os.environ.get("WORKFLOW_LOCK_WAIT", DEFAULT_WAIT))
    except ValueError:
        return DEFAULT_WAIT


@contextlib.contextmanager
def project_lock(store: Path, reporter=None, wait: float | None = None):
    """Hold the project lock (next to the store) for the duration of the block."""
    path = lock_path(store)
    wait = wait_seconds() if wait is None else wait
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as e:
        what = "it is a folder" if path.is_dir() else e.strerror
        raise LockError(f"{path}: cannot open the project lock ({what})",
                        hint="The lock lives next to the store: check the 'store' key in config.toml, "
                        "and that its folder is writable.") from None
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(fd)
                if time.monotonic() >= deadline:
                    raise ProjectBusy(
                        f"{path}: another workflow run{holder} is using this project (store {store})",
                        hint="Wait for it to finish, or stop it; a killed run releases the lock by itself. "
                        "WORKFLOW_LOCK_WAIT sets how many seconds to wait.",
                    ) from None
                if not told and reporter is not None:
                    reporter.info(f"another workflow run{holder} is using this project; waiting up to {wait:.0f} s")
                told = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n{time.time():.0f}\n".encode(), 0)
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    """`` (process N, since T)`` from what the holder wrote, or "" when it has not yet."""
    with contextlib.suppress(OSError, ValueError):
        fields = os.pread(fd, 64, 0).decode().split()
        pid = int(fields[0]) if fields else 0
        if pid:
            since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(fields[1]))) if len(fields) > 1 else None
            return f" (process {pid}" + (f", since {since})" if since else ")")
    return ""


def locked(fn):
    """Decorator for ``fn(config, reporter=None, ...)``: run it under the project lock."""

    @functools.wraps(fn)
    def wrapper(config, reporter=None, *args, **kwargs):
        with project_lock(config.resolve(config.store), reporter):
            return fn(config, reporter, *args, **kwargs)

    return wrapper
