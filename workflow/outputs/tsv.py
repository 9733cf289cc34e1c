"""The TSV outputs: ``<doc>.tsv`` with the ``tsv`` format (three languages side by side,
one row per segment, a status column per language; for scripts, and what ``workflow
review import`` reads back) and, always, ``skipped.tsv`` (every segment left out, with the reason). Cells are
spreadsheet-safe and RFC 4180-quoted (``workflow.core.tsv``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from workflow.core.records import Row
from workflow.core.tsv import tsv
from workflow.outputs import latin, sink
from workflow.outputs.sink import PerDocument, Sink


def status_column(target: str) -> str:
    return f"status_{target}"


def row_status(row: Row) -> str:
    """What a status column says of a row: mt, reviewed, or ``skipped: <reason>``."""
    return f"skipped: {row.skip_reason}" if row.is_skipped else row.status


def document_tsv(segs, targets: Sequence[str], *, with_latin: bool = False) -> str:
    """``with_latin``: a read-only ``be-Latn`` column after the target texts (``outputs.latin``)."""
    header = ["id", *map(status_column, targets), "en", *targets, *([latin.LATIN] if with_latin else [])]
    for t in targets:
        header += [f"weak_{t}", f"flagged_{t}", f"confidence_{t}", f"length_ratio_{t}", f"flags_{t}"]
    body = []
    for sid, per_target in segs:
        first = next(iter(per_target.values()))
        line = [sid, *(row_status(per_target[t]) for t in targets), first.en]
        line += [per_target[t].shown or "" for t in targets]
        if with_latin:
            line.append(latin.text(per_target.get(latin.SOURCE)))
        for t in targets:
            r = per_target[t]
            line += [
                None if r.is_skipped else round(r.weak_score, 3),
                None if r.is_skipped else ("yes" if r.flagged else ""),
                None if r.logprob is None else round(r.logprob, 3),
                None if r.length_ratio is None else round(r.length_ratio, 2),
                ",".join(r.flags),
            ]
        body.append(line)
    return tsv(header, body)


def skipped_rows(rows: Sequence[Row], targets: Sequence[str]) -> list[tuple[str, str | None, str]]:
    """(id, reason, English) of every skipped segment, once (not once per target)."""
    return [(r.seg_id, r.skip_reason, r.en) for r in rows if r.is_skipped and r.target == targets[0]]


SKIPPED = "skipped.tsv"
SKIPPED_HEADER = ["id", "reason", "en"]


FORMAT = "tsv"  # [outputs] formats: the per-document tables


class Writer(PerDocument):
    """``<doc>.tsv`` per document (the ``tsv`` format); ``skipped.tsv`` streamed, chunk by chunk."""

    def __init__(self, targets: Sequence[str], sink: Sink) -> None:
        super().__init__(targets, sink)
        self._head = tsv(SKIPPED_HEADER, [])
        self._skipped = sink.stream(SKIPPED)
        self._skipped.write(self._head.encode("utf-8"))

    def add(self, rows: list[Row]) -> None:
        super().add(rows)
        found = skipped_rows(rows, self.targets)
        if found:  # the rows of a whole table, less its header line
            self._skipped.write(tsv(SKIPPED_HEADER, found)[len(self._head):].encode("utf-8"))

    def document(self, doc_id: str, segs) -> Iterator[tuple[str, str]]:
        if FORMAT not in self.sink.formats:
            return
        yield f"{doc_id}.tsv", document_tsv(segs, self.targets, with_latin=latin.wanted(self.sink.latin, self.targets))


def files(rows: list[Row], targets: Sequence[str], summary: dict) -> list[tuple[str, bytes | str]]:
    return sink.files(Writer, rows, targets, summary)
