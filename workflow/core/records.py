"""The records every stage passes on. They import no stage.

- :class:`Translation`: what an engine returns for one source text.
- :class:`SegmentVerdict`: what scoring says of one translation.
- :class:`Row`: one English segment in one target language, the schema of
  ``aligned/segments.parquet`` (``workflow.outputs.parquet`` reads and writes it).
- the statuses a row can have, and :func:`is_flagged` / :func:`by_document`, the two
  views of rows that every output uses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

STATUS_MT = "mt"  # machine translation
STATUS_SKIPPED = "skipped"  # boilerplate or not English: never translated
STATUS_REVIEWED = "reviewed"  # a reviewer's approved fix replaces the MT


@dataclass(frozen=True)
class Translation:
    text: str
    logprob: float | None  # mean log-probability per output token (higher = more confident)
    n_tokens: int  # output tokens scored
    split: bool = False  # the source exceeded the model's limit and was translated in pieces


@dataclass(frozen=True)
class SegmentVerdict:
    """What scoring says of one translation (``workflow.scoring.score``)."""

    length_ratio: float | None
    weak_score: float  # higher = worse
    flagged: bool  # at or above the flag threshold: a reviewer should look here
    flags: list[str] = field(default_factory=list)  # names of the checks that did not accept
    spans: list[dict] = field(default_factory=list)  # {"start", "end", "reason"} on the target text
    scorer: str = "checks"  # "model": weak_score is the learned probability of a major error (0-1)


@dataclass
class Row:
    doc_id: str
    seg_id: str
    para: int
    sent: int
    line: int
    hash: str
    en: str
    target: str
    status: str  # STATUS_MT | STATUS_SKIPPED | STATUS_REVIEWED
    skip_reason: str | None
    mt: str | None
    model: str
    revision: str
    engine: str
    logprob: float | None
    n_tokens: int | None
    split: bool
    cached: bool
    length_ratio: float | None
    flags: list[str] = field(default_factory=list)
    weak_score: float = 0.0
    flagged: bool = False
    spans: list[dict] = field(default_factory=list)  # blamed {"start", "end", "reason"} in mt
    # review loop (workflow.review): the approved fix next to the MT it replaced
    approved: str | None = None  # reviewer's approved text (status "reviewed"); mt keeps the MT
    reviewer: str | None = None
    reviewed_at: float | None = None  # unix time of approval
    hter: float | None = None  # TER (percent) of mt against the approved fix
    chrf: float | None = None  # chrF++ of mt against the approved fix
    fuzzy_match: str | None = None  # a stale fix of an earlier English text, offered as a match
    fuzzy_score: float | None = None  # similarity (0..1) of that earlier English text to this one
    reference: str | None = None  # aligned sentence(s) of a reference file (corpus/<doc>.<lang>.txt)

    @property
    def shown(self) -> str | None:
        """The target text a reviewer sees: the approved fix if any, else the MT."""
        return self.approved if self.approved is not None else self.mt

    @property
    def is_skipped(self) -> bool:
        return self.status == STATUS_SKIPPED

    def take_verdict(self, verdict: SegmentVerdict) -> None:
        """Set the scoring columns from ``verdict`` (a split source stays flagged as such)."""
        self.length_ratio, self.weak_score, self.flagged = verdict.length_ratio, verdict.weak_score, verdict.flagged
        self.spans = list(verdict.spans)
        self.flags = list(verdict.flags) + (["split_long_source"] if self.split else [])


def is_flagged(row) -> bool:
    """A weak spot a reviewer should look at (``Row.flagged`` from scoring; any flag otherwise)."""
    flagged = getattr(row, "flagged", None)
    return bool(row.flags) if flagged is None else bool(flagged)


def by_document(rows: Iterable[Row]) -> dict[str, list[tuple[str, dict[str, Row]]]]:
    """Per document, in document order: (seg_id, {target: row}) for every segment."""
    docs: dict[str, dict[str, dict[str, Row]]] = defaultdict(dict)
    for r in rows:
        docs[r.doc_id].setdefault(r.seg_id, {})[r.target] = r
    return {doc: list(segs.items()) for doc, segs in docs.items()}


def target_rows(segs: Sequence[tuple[str, dict[str, Row]]], target: str) -> list[Row]:
    """The rows of one target language out of :func:`by_document`'s list for a document."""
    return [per[target] for _, per in segs if target in per]
