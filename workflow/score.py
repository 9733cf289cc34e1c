"""Score (first cut): per-segment signals every run can compute without extra models.

The full set of reference-free checks lives in ``workflow.checks``; this module keeps the
signals the foundation promises: model confidence, target/source length ratio, and flags
for an empty output, an output identical to the source, and the wrong script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .config import Thresholds

_LATIN = re.compile(r"[A-Za-z]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


@dataclass(frozen=True)
class BasicScore:
    length_ratio: float | None
    flags: tuple[str, ...]


def basic_score(source: str, target_text: str, logprob: float | None, target: str, thresholds: Thresholds) -> BasicScore:
    flags: list[str] = []
    src = source.strip()
    tgt = target_text.strip()
    ratio = (len(tgt) / len(src)) if src else None
    if not tgt:
        flags.append("empty")
    elif tgt == src:
        flags.append("identical_to_source")
    else:
        letters_cyr = len(_CYRILLIC.findall(tgt))
        letters_lat = len(_LATIN.findall(tgt))
        if target in ("be", "ru") and letters_cyr < letters_lat:
            flags.append("wrong_script")
    if logprob is not None and logprob < thresholds.min_confidence:
        flags.append("low_confidence")
    lo, hi = thresholds.length_ratio.get(target, (0.0, float("inf")))
    if ratio is not None and tgt and not (lo <= ratio <= hi):
        flags.append("length_ratio")
    return BasicScore(ratio, tuple(flags))
