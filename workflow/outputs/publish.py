"""Publish ``aligned/``: every output format of a run, written as one set.

Each format is one module with a ``files(rows, targets, summary)`` generator of
``(relative path, content)``; :data:`WRITERS` lists them, so a new format is one file
plus one line here. The run writes nothing until every translation and score is done.
Then every file is written into a staging folder inside ``aligned/`` and only moved
into place once all of them were written, so a failed run (full disk, kill) leaves the
previous ``aligned/`` as it was. Paths derived from corpus names never leave the folder
(``core.files.safe_child``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from workflow.core.files import safe_child, write_atomic
from workflow.core.records import Row
from workflow.outputs import page, parquet, report, summary, tmx, tsv, xliff

Writer = Callable[[list[Row], Sequence[str], dict], Iterable[tuple[str, bytes | str]]]

WRITERS: tuple[Writer, ...] = (
    parquet.files,  # segments.parquet: every column
    tsv.files,  # <doc>.tsv, skipped.tsv
    summary.files,  # run.json
    tmx.files,  # tmx/<doc>.tmx, corpus.tmx
    xliff.files,  # xliff/2.1/, xliff/1.2/
    page.files,  # review/<doc>.html
    report.files,  # report.md, report.html, report/*.svg
)

STAGING_PREFIX = ".staging-"


def write_all(out: Path, rows: list[Row], targets: Sequence[str], summary: dict) -> list[Path]:
    """Every writer's files under ``out`` (each written atomically); the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for writer in WRITERS:
        for name, data in writer(rows, targets, summary):
            path = safe_child(out, name)
            write_atomic(path, data)
            written.append(path)
    return written


def write_outputs(final: Path, rows: list[Row], targets: Sequence[str], summary: dict) -> None:
    """Write every output into a staging folder inside ``final`` first (a full disk or
    any other failure stops there and removes it), then move the files into place; moving
    needs no space, so the previous outputs stay complete until the new set is."""
    final.mkdir(parents=True, exist_ok=True)
    for stale in final.glob(STAGING_PREFIX + "*"):  # left by a killed run (runs hold the project lock)
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=final))
    try:
        write_all(staging, rows, targets, summary)
        publish(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def publish(staging: Path, final: Path) -> None:
    """Move every file of ``staging`` to the same place under ``final`` (atomic renames)."""
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        dest = final / path.relative_to(staging)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, dest)
