"""Reviewers' fixes applied to a run's rows: they win over MT, always.

``apply_review(rows, store)`` marks every row with an approved fix as
``status="reviewed"``, keeping the MT in ``mt`` and the fix in ``approved``, with HTER
(TER of the MT against the fix) and chrF++; a fix whose English no longer occurs in its
document is marked stale (kept) and offered on the most similar new sentence as
``fuzzy_match``.
"""

from __future__ import annotations

import difflib
from collections import defaultdict

from workflow.core.records import STATUS_REVIEWED, Row
from workflow.core.store import Store
from workflow.review.memory import Fix, Memory
from workflow.scoring.metrics import make_metric

FUZZY_MIN = 0.5  # least similarity of an old English text for its stale fix to be offered


def apply_review(rows: list[Row], store: Store) -> list[Row]:
    """Rows with approved fixes applied (status ``reviewed``, ``approved`` = the fix, ``mt`` kept),
    stale fixes marked (never deleted) and offered as ``fuzzy_match``. Call after the rows are
    built, before anything is written; ``store`` must be open."""
    memory = Memory(store)
    fixes = memory.all()
    if not fixes:
        return rows
    by_key = {f.key: f for f in fixes}
    present = {(r.doc_id, r.target, r.hash) for r in rows if not r.is_skipped}
    pairs = {(r.doc_id, r.target) for r in rows}
    now_stale = [f.key for f in fixes if not f.stale and (f.doc_id, f.target) in pairs and f.key not in present]
    revived = [f.key for f in fixes if f.stale and f.key in present]
    memory.set_stale(now_stale, True)
    memory.set_stale(revived, False)
    stale_keys = set(now_stale) | {f.key for f in fixes if f.stale} - set(revived)
    stale_by_pair: dict[tuple[str, str], list[Fix]] = defaultdict(list)
    for f in fixes:
        if f.key in stale_keys:
            stale_by_pair[(f.doc_id, f.target)].append(f)
    ter = chrf = None
    for r in rows:
        if r.is_skipped:
            continue
        f = by_key.get((r.doc_id, r.target, r.hash))
        if f is not None and f.key not in stale_keys:
            if ter is None:
                ter, chrf = make_metric("ter"), make_metric("chrf")
            r.status = STATUS_REVIEWED
            r.approved, r.reviewer, r.reviewed_at = f.text, f.reviewer, f.created
            mt = r.mt or ""
            r.hter = round(ter.sentence_score(mt, [f.text]).score, 2)
            r.chrf = round(chrf.sentence_score(mt, [f.text]).score, 2)
            continue
        cands = stale_by_pair.get((r.doc_id, r.target))
        if cands:
            best, score = None, 0.0
            for c in cands:
                s = difflib.SequenceMatcher(None, c.source, r.en, autojunk=False).ratio()
                s += 0.01 if c.seg_id == r.seg_id else 0.0
                if s > score:
                    best, score = c, s
            if best is not None and score >= FUZZY_MIN:
                r.fuzzy_match, r.fuzzy_score = best.text, round(min(score, 1.0), 3)
    return rows
