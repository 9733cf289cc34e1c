"""Numbers, dates, quotes and brackets that do not match between source and target.

``numbers``: every number is reduced to its digits (``6,700``, ``6 700``, ``6700`` are
the same; ``1.5`` and ``1,5`` too) and the two multisets are compared. A target number
absent from the source is blamed where it stands; a source number absent from the
target is blamed on the whole target (there is nothing to point at). Numbers up to 12
may be written as words on either side and are tolerated. A month named in the target
that is not a month of the source is blamed as a wrong date.

``brackets``: unbalanced brackets or guillemets in the target, and quotes or brackets of
the source that vanished in the target.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from workflow.scoring.checks.base import Check, CheckInput, CheckParams, Span, register

NUM_EN = re.compile(r"\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
NUM_CYR = re.compile(r"\d{1,3}(?:[\u00A0\u202F\u2009 ]\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?")
SMALL = 12
EN_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
EN_WORDS.update({"dozen": 12, "dozens": 12, "first": 1, "second": 2, "third": 3, "fourth": 4,
                 "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10})

EN_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
             "september", "october", "november", "december"]
MONTH_STEMS = {
    "ru": ["январ", "феврал", "март", "апрел", "ма[йяюе]", "июн", "июл", "август",
           "сентябр", "октябр", "ноябр", "декабр"],
    "be": ["студзен", "лют", "сакавік", "красавік", "(?:ма[йяюі]|травен|траўн)", "чэрвен|чэрвен", "ліп",
           "жні[ўв]", "верас", "кастрычнік", "лістапад", "снеж"],
}


TENS = re.compile(r"\b(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred)\b", re.I)
PM = re.compile(r"\b(\d{1,2})(?:[:.]\d\d)?\s*(?:p\.?m\.?)(?!\w)", re.I)


def _key(num: str) -> str:
    """Digits only, trailing zeros dropped: 6,700 = 6 700 = 67 (hundred); 12,000 = "12 тысяч"."""
    return re.sub(r"\D", "", num).lstrip("0").rstrip("0") or "0"


def numbers(text: str, lang: str) -> list[tuple[int, int, str]]:
    pat = NUM_EN if lang == "en" else NUM_CYR
    return [(m.start(), m.end(), _key(m.group())) for m in pat.finditer(text)]


@register("numbers")
class Numbers(Check):
    """score: the number of mismatches (a target number not in the source, a source number
    missing, a wrong month) (lower is better). accept: score == 0."""

    severity = "major"
    higher_is_better = False

    @dataclass(frozen=True)
    class Params(CheckParams):
        # fitted 0.15 on 17 firings; raised by hand: a changed number is an accuracy error
        weight: float = 0.6

    def score(self, inp: CheckInput):
        src = numbers(inp.source, "en")
        tgt = numbers(inp.mt, self.lang)
        # optional equivalents: 3 p.m. is 15:00 in the target; COVID-19 may come out as
        # "коронавирус" (and "Covid" as "COVID-19")
        implied = [_key(str(int(h) + 12)) for h in PM.findall(inp.source) if int(h) < 12]
        if re.search(r"covid|коронавирус|каранавірус", inp.source + inp.mt, re.I):
            implied.append("19")
        spans: list[Span] = []
        src_count = Counter(k for _, _, k in src)
        tgt_count = Counter(k for _, _, k in tgt)
        src_words = {v for w, v in EN_WORDS.items() if re.search(rf"\b{w}\b", inp.source, re.I)}
        left = src_count + Counter(implied)
        for s, e, k in tgt:
            if left[k] > 0:
                left[k] -= 1
            elif int(k) <= SMALL and (int(k) in src_words or not src):
                continue
            elif len(k) <= 2 and int(k) <= SMALL:
                continue  # "the 2 sides", list numbering: too weak a signal
            elif int(k) < 100 and TENS.search(inp.source):
                continue  # "thirty-one" written as 31
            else:
                spans.append(Span(s, e, f"number {inp.mt[s:e]} not in the source"))
        missing = [k for k in (src_count - tgt_count) if int(k) > SMALL and k not in implied]
        shown = {k: inp.source[a:b] for a, b, k in reversed(src)}
        for k in missing:
            spans.append(Span(0, len(inp.mt), f"source number {shown.get(k, k)} missing"))
        spans += self._months(inp)
        return float(len(spans)), spans, min(1.0, 0.6 + 0.2 * len(spans))

    def _months(self, inp: CheckInput) -> list[Span]:
        stems = MONTH_STEMS.get(self.lang)
        if not stems:
            return []
        src_months = {i for i, m in enumerate(EN_MONTHS) if re.search(rf"\b{m.capitalize()}\b", inp.source)}
        if not src_months:
            return []
        out = []
        for i, st in enumerate(stems):
            if i in src_months:
                continue
            for m in re.finditer(rf"(?<!\w)(?:{st})\w*", inp.mt, re.I):
                if i == 4 and not src_months - {4}:  # "мая"/"май": only when a date is expected
                    continue
                if re.search(r"\d\s*$", inp.mt[: m.start()]) or re.match(r"\w*\s*\d", inp.mt[m.start():]):
                    out.append(Span(m.start(), m.end(), f"month {m.group()!r} not in the source"))
        return out

    def accept(self, score: float) -> bool:
        return score == 0


OPEN_CLOSE = {"(": ")", "[": "]", "{": "}", "«": "»", "„": "“"}


@register("brackets")
class Brackets(Check):
    """score: the number of unbalanced brackets, guillemets or quotes, and of source
    brackets or quotes missing in the target (lower is better). accept: score == 0."""

    severity = "minor"
    higher_is_better = False

    @dataclass(frozen=True)
    class Params(CheckParams):
        weight: float = 0.73  # fitted

    def score(self, inp: CheckInput):
        mt = inp.mt
        spans: list[Span] = []
        for o, c in OPEN_CLOSE.items():
            if o == "„":
                continue
            stack: list[int] = []
            for i, ch in enumerate(mt):
                if ch == o:
                    stack.append(i)
                elif ch == c:
                    if stack:
                        stack.pop()
                    else:
                        spans.append(Span(i, i + 1, f"unmatched {c!r}"))
            spans += [Span(i, i + 1, f"unmatched {o!r}") for i in stack]
        if mt.count('"') % 2 == 1:
            i = mt.rfind('"')
            spans.append(Span(i, i + 1, "odd number of quotation marks"))
        src_paren = inp.source.count("(")
        if src_paren and not mt.count("(") and not mt.count("["):
            spans.append(Span(0, len(mt), "source brackets missing"))
        src_quoted = len(re.findall(r"[\"“”«»]", inp.source)) >= 2
        if src_quoted and not re.search(r"[\"“”«»„]", mt):
            spans.append(Span(0, len(mt), "source quotation marks missing"))
        return float(len(spans)), spans, min(1.0, 0.5 + 0.25 * len(spans))

    def accept(self, score: float) -> bool:
        return score == 0
