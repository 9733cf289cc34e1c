"""The TSV outputs: ``<doc>.tsv`` (three languages side by side, one row per segment,
a status column per language; for scripts, and what ``workflow review import`` reads
back) and ``skipped.tsv`` (every segment left out, with the reason). Cells are
spreadsheet-safe and RFC 4180-quoted (``workflow.core.tsv``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from workflow.core.records import Row, by_document
from workflow.core.tsv import tsv


def status_column(target: str) -> str:
    return f"status_{target}"


def row_status(row: Row) -> str:
    """What a status column says of a row: mt, reviewed, or ``skipped: <reason>``."""
    return f"skipped: {row.skip_reason}" if row.is_skipped else row.status


def document_tsv(segs, targets: Sequence[str]) -> str:
    header = ["id", *map(status_column, targets), "en", *targets]
    for t in targets:
        header += [f"weak_{t}", f"flagged_{t}", f"confidence_{t}", f"length_ratio_{t}", f"flags_{t}"]
    body = []
    for sid, per_target in segs:
        first = next(iter(per_target.values()))
        line = [sid, *(row_status(per_target[t]) for t in targets), first.en]
        line += [per_target[t].shown or "" for t in targets]
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


def files(rows: list[Row], targets: Sequence[str], summary: dict) -> Iterator[tuple[str, str]]:
    for doc_id, segs in by_document(rows).items():
        yield f"{doc_id}.tsv", document_tsv(segs, targets)
    yield "skipped.tsv", tsv(["id", "reason", "en"], skipped_rows(rows, targets))
