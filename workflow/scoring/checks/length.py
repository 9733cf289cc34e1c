"""Length ratio outliers, repetition (looping n-grams) and truncation.

Length bounds: ``[checks.length] ratio`` in config.toml, per target language.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from workflow.core.langs import LANGUAGES
from workflow.scoring.checks.base import Check, CheckInput, CheckParams, Span, register

TOKEN = re.compile(r"\w+|[^\w\s]")
SENT_END = re.compile(r"[.!?…][\"'”’»)\]]*\s*$")
BAD_END = re.compile(r"(?:[,;:\-–—(«„“]|\b(?:и|а|но|в|на|с|по|к|о|не|што|і|ды|у|з|за|для|that|and))\s*$", re.I)
DEFAULT_RATIO = (0.6, 1.9)  # accepted length ratio for a target that [checks.length] ratio does not list


@register("length")
class LengthRatio(Check):
    """score: characters of target / characters of source, each +10 so short lines are
    not outliers (two-sided). accept: ``low <= score <= high``, the bounds of ``ratio``
    for the target language (``DEFAULT_RATIO`` for a language it does not list)."""

    severity = "major"
    higher_is_better = None

    @dataclass(frozen=True)
    class Params(CheckParams):
        ratio: dict[str, tuple[float, float]] = field(
            default_factory=lambda: {"be": DEFAULT_RATIO, "ru": DEFAULT_RATIO}
        )  # accepted (low, high) length ratio per target language
        weight: float = 0.44  # fitted (31 firings)

        def problems(self) -> dict[str, str]:
            out = {}
            for lang, (low, high) in self.ratio.items():
                if lang not in LANGUAGES:
                    out[f"ratio.{lang}"] = f"unknown language {lang!r}"
                elif low > high:
                    out[f"ratio.{lang}"] = f"low bound {low} is above high bound {high}"
            return out

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.low, self.high = self.params.ratio.get(self.lang, DEFAULT_RATIO)

    def score(self, inp: CheckInput):
        r = (len(inp.mt.strip()) + 10) / (len(inp.source.strip()) + 10)
        return r, [Span(0, len(inp.mt), f"length ratio {r:.2f} outside {self.low}-{self.high}")]

    def accept(self, score: float) -> bool:
        return self.low <= score <= self.high

    def badness(self, score: float) -> float:
        if score < self.low:
            return min(1.0, 0.5 + (self.low - score) / self.low)
        return min(1.0, 0.5 + (score - self.high) / self.high)


def _loop_spans(loops: list[tuple[int, int, str]], scattered: list[tuple[int, str]], length: int) -> list[Span]:
    """One span per stretch of overlapping loops, naming its first loop and how many more it
    holds (the same stretch loops at several n-gram lengths: one reason each would repeat it),
    and one span for all scattered 4-grams; the blamed characters are the same as one span per loop."""
    spans, run = [], []
    for loop in sorted(loops, key=lambda x: (x[0], -x[1])):  # stable: the shortest n-gram first
        if run and loop[0] >= max(e for _, e, _ in run):
            spans.append(_merged(run))
            run = []
        run.append(loop)
    if run:
        spans.append(_merged(run))
    if scattered:
        more = f" (+{len(scattered) - 1} more 4-grams)" if len(scattered) > 1 else ""
        spans.append(Span(0, length, f"{scattered[0][1]!r} occurs {scattered[0][0]} times{more}"))
    return spans


def _merged(run: list[tuple[int, int, str]]) -> Span:
    more = f" (+{len(run) - 1} more loops)" if len(run) > 1 else ""
    return Span(run[0][0], max(e for _, e, _ in run), run[0][2] + more)


@register("repetition")
class Repetition(Check):
    """An n-gram (1-6 tokens) repeated back to back (3 times, or twice for n >= 2) more than in the source.

    score: the number of such loops, and of 4-grams occurring three times or more (lower is
    better). accept: score == 0. Spans: one per stretch of overlapping loops (with the
    number of loops it holds) and one for the scattered 4-grams."""

    severity = "major"
    higher_is_better = False

    @dataclass(frozen=True)
    class Params(CheckParams):
        weight: float = 0.87  # fitted (13 firings: weakly determined)

    def score(self, inp: CheckInput):
        toks = [(m.start(), m.end(), m.group().lower()) for m in TOKEN.finditer(inp.mt)]
        words = [t for t in toks if t[2][0].isalnum()]
        loops = []  # (start, end, reason) of each back-to-back loop
        src_lower = inp.source.lower()
        for n in range(1, 7):
            need = 3 if n == 1 else 2
            i = 0
            while i + n * need <= len(words):
                gram = [w[2] for w in words[i:i + n]]
                reps = 1
                while i + (reps + 1) * n <= len(words) and [w[2] for w in words[i + reps * n:i + (reps + 1) * n]] == gram:
                    reps += 1
                if reps >= need and not (n == 1 and gram[0].isdigit()):
                    phrase = " ".join(gram)
                    if src_lower.count(phrase) < 2 or reps >= 3:
                        loops.append((words[i][0], words[i + reps * n - 1][1], f"{phrase!r} repeated {reps} times"))
                    i += reps * n
                else:
                    i += 1
        # loops that are not back to back: a 4-gram three or more times
        grams = Counter(tuple(w[2] for w in words[i:i + 4]) for i in range(len(words) - 3))
        scattered = sorted(((c, " ".join(g)) for g, c in grams.items()
                            if c >= 3 and src_lower.count(" ".join(g)) < 2), key=lambda x: -x[0])
        return float(len(loops) + len(scattered)), _loop_spans(loops, scattered, len(inp.mt))

    def accept(self, score: float) -> bool:
        return score == 0


@register("truncation")
class Truncation(Check):
    """The source ends a sentence but the target stops short (no final punctuation, a dangling word).

    score: 1 when the target stops short, 0 when it ends a sentence (lower is better); skipped
    when the source does not end a sentence. accept: score == 0."""

    severity = "critical"
    higher_is_better = False

    @dataclass(frozen=True)
    class Params(CheckParams):
        weight: float = 1.0  # hand-set (11 firings)

    def score(self, inp: CheckInput):
        src, mt = inp.source.strip(), inp.mt.rstrip()
        if not SENT_END.search(src) or len(src) < 20:
            self.skip_reason = "source does not end a sentence"
            return None, []
        if not mt:
            return 1.0, [Span(0, 0, "empty translation")]
        if SENT_END.search(mt) and not BAD_END.search(mt):
            return 0.0, []
        start = max(0, len(mt) - 12)
        ratio = len(mt) / max(1, len(src))
        bad = 1.0 if ratio < 0.5 else 0.6
        if not BAD_END.search(mt) and ratio >= 0.8:
            bad = 0.3  # only the final full stop is missing
        return 1.0, [Span(start, len(mt), "target stops short: no sentence end")], bad

    def accept(self, score: float) -> bool:
        return score == 0
