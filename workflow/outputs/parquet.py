"""``aligned/segments.parquet``: the only writer and reader of the segments table.

One row per English segment per target language, every column of
:class:`workflow.core.records.Row`. ``workflow score``, ``workflow review import`` and
``workflow compare`` read a run back through :func:`read_rows` (all of it, or the rows
of some documents). A run writes it chunk by chunk (:class:`Writer`: one row group per
chunk of documents, through pyarrow's ``ParquetWriter``), and keeps its scored rows
between its two passes in a :class:`ChunkFile` of the same schema.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import polars as pl
import pyarrow.parquet as pq

from workflow.core.errors import InputError
from workflow.core.records import STATUS_MT, Row
from workflow.outputs import sink
from workflow.outputs.sink import Sink

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


def read_rows(path: Path, doc_ids: Iterable[str] | None = None) -> list[Row]:
    """The rows of a run (``aligned/`` or its ``segments.parquet``), in file order; only
    those of ``doc_ids`` when given (row groups of other documents are not decoded).
    Columns a newer or older version does not know are left at their defaults.
    InputError names the file."""
    table = _checked(path)
    try:
        scan = pl.scan_parquet(table)
        if doc_ids is not None:
            scan = scan.filter(pl.col("doc_id").is_in(list(doc_ids)))
        frame = scan.collect()
    except Exception as e:  # noqa: BLE001 - polars raises several kinds for a bad file
        raise InputError(f"{table}: not a segments table ({str(e).splitlines()[0][:200]})") from None
    return rows_of(frame)


def document_sizes(path: Path) -> dict[str, int]:
    """Rows per document of a run's table, documents in file order (only that column is read)."""
    table = _checked(path)
    try:
        ids = pl.read_parquet(table, columns=["doc_id"])["doc_id"]
    except Exception as e:  # noqa: BLE001 - as in read_rows
        raise InputError(f"{table}: not a segments table ({str(e).splitlines()[0][:200]})") from None
    sizes: dict[str, int] = {}
    for d in ids:
        sizes[d] = sizes.get(d, 0) + 1
    return sizes


def _checked(path: Path) -> Path:
    table = table_path(path)
    if not table.is_file():
        raise InputError(f"{table}: no segments table here (not the output folder of a run)",
                         hint="Run `workflow run` first.")
    try:
        columns = pq.read_schema(table).names
    except Exception as e:  # noqa: BLE001 - pyarrow raises several kinds for a bad file
        raise InputError(f"{table}: not a segments table ({str(e).splitlines()[0][:200]})") from None
    missing = {"doc_id", "seg_id", "target", "en"} - set(columns)
    if missing:
        raise InputError(f"{table}: not a segments table (no column {', '.join(sorted(missing))})")
    return table


def rows_of(frame: pl.DataFrame) -> list[Row]:
    known = [c for c in frame.columns if c in SCHEMA]
    return [Row(**{**_DEFAULTS, **rec}) for rec in frame.select(known).iter_rows(named=True)]


_ARROW = pl.DataFrame(schema=SCHEMA).to_arrow().schema


class _Groups:
    """Rows appended as one parquet row group per call."""

    def __init__(self, out: BinaryIO | str) -> None:
        # zstd: about a third smaller than pyarrow's default snappy here (the spans' reasons, the
        # texts), read by every parquet reader in use (pyarrow, polars, DuckDB, Spark)
        self._writer = pq.ParquetWriter(out, _ARROW, compression="zstd")

    def append(self, rows: list[Row]) -> None:
        if rows:
            self._writer.write_table(to_frame(rows).to_arrow(), row_group_size=len(rows))

    def close(self) -> None:
        self._writer.close()


class ChunkFile:
    """Rows kept on disk chunk by chunk (a run's scored rows between its passes), read
    back in the same chunks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._groups: _Groups | None = _Groups(str(path))

    def append(self, rows: list[Row]) -> None:
        self._groups.append(rows)

    def chunks(self) -> Iterator[list[Row]]:
        if self._groups is not None:
            self._groups.close()
            self._groups = None
        f = pq.ParquetFile(self.path)
        for i in range(f.num_row_groups):
            yield rows_of(pl.from_arrow(f.read_row_group(i)))


class Writer:
    """``segments.parquet``: every column of every row, a row group per chunk."""

    def __init__(self, targets: Sequence[str], sink: Sink) -> None:
        self._groups = _Groups(sink.stream(NAME))

    def add(self, rows: list[Row]) -> None:
        self._groups.append(rows)

    def finish(self, summary: dict) -> None:
        self._groups.close()


def files(rows: list[Row], targets: Sequence[str], summary: dict) -> list[tuple[str, bytes | str]]:
    return sink.files(Writer, rows, targets, summary)
