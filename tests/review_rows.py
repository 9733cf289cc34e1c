"""Synthetic segments-table rows for the review-output tests (no model needed)."""

from __future__ import annotations

from workflow.corpus.segment import text_hash
from workflow.core.records import Row

HOSTILE = "<script>alert('x')</script> ]]> &amp; \x07bell \x00nul \ufffe \"q\" 'a' <img src=x onerror=\"document.documentElement.setAttribute('data-pwned','1')\">"


def row(doc, n, target, en, mt, *, flags=(), weak=0.0, status="mt", approved=None, skip=None, para=None):
    para = para or n
    return Row(doc, f"{doc}:p{para}:s1", para, 1, para, text_hash(en), en, target,
               "skipped" if skip else status, skip, None if skip else mt, "tiny-model", "rev1", "transformers",
               None if skip else -0.5 - weak / 10, None if skip else 7, False, False, None if skip else 1.0,
               list(flags), 0.0 if skip else weak, flagged=bool(flags), approved=approved,
               reviewer="alice" if approved is not None else None, reviewed_at=1.7e9 if approved is not None else None,
               hter=50.0 if approved is not None else None)


def sample_rows(doc="doc-1"):
    """Three segments x two targets plus a skipped one; scores chosen so sorting is known."""
    rows = []
    data = [
        (1, "Plain sentence.", {"be": ("Просты сказ.", (), 0.1), "ru": ("Простое предложение.", (), 0.2)}),
        (2, HOSTILE, {"be": (HOSTILE + " be", ("low_confidence",), 2.5), "ru": ("ru " + HOSTILE, ("wrong_script",), 1.0)}),
        (3, "Third one & more.", {"be": ("Трэці.", ("length_ratio",), 0.9), "ru": ("Третий.", (), 3.1)}),
    ]
    for n, en, per in data:
        for t, (mt, flags, weak) in per.items():
            rows.append(row(doc, n, t, en, mt, flags=flags, weak=weak))
    rows[0].status, rows[0].approved, rows[0].reviewer, rows[0].hter = "reviewed", "Правільны сказ.", "alice", 40.0
    for t in ("be", "ru"):
        rows.append(row(doc, 4, t, "Donate now!", None, skip="donation appeal"))
    return rows
