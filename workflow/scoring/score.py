"""The one scoring function: every translated segment gets the reference-free checks and
one weak-spot score. ``workflow run``, ``workflow score`` and ``workflow qe`` all call
:func:`score_segments`, so the same English/translation pair gets the same score from
each of them.

Two layers: structural signals every translation has (empty, identical to the source,
wrong script, and the length ratio) and the registered checks of
``workflow.scoring.checks`` (language, spelling, names, numbers, confidence, round trip,
...). The checks decide the weak-spot score; each structural flag adds
``STRUCTURAL_WEIGHT`` so an empty output always ranks first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from workflow.core.config import Checks
from workflow.core.records import SegmentVerdict
from workflow.core.text import CYRILLIC, LATIN
from workflow.scoring.checks import CheckInput, Glossary, backtranslations, run_checks

STRUCTURAL_WEIGHT = 3.0  # an empty or untouched output outranks any subtler finding


def structural_flags(source: str, target_text: str, target: str) -> tuple[float | None, tuple[str, ...]]:
    """(length ratio, flags): ``empty``, ``identical_to_source`` or ``wrong_script``."""
    src = source.strip()
    tgt = target_text.strip()
    ratio = (len(tgt) / len(src)) if src else None
    if not tgt:
        return ratio, ("empty",)
    if tgt == src:
        return ratio, ("identical_to_source",)
    if target in ("be", "ru") and len(CYRILLIC.findall(tgt)) < len(LATIN.findall(tgt)):
        return ratio, ("wrong_script",)
    return ratio, ()


def score_segments(
    sources: Sequence[str],
    outputs: Sequence[str],
    target: str,
    settings: Checks,
    *,
    glossary: Glossary | None = None,
    seg_ids: Sequence[str] | None = None,
    logprobs: Sequence[float | None] | None = None,
    backtranslate: Callable[[list[str], str], list[str]] | None = None,
) -> list[SegmentVerdict]:
    """Score translations ``outputs`` of ``sources`` into ``target`` (same order).

    ``settings`` is the ``[checks]`` section; ``logprobs`` (engine confidence) and
    ``backtranslate`` (the reverse model, for the round trip) are optional: the checks
    that need them are skipped without them."""
    n = len(sources)
    if len(outputs) != n:
        raise ValueError(f"{n} sources but {len(outputs)} translations")
    seg_ids = list(seg_ids) if seg_ids is not None else [str(i + 1) for i in range(n)]
    logprobs = list(logprobs) if logprobs is not None else [None] * n
    back = backtranslations(list(outputs), backtranslate)
    inputs = [CheckInput(i, s, o, lp, b) for i, s, o, lp, b in zip(seg_ids, sources, outputs, logprobs, back)]
    results = run_checks(inputs, target, settings, glossary=glossary)
    verdicts = []
    for src, out, res in zip(sources, outputs, results):
        ratio, structural = structural_flags(src, out, target)
        flags = list(dict.fromkeys(list(structural) + list(res.flags)))
        weak = res.weak_score + STRUCTURAL_WEIGHT * len(structural)
        spans = [{"start": a, "end": b, "reason": r} for a, b, r in res.spans]
        verdicts.append(SegmentVerdict(ratio, round(weak, 4), bool(res.flagged or structural), flags, spans))
    return verdicts
