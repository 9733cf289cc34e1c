"""One run per project at a time.

``workflow run`` (and ``workflow score``) hold an exclusive ``flock`` on ``<store>.lock``
for the whole run. A second run on the same project waits up to
``WORKFLOW_LOCK_WAIT`` seconds (default 60), saying so, then stops with
:class:`ProjectBusy` (exit code 5). The lock belongs to the process: a run killed with
``kill -9`` releases it at once, so a stale lock file never blocks anyone.
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


def lock_path(store: Path) -> Path:
    return store.with_name(store.name + ".lock")


def _wait_seconds() -> float:
    try:
        return float(os.environ.get("WORKFLOW_LOCK_WAIT", DEFAULT_WAIT))
    except ValueError:
        return DEFAULT_WAIT


@contextlib.contextmanager
def project_lock(store: Path, reporter=None, wait: float | None = None):
    """Hold the project lock (next to the store) for the duration of the block."""
    path = lock_path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    wait = _wait_seconds() if wait is None else wait
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
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
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        pid = int(os.pread(fd, 32, 0).decode().strip() or 0)
        if pid:
            return f" (process {pid})"
    return ""


def locked(fn):
    """Decorator for ``fn(config, reporter=None, ...)``: run it under the project lock."""

    @functools.wraps(fn)
    def wrapper(config, reporter=None, *args, **kwargs):
        with project_lock(config.resolve(config.store), reporter):
            return fn(config, reporter, *args, **kwargs)

    return wrapper
