"""Atomic file writes and spreadsheet-safe TSV.

Every output is written to a temporary file in the same folder, flushed to disk, then
renamed over the old one (``os.replace`` is atomic on POSIX): a reader, or a run killed
half-way, sees either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from workflow.core.errors import WorkflowError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def write_parquet_atomic(path: Path, frame) -> None:
    import io

    buf = io.BytesIO()
    frame.write_parquet(buf)
    write_atomic(path, buf.getvalue())


def tsv_cell(value) -> str:
    """One TSV cell: tabs and newlines escaped; a text that a spreadsheet would run as a
    formula (starting with = + - @) gets a leading apostrophe, which spreadsheets hide
    and :func:`tsv_uncell` removes again."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, int) else f"{value:.4g}"
    text = str(value)
    text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if text.startswith(FORMULA_START) or text.startswith("'"):
        text = "'" + text
    return text


def tsv_uncell(text: str) -> str:
    if text.startswith("'"):
        text = text[1:]
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def tsv(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    lines = ["\t".join(header)]
    lines.extend("\t".join(tsv_cell(v) for v in row) for row in rows)
    return "\n".join(lines) + "\n"


def safe_child(root: Path, name: str) -> Path:
    """``root/name`` for a name derived from corpus data, refusing anything that would
    land outside ``root`` (``..``, absolute paths, separators)."""
    candidate = (root / name).resolve()
    if root.resolve() not in candidate.parents:
        raise WorkflowError(f"refusing to write {name!r}: it would land outside {root}")
    return candidate
