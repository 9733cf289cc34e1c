"""Reference-based metrics: sacrebleu BLEU, chrF++ and TER, corpus and segment level.

Every corpus score carries its sacrebleu signature (print it next to the number: a score
without its signature cannot be compared). Defaults are sacrebleu's own (BLEU ``13a``
tokenizer, chrF++ = chrF with word order 2, TER defaults), which is what WMT reports;
no text normalisation is applied here: ``ё``/``е`` and Latin/Cyrillic homoglyphs count
as different characters, the way the official scorers see them.

Comparing two systems (or two runs) on the same segments uses sacrebleu's own paired
significance tests (``paired_test``: approximate randomisation ``ar`` or paired
bootstrap ``bs``) with a fixed seed (``SACREBLEU_SEED``, default 12345), so reruns give
the same p-values.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.significance import PairedTest

METRICS = ("bleu", "chrf", "ter")


@dataclass(frozen=True)
class CorpusScore:
    metric: str  # bleu | chrf | ter ("chrf" is chrF++ unless word_order=0)
    score: float
    signature: str
    detail: str  # sacrebleu's own formatted line (BLEU shows n-gram precisions, BP ...)

    def __str__(self) -> str:
        return f"{self.detail}  [{self.signature}]"


def make_metric(name: str, target_lang: str | None = None, *, chrf_word_order: int = 2):
    """A sacrebleu metric object. ``chrf`` is chrF++ (word order 2) unless told otherwise."""
    if name == "bleu":
        return BLEU(trg_lang=target_lang or "")
    if name == "bleu-sentence":
        return BLEU(trg_lang=target_lang or "", effective_order=True)
    if name == "chrf":
        return CHRF(word_order=chrf_word_order)
    if name == "ter":
        return TER()
    raise ValueError(f"unknown metric {name!r} (known: {', '.join(METRICS)})")


def _check_lengths(hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> None:
    for i, r in enumerate(refs):
        if len(r) != len(hyps):
            raise ValueError(f"reference stream {i + 1} has {len(r)} segments, hypotheses {len(hyps)}")


def corpus_scores(
    hyps: Sequence[str],
    refs: Sequence[Sequence[str]],
    metrics: Sequence[str] = METRICS,
    target_lang: str | None = None,
    *,
    chrf_word_order: int = 2,
) -> dict[str, CorpusScore]:
    """Corpus BLEU / chrF(++) / TER of ``hyps`` against one or more reference streams.

    ``refs`` is a list of streams, each as long as ``hyps`` (sacrebleu's layout).
    ``chrf_word_order=0`` gives plain chrF (what WMT's ``chrf-all`` is), 2 gives chrF++.
    """
    hyps = list(hyps)
    refs = [list(r) for r in refs]
    _check_lengths(hyps, refs)
    out = {}
    for name in metrics:
        m = make_metric(name, target_lang, chrf_word_order=chrf_word_order)
        s = m.corpus_score(hyps, refs)
        out[name] = CorpusScore(name, float(s.score), str(m.get_signature()), s.format(score_only=False))
    return out


def sentence_scores(
    hyps: Sequence[str],
    refs: Sequence[Sequence[str]],
    metrics: Sequence[str] = METRICS,
    target_lang: str | None = None,
) -> list[dict[str, float]]:
    """Per-segment scores: BLEU (effective order, as sacrebleu recommends), chrF++, TER.

    Segments whose reference is empty in every stream get no score (an empty dict).
    """
    hyps = list(hyps)
    refs = [list(r) for r in refs]
    _check_lengths(hyps, refs)
    objs = {n: make_metric("bleu-sentence" if n == "bleu" else n, target_lang) for n in metrics}
    out: list[dict[str, float]] = []
    for i, h in enumerate(hyps):
        rs = [r[i] for r in refs if r[i] and r[i].strip()]
        if not rs:
            out.append({})
            continue
        out.append({n: float(m.sentence_score(h, rs).score) for n, m in objs.items()})
    return out


def signatures(metrics: Sequence[str] = METRICS, target_lang: str | None = None, n_refs: int = 1) -> dict[str, str]:
    """Signatures of the metrics as configured here (sacrebleu needs one evaluation for nrefs)."""
    out = {}
    for n in metrics:
        m = make_metric(n, target_lang)
        m.corpus_score(["x"], [["x"]] * n_refs)
        out[n] = str(m.get_signature())
    return out


@dataclass(frozen=True)
class Comparison:
    metric: str
    baseline: str
    system: str
    baseline_score: float
    system_score: float
    p_value: float | None
    test: str  # "ar" (approximate randomisation) or "bs" (paired bootstrap)
    signature: str

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < 0.05

    def __str__(self) -> str:
        p = "n/a" if self.p_value is None else f"{self.p_value:.4f}"
        star = " *" if self.significant else ""
        return (f"{self.metric}: {self.baseline} {self.baseline_score:.2f} vs {self.system} "
                f"{self.system_score:.2f} (p = {p}{star})  [{self.signature}]")


def paired_test(
    systems: dict[str, Sequence[str]],
    refs: Sequence[Sequence[str]],
    metrics: Sequence[str] = ("bleu", "chrf"),
    *,
    test: str = "ar",
    n_samples: int = 0,
    seed: int = 12345,
    target_lang: str | None = None,
) -> list[Comparison]:
    """Paired significance of every system against the first (the baseline).

    Uses sacrebleu's ``PairedTest`` (its ``_paired_ar_test`` / ``_paired_bs_test``);
    ``n_samples`` 0 means sacrebleu's defaults (10,000 AR trials, 1,000 bootstrap
    resamples). The seed is passed the only way sacrebleu takes it, ``SACREBLEU_SEED``,
    set for the duration of the call.
    """
    if test not in ("ar", "bs"):
        raise ValueError("test must be 'ar' (approximate randomisation) or 'bs' (paired bootstrap)")
    if len(systems) < 2:
        raise ValueError("paired_test needs a baseline and at least one other system")
    named = [(name, list(h)) for name, h in systems.items()]
    refs = [list(r) for r in refs]
    for _, h in named:
        _check_lengths(h, refs)
    objs = {n: make_metric(n, target_lang) for n in metrics}
    old = os.environ.get("SACREBLEU_SEED")
    os.environ["SACREBLEU_SEED"] = str(seed)
    try:
        logging.getLogger("sacrebleu").setLevel(logging.WARNING)
        sigs, scores = PairedTest(named, objs, refs, test_type=test, n_samples=n_samples)()
    finally:
        if old is None:
            os.environ.pop("SACREBLEU_SEED", None)
        else:
            os.environ["SACREBLEU_SEED"] = old
    out = []
    base_name = named[0][0]
    for key, results in scores.items():
        if key == "System":
            continue
        base = results[0]
        for name, res in zip(scores["System"][1:], results[1:]):
            metric = next((n for n in metrics if key.lower().startswith(n[:3])), key)
            out.append(Comparison(metric, base_name, name, float(base.score), float(res.score),
                                  None if res.p_value is None else float(res.p_value), test, str(sigs[key])))
    return out
