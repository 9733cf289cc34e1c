"""Untranslated: Latin-script spans left in a Cyrillic target.

Runs of Latin words (with the spaces, digits and ``&.-'`` between them) are blamed,
except accepted Latin forms of glossary names present in the source (``Amnesty
International``), URLs, e-mail addresses, @handles and #hashtags, Roman numerals and
single letters. Professional annotators mark brand and place names left in Latin as
"Untranslated" too (MQM), so a name that should stay Latin belongs in the glossary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workflow.scoring.checks.base import Check, CheckInput, CheckParams, Span, register

RUN = re.compile(r"[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F0-9'’&.\-]*(?:\s+[A-Za-z\u00C0-\u024F0-9][A-Za-z\u00C0-\u024F0-9'’&.\-]*)*")
SKIP = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|[@#]\w+")
ROMAN = re.compile(r"[IVXLCDM]+")


@register("untranslated")
class Untranslated(Check):
    """score: the number of Latin-script spans left in the target (lower is better).
    accept: score == 0. badness: the risk of the riskiest span (``_risk``)."""

    severity = "major"
    languages = ("be", "ru", "uk")
    higher_is_better = False

    @dataclass(frozen=True)
    class Params(CheckParams):
        weight: float = 1.92  # fitted

    def score(self, inp: CheckInput):
        mt = inp.mt
        blocked = [(m.start(), m.end()) for m in SKIP.finditer(mt)]
        g = self.ctx.glossary
        if g is not None:
            blocked += g.latin_allowed(mt, self.lang, inp.source)
        spans = []
        worst = 0.0
        for m in RUN.finditer(mt):
            s, e = m.start(), m.end()
            text = m.group().rstrip(".-'’ ")
            e = s + len(text)
            if any(bs <= s and e <= be for bs, be in blocked):
                continue
            if len(text) < 2 or ROMAN.fullmatch(text):
                continue
            spans.append(Span(s, e, f"Latin text {text!r} left untranslated"))
            worst = max(worst, self._risk(text, inp.source))
        return float(len(spans)), spans, worst

    @staticmethod
    def _risk(text: str, source: str) -> float:
        """How likely a Latin span is a real error (measured on WMT21 MQM, see bench/README.md):
        English words or text not copied from the source are nearly always errors; names
        copied from the source are errors about 40% of the time; acronyms and multi-word
        titles (CNN, Fox News Sunday) copied from the source rarely."""
        if text not in source or text[0].islower():
            return 1.0
        if text.isupper() or " " in text:
            return 0.3
        return 0.6

    def accept(self, score: float) -> bool:
        return score == 0
