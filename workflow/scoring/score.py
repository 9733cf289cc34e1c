"""The one scoring function: every translated segment gets the reference-free checks and
one weak-spot score. ``workflow run``, ``workflow score`` and ``workflow qe`` all call
:func:`score_segments`, so the same English/translation pair gets the same score from
each of them.

Three layers: structural signals every translation has (empty, identical to the source,
wrong script, and the length ratio), the registered checks of ``workflow.scoring.checks``
(language, spelling, names, numbers, confidence, round trip, ...), and, with
``checks.scorer = "model"`` (the default), the learned weak-spot model
(``workflow.scoring.weakspot``), which turns the checks' findings and the encoder's
cross-lingual features into the probability that a professional reviewer finds a major
error; a structural flag makes it 1. The weakest ``checks.review_budget`` share of the
segments scored together (a run's segments of one target language, a ``workflow qe``
file) is flagged, and any at or above ``checks.flag_probability``. Blamed spans are the
words the model's word layer finds weakest plus the checks' spans shorter than half the
text. When the encoder or the model cannot be loaded, one note says why and the checks'
weighted sum scores instead (each structural flag adds ``STRUCTURAL_WEIGHT`` so an empty
output ranks first); ``SegmentVerdict.scorer`` records which scored. A project's refit
(``workflow.scoring.refit``, stored at ``checks.refit_weights``) replaces the shipped
model's probability when one is in force. Within a process, each English sentence is
encoded once for all target languages and each (English, translation) pair's encoder
features are kept (bounded), so a second scoring of the same pairs costs only the checks.
The encoder runs in a thread beside the checks (CTranslate2 computes outside Python's lock).
"""

from __future__ import annotations

import collections
import functools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workflow.core.config import Checks
from workflow.core.progress import Reporter
from workflow.core.records import SegmentVerdict
from workflow.core.text import CYRILLIC, LATIN
from workflow.scoring import weakspot
from workflow.scoring.checks import REGISTRY, CheckInput, Glossary, SegmentScore, backtranslations, run_checks
from workflow.scoring.encoder import EncoderUnavailable, get_encoder

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
    reporter: Reporter | None = None,
    other: Mapping[str, Sequence[str]] | None = None,
) -> list[SegmentVerdict]:
    """Score translations ``outputs`` of ``sources`` into ``target`` (same order).

    ``settings`` is the ``[checks]`` section; ``logprobs`` (engine confidence) and
    ``backtranslate`` (the reverse model, for the round trip) are optional: the checks
    that need them are skipped without them. ``reporter`` shows the encoder's progress
    and the note when the model cannot be used (without one, that note is a warning).
    ``other`` holds the other target languages' translations of the same sources
    ({target: texts, same order}), for the checks that compare the targets (``crosscheck``)."""
    n = len(sources)
    if len(outputs) != n:
        raise ValueError(f"{n} sources but {len(outputs)} translations")
    seg_ids = list(seg_ids) if seg_ids is not None else [str(i + 1) for i in range(n)]
    logprobs = list(logprobs) if logprobs is not None else [None] * n
    back = backtranslations(list(outputs), backtranslate)
    for t, texts in (other or {}).items():
        if len(texts) != n:
            raise ValueError(f"{n} sources but {len(texts)} {t} translations in other")
    others = [{t: texts[k] for t, texts in (other or {}).items() if t != target} for k in range(n)]
    inputs = [CheckInput(i, s, o, lp, b, ot or None)
              for i, s, o, lp, b, ot in zip(seg_ids, sources, outputs, logprobs, back, others)]
    structural = [structural_flags(src, out, target) for src, out in zip(sources, outputs)]
    setup = model_setup(list(sources), list(outputs), settings, reporter) if settings.scorer == "model" and n else None
    if setup is None or not setup.todo:
        results = run_checks(inputs, target, settings, glossary=glossary)
    else:
        # the encoder (CTranslate2 releases the GIL) runs in a thread beside the checks (Python):
        # on 2 cores the encoding costs the wall time of whichever of the two takes longer
        with (reporter or Reporter()).bar("Weak-spot model: encoding", len(setup.texts)) as bar, \
                ThreadPoolExecutor(max_workers=1) as pool:
            job = pool.submit(pair_evidence, setup, bar.advance)
            results = run_checks(inputs, target, settings, glossary=glossary)
            setup.known.update(job.result())
    learned = None if setup is None else learned_scores(setup, list(sources), list(outputs), results, target, logprobs)
    if learned is None:
        verdicts = []
        for (ratio, struct), res in zip(structural, results):
            flags = list(dict.fromkeys(list(struct) + list(res.flags)))
            weak = res.weak_score + STRUCTURAL_WEIGHT * len(struct)
            spans = [{"start": a, "end": b, "reason": r} for a, b, r in res.spans]
            verdicts.append(SegmentVerdict(ratio, round(weak, 4), bool(res.flagged or struct), flags, spans))
        return verdicts
    probs, word_spans = learned
    probs = [1.0 if struct else round(float(p), 4) for p, (_, struct) in zip(probs, structural)]
    flagged = budget_flags(probs, settings.review_budget, settings.flag_probability)
    # a check the model has no feature for (Check.in_model False: Belarusian leakage, ...) flags by itself
    flagged = [f or any(not x.accepted and not REGISTRY[x.check].in_model for x in res.findings)
               for f, res in zip(flagged, results)]
    verdicts = []
    for out, (ratio, struct), res, p, flag, words in zip(outputs, structural, results, probs, flagged, word_spans):
        flags = list(dict.fromkeys(list(struct) + list(res.flags)))
        short = [(a, b, r) for a, b, r in res.spans if b - a < 0.5 * max(1, len(out))]
        spans = [{"start": a, "end": b, "reason": r} for a, b, r in sorted(short + words)]
        verdicts.append(SegmentVerdict(ratio, p, bool(flag or struct), flags, spans, scorer="model"))
    return verdicts


def budget_flags(probs: Sequence[float], budget: float, threshold: float) -> list[bool]:
    """Flag the ``budget`` share of segments with the highest probability (ties by order;
    at least one segment when the budget is above 0), and any at or above ``threshold``."""
    order = sorted(range(len(probs)), key=lambda i: (-probs[i], i))
    k = min(len(probs), math.ceil(budget * len(probs) - 1e-9)) if budget > 0 else 0
    top = set(order[:k])
    return [i in top or p >= threshold for i, p in enumerate(probs)]


def _note(reporter: Reporter | None, message: str) -> None:
    if reporter is not None:
        reporter.info(message)
    else:
        warnings.warn(message, RuntimeWarning, stacklevel=3)


PAIR_MEMO = 50_000  # (English, translation) pairs whose encoder features are kept (a rescore reuses them)
_PAIRS: collections.OrderedDict = collections.OrderedDict()  # (source, mt) -> (pair features, blamed words)
_SIGNALS: collections.OrderedDict = collections.OrderedDict()  # (target, source, mt) -> refit inputs (workflow.scoring.refit)


def _remember(memo: collections.OrderedDict, key, value) -> None:
    memo[key] = value
    memo.move_to_end(key)
    while len(memo) > PAIR_MEMO:
        memo.popitem(last=False)


def signals(target: str, source: str, mt: str) -> np.ndarray | None:
    """The refit inputs (``weakspot.REFIT_INPUTS``) the last scoring of this pair in this
    process computed, or None."""
    return _SIGNALS.get((target, source, mt))


@dataclass
class ModelSetup:
    """What the learned scorer needs before the checks run: the model, the refit in force,
    the pairs whose encoder evidence is known and those still to encode (with the encoder)."""

    model: weakspot.WeakSpotModel
    refit: weakspot.Refit | None
    known: dict  # (source, mt) -> (pair features, blamed words)
    todo: list  # (source, mt) pairs to encode, each once
    encoder: object | None  # workflow.scoring.encoder.Encoder when todo is not empty
    remember: list  # the English, kept by the encoder for the run's next target language

    @functools.cached_property
    def texts(self) -> list[str]:
        """The distinct texts of ``todo``, to encode (the English first)."""
        return list(dict.fromkeys([s for s, _ in self.todo] + [o for _, o in self.todo]))


def model_setup(sources: list[str], outputs: list[str], settings: Checks, reporter: Reporter | None) -> ModelSetup | None:
    """The shipped model, the project's refit (``checks.refit_weights``) and the encoder when
    pairs need encoding; None after one note saying why the model cannot be used (the caller
    falls back to the checks)."""
    try:
        model = weakspot.shipped_model()
        refit = weakspot.load_refit(Path(settings.refit_weights))
        pairs = list(dict.fromkeys(zip(sources, outputs)))
        known = {p: _PAIRS[p] for p in pairs if p in _PAIRS}
        todo = [p for p in pairs if p not in known]
        encoder = get_encoder(settings.encoder_cache, reporter) if todo else None
    except (EncoderUnavailable, ImportError, OSError, ValueError) as e:
        _note(reporter, f"weak-spot model not available ({e}); scoring with the checks' weighted sum instead")
        return None
    return ModelSetup(model, refit, known, todo, encoder, sources)


def pair_evidence(setup: ModelSetup, advance: Callable[[int], None] | None = None) -> dict:
    """{(source, mt): (pair features, blamed words)} of ``setup.todo``, remembered (bounded)
    for a later scoring of the same pairs; ``advance(n)`` after each encoded batch."""
    # the English is kept for the run's next target language (encoded once per run)
    encoded = dict(zip(setup.texts, setup.encoder.encode(setup.texts, progress=advance, remember=setup.remember)))
    out = {}
    for src, mt in setup.todo:
        s, t = encoded[src], encoded[mt]
        al = weakspot.align(s, t)
        out[(src, mt)] = (weakspot.pair_features(src, mt, s, t, al), weakspot.blamed_words(setup.model, mt, s, t, al))
        _remember(_PAIRS, (src, mt), out[(src, mt)])
    return out


def learned_scores(
    setup: ModelSetup, sources: list[str], outputs: list[str], results: list[SegmentScore], target: str = "",
    logprobs: Sequence[float | None] | None = None,
) -> tuple[np.ndarray, list[list[tuple[int, int, str]]]]:
    """(probability per segment, blamed word spans per segment) from the learned model (or the
    project's refit when one is in force), the checks' ``results`` and the pairs' evidence."""
    model, refit = setup.model, setup.refit
    pairs = [setup.known[p] for p in zip(sources, outputs)]
    X = np.array([weakspot.check_features(res.findings) + feats for res, (feats, _) in zip(results, pairs)])
    rt = [next((f.score for f in res.findings if f.check == "roundtrip" and f.skipped is None), None) for res in results]
    S = weakspot.refit_inputs(model, X, list(logprobs) if logprobs is not None else [None] * len(X), rt)
    for key, row in zip(zip(sources, outputs), S):
        _remember(_SIGNALS, (target, *key), row)
    probs = refit.probability(S) if refit is not None else model.probability(X)
    return probs, [spans for _, spans in pairs]
