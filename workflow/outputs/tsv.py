"""The spreadsheet outputs: ``<doc>.tsv`` (three languages side by side, one row per
segment, what reviewers edit and ``workflow review import`` reads back) and
``skipped.tsv`` (every segment left out, with the reason). Cells are spreadsheet-safe
(``workflow.core.tsv``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from workflow.core.records import Row, by_document
from workflow.core.tsv import tsv


def document_tsv(segs, targets: Sequence[str]) -> str:
    header = ["id", "status", "en", *targets]
    for t in targets:
        header += [f"weak_{t}", f"flagged_{t}", f"confidence_{t}", f"length_ratio_{t}", f"flags_{t}"]
    body = []
    for sid, per_target in segs:
        first = next(iter(per_target.values()))
        status = f"skipped: {first.skip_reason}" if first.is_skipped else first.status
        line = [sid, status, first.en] + [per_target[t].shown or "" for t in targets]
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
