"""Score: every translated segment gets the reference-free checks and one weak-spot score.

Two layers: :func:`basic_score` (structural signals every run has: length ratio, empty,
identical to the source, wrong script) and the registered checks of ``workflow.scoring.checks``
(language, spelling, names, numbers, confidence, round trip, ...). The checks decide the
weak-spot score; the structural flags add to it so an empty output always ranks first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from workflow.core.config import Config, Thresholds

_LATIN = re.compile(r"[A-Za-z]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
STRUCTURAL_WEIGHT = 3.0  # an empty or untouched output outranks any subtler finding


@dataclass(frozen=True)
class BasicScore:
    length_ratio: float | None
    flags: tuple[str, ...]


@dataclass(frozen=True)
class SegmentVerdict:
    """What a row carries from scoring."""

    length_ratio: float | None
    weak_score: float
    flagged: bool
    flags: list[str] = field(default_factory=list)
    spans: list[dict] = field(default_factory=list)  # {"start", "end", "reason"} on the target text


def basic_score(source: str, target_text: str, target: str, thresholds: Thresholds) -> BasicScore:
    flags: list[str] = []
    src = source.strip()
    tgt = target_text.strip()
    ratio = (len(tgt) / len(src)) if src else None
    if not tgt:
        flags.append("empty")
    elif tgt == src:
        flags.append("identical_to_source")
    elif target in ("be", "ru") and len(_CYRILLIC.findall(tgt)) < len(_LATIN.findall(tgt)):
        flags.append("wrong_script")
    return BasicScore(ratio, tuple(flags))


def score_segments(
    seg_ids: Sequence[str],
    sources: Sequence[str],
    outputs: Sequence[str],
    logprobs: Sequence[float | None],
    target: str,
    config: Config,
    backtranslate: Callable[[list[str], str], list[str]] | None = None,
) -> list[SegmentVerdict]:
    """Score translations of ``sources`` into ``target`` (all sequences in one order)."""
    from workflow.scoring.checks import CheckInput, backtranslations, run_checks

    back = backtranslations(list(outputs), backtranslate)
    inputs = [CheckInput(i, s, o, lp, b) for i, s, o, lp, b in zip(seg_ids, sources, outputs, logprobs, back)]
    results = run_checks(inputs, target, config)
    verdicts = []
    for src, out, res in zip(sources, outputs, results):
        basic = basic_score(src, out, target, config.thresholds)
        flags = list(dict.fromkeys(list(basic.flags) + list(res.flags)))
        weak = res.weak_score + STRUCTURAL_WEIGHT * len(basic.flags)
        spans = [{"start": a, "end": b, "reason": r} for a, b, r in res.spans]
        verdicts.append(SegmentVerdict(basic.length_ratio, round(weak, 4),
                                       bool(res.flagged or basic.flags), flags, spans))
    return verdicts
