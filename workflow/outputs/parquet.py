"""``aligned/segments.parquet``: the only writer and reader of the segments table.

One row per English segment per target language, every column of
:class:`workflow.core.records.Row`. ``workflow score``, ``workflow review import`` and
``workflow compare`` read a run back through :func:`read_rows`.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import polars as pl

from workflow.core.errors import InputError
from workflow.core.records import STATUS_MT, Row

NAME = "segments.parquet"

SCHEMA = {
    "doc_id": pl.Utf8, "seg_id": pl.Utf8, "para": pl.Int32, "sent": pl.Int32, "line": pl.Int32,
    "hash": pl.Utf8, "en": pl.Utf8, "target": pl.Utf8, "status": pl.Utf8, "skip_reason": pl.Utf8,
    "mt": pl.Utf8, "model": pl.Utf8, "revision": pl.Utf8, "engine": pl.Utf8, "logprob": pl.Float64,
    "n_tokens": pl.Int32, "split": pl.Boolean, "cached": pl.Boolean, "length_ratio": pl.Float64,
    "flags": pl.List(pl.Utf8), "weak_score": pl.Float64, "flagged": pl.Boolean,
    "spans": pl.List(pl.Struct({"start": pl.Int32, "end": pl.Int32, "reason": pl.Utf8})),
    "approved": pl.Utf8, "reviewer": pl.Utf8, "reviewed_at": pl.Float64, "hter": pl.Float64,
    "chrf": pl.Float64, "fuzzy_match": pl.Utf8, "fuzzy_score": pl.Float64,
    "reference": pl.Utf8,
}
_FIELDS = [f.name for f in dataclasses.fields(Row)]
assert _FIELDS == list(SCHEMA), "Row and its parquet schema must list the same columns"
# what an older table without a column reads as (columns with defaults in Row need none)
_DEFAULTS = {"para": 0, "sent": 0, "line": 0, "hash": "", "status": STATUS_MT, "skip_reason": None, "mt": None,
             "model": "", "revision": "", "engine": "", "logprob": None, "n_tokens": None, "split": False,
             "cached": False, "length_ratio": None}


def to_frame(rows: list[Row]) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame(schema=SCHEMA)
    # column-wise and shallow (dataclasses.asdict deep-copies every span: 4.6 s for 11k rows)
    return pl.DataFrame({name: [getattr(r, name) for r in rows] for name in SCHEMA}, schema=SCHEMA)


def table_path(path: Path) -> Path:
    """``segments.parquet`` of a run folder, or ``path`` itself when it names the file."""
    return path / NAME if path.is_dir() else path


def read_rows(path: Path) -> list[Row]:
    """The rows of a run (``aligned/`` or its ``segments.parquet``); columns a newer or older
    version does not know are left at their defaults. InputError names the file."""
    table = table_path(path)
    if not table.is_file():
        raise InputError(f"{table}: no segments table here (not the output folder of a run)",
                         hint="Run `workflow run` first.")
    try:
        frame = pl.read_parquet(table)
    except Exception as e:  # noqa: BLE001 - polars raises several kinds for a bad file
        raise InputError(f"{table}: not a segments table ({str(e).splitlines()[0][:200]})") from None
    missing = {"doc_id", "seg_id", "target", "en"} - set(frame.columns)
    if missing:
        raise InputError(f"{table}: not a segments table (no column {', '.join(sorted(missing))})")
    known = [c for c in frame.columns if c in SCHEMA]
    rows = []
    for rec in frame.select(known).iter_rows(named=True):
        rows.append(Row(**{**_DEFAULTS, **rec}))
    return rows


def files(rows: list[Row], targets: Sequence[str], summary: dict) -> Iterator[tuple[str, bytes]]:
    """``segments.parquet``: every column of every row."""
    buf = io.BytesIO()
    to_frame(rows).write_parquet(buf)
    yield NAME, buf.getvalue()
