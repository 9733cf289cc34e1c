"""Atomic file writes, and output paths that stay inside their folder.

Every output is written to a temporary file in the same folder, flushed to disk, then
renamed over the old one (``os.replace`` is atomic on POSIX): a reader, or a run killed
half-way, sees either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from workflow.core.errors import WorkflowError


def write_atomic(path: Path, data: bytes | str) -> None:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise WorkflowError(f"{path}: cannot write ({e.strerror}); the previous version is left intact") from None


def safe_child(root: Path, name: str) -> Path:
    """``root/name`` for a name derived from corpus data, refusing anything that would
    land outside ``root`` (``..``, absolute paths, separators)."""
    candidate = (root / name).resolve()
    if root.resolve() not in candidate.parents:
        raise WorkflowError(f"refusing to write {name!r}: it would land outside {root}")
    return candidate
