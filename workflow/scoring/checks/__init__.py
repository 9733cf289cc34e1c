"""Reference-free checks and the weak-spot score.

Public API (what the scoring stage calls)::

    from workflow.scoring.checks import CheckInput, run_checks, backtranslations, validate
    validate(config.checks, str(config.path))  # at the start of a run: errors name the file
    scores = run_checks([CheckInput(seg_id, source, mt, logprob, backtranslation)], "be", config.checks)
    for s in scores: s.weak_score, s.flagged, s.flags, s.spans, s.findings

Every check is a class registered with ``@register("name")`` (see ``base.py``); this
module imports each family once so the registry is complete. A check owns its
parameters: its ``Params`` dataclass is the schema of its ``[checks.<name>]`` table,
with the check's threshold and its ``weight``. The weak-spot score of a segment is
``sum(weight * finding.badness)`` over checks; a segment is *flagged* when it reaches
``checks.flag_threshold``.

The default weights and threshold were calibrated on WMT21 news MQM annotations (EN-RU)
by ``bench/qe.py --calibrate``: logistic regression of "annotators found a major/critical
error" on each check's badness, fitted on all 32 documents (8,432 translations), for the
checks that fired at least 50 times there (untranslated, brackets, spelling, ...). Checks
the MQM data cannot calibrate (no log-probabilities or back-translations there, no
Belarusian, corpus glossary names are rare in WMT news) keep hand-set weights, chosen so
that one clear failure alone reaches the flag threshold. Each check's ``Params`` says which.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence

from workflow.core.config import Checks, build_dataclass
from workflow.core.errors import ConfigError
from workflow.scoring.checks.base import (
    REGISTRY, Check, CheckInput, CheckParams, Context, Finding, SegmentScore, Span, register,
)
from workflow.scoring.checks import confidence, language, length, names, numbers, roundtrip, spelling, untranslated  # noqa: F401  (registration)
# the Belarusian checks last: the registry's order before them is the learned model's feature order
from workflow.scoring.checks import crosscheck, leakage, orthography  # noqa: F401,E402  (registration)
from workflow.scoring.checks.names import Glossary, load_glossary

__all__ = [
    "REGISTRY", "Check", "CheckInput", "CheckParams", "Context", "Finding", "SegmentScore", "Span", "register",
    "Glossary", "load_glossary", "validate", "SCORERS", "build_checks", "run_checks", "backtranslations",
]


SCORERS = ("model", "checks")  # checks.scorer: the learned weak-spot model, or the checks' weighted sum


def _unknown_check(name: str, where: str, key: str) -> ConfigError:
    guess = difflib.get_close_matches(name, list(REGISTRY), n=1)
    hint = f"Did you mean {guess[0]!r}?" if guess else f"Known checks: {', '.join(REGISTRY)}."
    return ConfigError(f"{where}: {key}: unknown check {name!r}", hint=hint)


def validate(settings: Checks, where: str) -> dict[str, CheckParams]:
    """Every registered check's ``Params``, from its ``[checks.<name>]`` table (defaults for
    a check without one). ``where`` names the config file in errors.

    Raises ConfigError (exit code 2) naming the key, with a "did you mean", for an
    unknown check (a table name or a name in ``disabled``), an unknown parameter, a value
    of the wrong type, or values that make no sense (``CheckParams.problems``)."""
    if settings.scorer not in SCORERS:
        raise ConfigError(f"{where}: key 'checks.scorer': unknown scorer {settings.scorer!r}",
                          hint=f"Use one of: {', '.join(SCORERS)}.")
    for key in ("review_budget", "flag_probability"):
        if not 0.0 <= getattr(settings, key) <= 1.0:
            raise ConfigError(f"{where}: key 'checks.{key}': must be between 0 and 1, not {getattr(settings, key)}")
    for name in settings.params:
        if name not in REGISTRY:
            raise _unknown_check(name, where, f"table '[checks.{name}]'")
    for name in settings.disabled:
        if name not in REGISTRY:
            raise _unknown_check(name, where, "key 'checks.disabled'")
    out = {}
    for name, cls in REGISTRY.items():
        params = build_dataclass(cls.Params, settings.params.get(name, {}), where, f"checks.{name}.")
        problems = params.problems()
        if problems:
            key, problem = next(iter(problems.items()))
            raise ConfigError(f"{where}: key 'checks.{name}.{key}': {problem}")
        out[name] = params
    return out


def build_checks(target_lang: str, settings: Checks, glossary: Glossary | None = None) -> list[Check]:
    """The enabled checks that apply to ``target_lang``, each with its own parameters
    (validated here too: ``settings`` built in code never went through a config file)."""
    params = validate(settings, "[checks] settings")
    return [
        cls(Context(target_lang, params[name], glossary))
        for name, cls in REGISTRY.items()
        if name not in settings.disabled and (cls.languages is None or target_lang in cls.languages)
    ]


def run_checks(
    segments: Sequence[CheckInput],
    target_lang: str,
    settings: Checks,
    *,
    glossary: Glossary | None = None,
) -> list[SegmentScore]:
    """Run every enabled check on every segment; one SegmentScore per input, same order.

    ``settings`` is the ``[checks]`` section; ``glossary`` is the loaded
    ``checks.glossary`` (None: the names check is skipped and no Latin name is allowed)."""
    checks = build_checks(target_lang, settings, glossary)
    segments = list(segments)
    for c in checks:
        c.prepare(segments)
    out = []
    for seg in segments:
        findings = [c.run(seg) for c in checks]
        weak = sum(c.params.weight * f.badness for c, f in zip(checks, findings))
        flags = [f.check for f in findings if not f.accepted]
        out.append(SegmentScore(seg.seg_id, round(weak, 6), weak >= settings.flag_threshold, flags, findings))
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
