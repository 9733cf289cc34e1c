"""Where an output format puts its files, and the shape every format's writer has.

A run hands its rows to the writers a chunk of whole documents at a time (never all at
once: ``workflow.pipeline``), so each format is a ``Writer(targets, sink)`` with
``add(rows)`` (the rows of some whole documents: their per-document files are written
there and then) and ``finish(summary)`` (the corpus-level files, from what ``add`` kept:
counts and sums, never the rows). A file is either whole (``sink.file(name, data)``) or
streamed (``sink.stream(name)`` gives a binary file that the writer appends to chunk by
chunk; the sink closes it after every ``finish``). ``publish`` gives the sink that stages
the new ``aligned/``; :class:`MemorySink` keeps everything in memory (``files()``: one
format's whole set for a list of rows, as tests and small callers want it). A writer
that makes files of several ``[outputs] formats`` writes those in ``sink.formats``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import BinaryIO, Protocol

from workflow.core.config import OUTPUT_FORMATS
from workflow.core.records import Row, by_document


class Sink(Protocol):
    latin: bool  # the writers add the be-Latn Łacinka (``[outputs] latin``; workflow.outputs.latin)
    formats: frozenset[str]  # the ``[outputs] formats`` wanted (core.config.OUTPUT_FORMATS)

    def file(self, name: str, data: bytes | str) -> None: ...

    def stream(self, name: str) -> BinaryIO: ...


class Writer(Protocol):
    def __init__(self, targets: Sequence[str], sink: Sink) -> None: ...

    def add(self, rows: list[Row]) -> None: ...

    def finish(self, summary: dict) -> None: ...


class PerDocument:
    """A writer whose files are all per document: subclasses give :meth:`document`."""

    def __init__(self, targets: Sequence[str], sink: Sink) -> None:
        self.targets = list(targets)
        self.sink = sink

    def add(self, rows: list[Row]) -> None:
        for doc_id, segs in by_document(rows).items():
            for name, data in self.document(doc_id, segs):
                self.sink.file(name, data)

    def document(self, doc_id: str, segs: list[tuple[str, dict[str, Row]]]) -> Iterator[tuple[str, bytes | str]]:
        raise NotImplementedError

    def finish(self, summary: dict) -> None:
        return None


class MemorySink:
    """Every file in memory, in the order written (a streamed file where it was opened)."""

    def __init__(self, *, latin: bool = False, formats: Sequence[str] = OUTPUT_FORMATS) -> None:
        self.files: dict[str, bytes | str | io.BytesIO] = {}
        self.latin = latin
        self.formats = frozenset(formats)

    def file(self, name: str, data: bytes | str) -> None:
        self.files[name] = data

    def stream(self, name: str) -> BinaryIO:
        buf = self.files[name] = io.BytesIO()
        return buf

    def items(self) -> list[tuple[str, bytes | str]]:
        return [(n, d.getvalue() if isinstance(d, io.BytesIO) else d) for n, d in self.files.items()]


def files(writer: type[Writer], rows: list[Row], targets: Sequence[str], summary: dict, *,
          latin: bool = False, formats: Sequence[str] = OUTPUT_FORMATS) -> list[tuple[str, bytes | str]]:
    """(name, content) of every file ``writer`` makes of ``rows`` (whole documents); every format by default."""
    sink = MemorySink(latin=latin, formats=formats)
    w = writer(targets, sink)
    w.add(rows)
    w.finish(summary)
    return sink.items()
