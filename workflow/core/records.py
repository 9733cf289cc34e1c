"""The segments table: one row per English segment per target language.

This is the typed record every stage after translation reads and writes, and the schema
of ``aligned/segments.parquet``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from workflow.translation.hub import ResolvedModel
from workflow.scoring.score import SegmentVerdict
from workflow.corpus.segment import Segment
from workflow.translation.engines.base import Translation

STATUS_SKIPPED = "skipped"
STATUS_MT = "mt"


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
    status: str  # "mt" | "skipped" (later: "reviewed")
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
    # review loop (workflow.review.importer): the approved fix next to the MT it replaced
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

    @staticmethod
    def skipped(seg: Segment, target: str, model: ResolvedModel, engine: str) -> "Row":
        return Row(seg.doc_id, seg.seg_id, seg.para, seg.sent, seg.line, seg.hash, seg.text, target, STATUS_SKIPPED,
                   seg.skip, None, model.ref.id, model.revision, engine, None, None, False, False, None, [], 0.0)

    @staticmethod
    def translated(seg: Segment, target: str, model: ResolvedModel, engine: str, tr: Translation, cached: bool,
                   verdict: SegmentVerdict) -> "Row":
        flags = list(verdict.flags) + (["split_long_source"] if tr.split else [])
        return Row(seg.doc_id, seg.seg_id, seg.para, seg.sent, seg.line, seg.hash, seg.text, target, STATUS_MT,
                   None, tr.text, model.ref.id, model.revision, engine, tr.logprob, tr.n_tokens, tr.split, cached,
                   verdict.length_ratio, flags, verdict.weak_score, verdict.flagged, list(verdict.spans))


def to_frame(rows: list[Row]):
    import polars as pl

    schema = {
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
    assert [f.name for f in fields(Row)] == list(schema), "Row and its parquet schema must list the same columns"
    if not rows:
        return pl.DataFrame(schema=schema)
    # column-wise and shallow (dataclasses.asdict deep-copies every span: 4.6 s for 11k rows)
    return pl.DataFrame({name: [getattr(r, name) for r in rows] for name in schema}, schema=schema)
