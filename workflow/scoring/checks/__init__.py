"""Reference-free checks and the weak-spot score.

Public API (what the pipeline calls)::

    from workflow.scoring.checks import CheckInput, run_checks, backtranslations
    scores = run_checks([CheckInput(seg_id, source, mt, logprob, backtranslation)], "be", config)
    for s in scores: s.weak_score, s.flagged, s.flags, s.spans, s.findings

Every check is a class registered with ``@register("name")`` (see ``base.py``); this
module imports each family once so the registry is complete. The weak-spot score of a
segment is ``sum(weight[check] * finding.badness)``; a segment is *flagged* when it
reaches ``checks.flag_threshold``. The default weights and threshold were calibrated on
WMT21 news MQM annotations (EN-RU) by ``bench/qe.py --calibrate``; see bench/README.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from workflow.scoring.checks.base import REGISTRY, Check, CheckInput, Context, Finding, SegmentScore, Span, register
from workflow.scoring.checks import confidence, language, length, names, numbers, roundtrip, spelling, untranslated  # noqa: F401  (registration)
from workflow.scoring.checks.names import Glossary, load_glossary

__all__ = [
    "REGISTRY", "Check", "CheckInput", "Context", "Finding", "SegmentScore", "Span", "register",
    "Glossary", "load_glossary", "run_checks", "backtranslations", "DEFAULT_WEIGHTS", "weights_for",
]

# Weights: logistic regression of "annotators found a major/critical error" on each
# check's badness, fitted by ``bench/qe.py --calibrate`` on WMT21 news MQM (EN-RU, all 32
# documents, 8,432 translations), for the checks that fired at least 50 times there
# (untranslated, brackets, spelling, ...). Checks the MQM data cannot calibrate (no
# log-probabilities or back-translations there, no Belarusian, corpus glossary names are
# rare in WMT news) keep hand-set weights, chosen so that one clear failure alone reaches
# the flag threshold. Override any of them with [checks] weights = { name = value }.
DEFAULT_WEIGHTS: dict[str, float] = {
    "untranslated": 1.92,  # fitted
    "brackets": 0.73,  # fitted
    "repetition": 0.87,  # fitted (13 firings: weakly determined)
    "length": 0.44,  # fitted (31 firings)
    "numbers": 0.6,  # fitted 0.15 on 17 firings; raised by hand: a changed number is an accuracy error
    "spelling": 0.50,  # fitted (lowercase unknown words; capitalised ones are taken for names)
    "truncation": 1.0,  # hand-set (11 firings)
    "language": 3.0,  # hand-set: the main failure for Belarusian; MQM (Russian) has none
    "names": 1.0,  # hand-set: glossary of this corpus
    "confidence": 1.0,  # hand-set: no log-probabilities in the MQM data
    "roundtrip": 1.0,  # hand-set: no back-translations in the MQM data
}


def _default_config():
    from workflow.core.config import Config

    return Config()


def weights_for(config) -> dict[str, float]:
    return {**DEFAULT_WEIGHTS, **dict(config.checks.weights)}


def build_checks(target_lang: str, config=None, glossary: Glossary | None = None) -> list[Check]:
    config = config or _default_config()
    if glossary is None:
        glossary = load_glossary(str(config.resolve(config.checks.glossary)))
    ctx = Context(target_lang, config, glossary)
    out = []
    for name, cls in REGISTRY.items():
        if name in config.checks.disabled:
            continue
        if cls.languages is not None and target_lang not in cls.languages:
            continue
        out.append(cls(ctx))
    return out


def run_checks(
    segments: Sequence[CheckInput],
    target_lang: str,
    config=None,
    *,
    glossary: Glossary | None = None,
) -> list[SegmentScore]:
    """Run every enabled check on every segment; one SegmentScore per input, same order.

    ``config`` is a ``workflow.core.config.Config`` (defaults when None). ``glossary``
    overrides the one named by ``checks.glossary`` (resolved against the config file).
    """
    config = config or _default_config()
    checks = build_checks(target_lang, config, glossary)
    weights = weights_for(config)
    threshold = config.checks.flag_threshold
    segments = list(segments)
    for c in checks:
        c.prepare(segments)
    out = []
    for seg in segments:
        findings = [c.run(seg) for c in checks]
        weak = sum(weights.get(f.check, 1.0) * f.badness for f in findings)
        flags = [f.check for f in findings if not f.accepted]
        out.append(SegmentScore(seg.seg_id, round(weak, 6), weak >= threshold, flags, findings))
    return out


def backtranslations(
    mts: Sequence[str], translate: Callable[[list[str], str], list[str]] | None
) -> list[str | None]:
    """Back-translate target texts into English with ``translate(texts, "en")``.

    ``translate`` is the engine of the configured reverse model (``checks.reverse_models``);
    with None, every entry is None and the round-trip check is skipped.
    """
    if translate is None:
        return [None] * len(mts)
    texts = list(mts)
    result = translate(texts, "en")
    if len(result) != len(texts):
        raise ValueError(f"reverse model returned {len(result)} texts for {len(texts)}")
    return list(result)
