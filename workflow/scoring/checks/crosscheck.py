"""BE<->RU cross-check: the other target language's translation as evidence for this one.

The other target's text is brought into this target's language with Apertium (Russian
-> Belarusian for a Belarusian segment, Belarusian -> Russian for a Russian one; one
batched call per run, see ``workflow.scoring.belarusian.apertium``) and compared word by
word with this target's text, so every blamed word is a word of the checked text:

- **numbers**: a number here that neither the other target nor the English has (nor the
  English's figures in metric units, 24-hour time or as a decade, rounded as translators
  round: 40 miles, 65 км; 3 p.m., 15:00);
- **names**: a capitalised word inside the sentence whose consonant skeleton (Ціханоўская,
  Тихановская, Tsikhanouskaya: ``tgnvsk``) matches no name of the other target nor of the
  English (whose names count also part by part and without a silent h: Ann-Laure, Анн;
  Reeher, Риер);
- **omission**: a run of ``min_run`` or more content words of the other target (after
  Apertium) with no counterpart here, while this text is also short for its English
  (length against the usual ratio to its English, USUAL_LENGTH) and shorter than the other target is; the
  word where the gap begins is blamed and the reason quotes the missing words.

The English arbitrates: a number or name the English has is never blamed here (the other
target is then the one that lost it, and its own cross-check says so). Skipped when
Apertium is not installed or the segment has no other-target translation. Like
``leakage`` it is not a feature of the learned model (``in_model = False``): a failure
flags the segment (bench/belarusian.py measures the false flags on clean NTREX).
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass

from workflow.core.text import LATIN, words
from workflow.scoring.belarusian import apertium
from workflow.scoring.checks.lemmas import common_word
from workflow.scoring.checks.base import Check, CheckInput, CheckParams, Span, register

PIVOT = {"be": ("ru", "rus-bel"), "ru": ("be", "bel-rus")}  # target: (other target, Apertium pair into target)
LANG_NAME = {"be": "Belarusian", "ru": "Russian"}
NUMBER = re.compile(r"\d+(?:[.,\u00a0 ]\d+)*")
_VOWELS = set("аеёиіоуўыэюяйьъ'’ʼaeiouyj")  # ў: Аўлія, Aulia; Наўэрт, Науэрт
# one consonant class per sound, for Cyrillic (be and ru) and Latin spellings of a name
_CONSONANT = {**dict.fromkeys("бb", "b"), **dict.fromkeys("вvw", "v"), **dict.fromkeys("гґхghxж", "g"),
              **dict.fromkeys("дd", "d"), **dict.fromkeys("зzs", "s"), **dict.fromkeys("кkcq", "k"),
              **dict.fromkeys("лl", "l"), **dict.fromkeys("мm", "m"), **dict.fromkeys("нn", "n"),
              **dict.fromkeys("пp", "p"), **dict.fromkeys("рr", "r"), **dict.fromkeys("с", "s"),
              **dict.fromkeys("тt", "t"), **dict.fromkeys("фf", "f"), **dict.fromkeys("ц", "t"),
              **dict.fromkeys("чшщ", "s")}
_DIGRAPHS = (("shch", "s"), ("sch", "s"), ("sh", "s"), ("ch", "s"), ("kh", "g"), ("zh", "ж"), ("ts", "t"), ("th", "t"),
             ("дж", "ж"), ("дз", "д"), ("j", "ж"))
# one class for з/с (voicing: Блэйзі, Блейси) and for г/х/ж/дж/j/g (Giles: Джайлз, Гайлз; Sergio:
# Серджыа, Серхио)
_SOFT_BE = re.compile(r"ц(?=[іеёюяь])")  # Belarusian ці/ць is Russian ти/ть (Ціханоўская, Тихановская)


def skeleton(word: str) -> str:
    """The consonants of a name in one alphabet for be, ru and Latin spellings."""
    w = _SOFT_BE.sub("т", word.lower())
    for a, b in _DIGRAPHS:
        w = w.replace(a, b)
    out = [_CONSONANT.get(ch, "") for ch in w if ch not in _VOWELS]
    s = "".join(out)
    return re.sub(r"(.)\1+", r"\1", s)  # doubled letters (Леннон, Lennon) once


def _same_name(a: str, b: str) -> bool:
    """Skeletons alike: equal, one the start of the other (case endings: Муна, Мунам), the
    same first three consonants, or at least 75% alike (difflib; 80% for short ones); a
    leading v may be missing on one side (Wales, Уэльс)."""
    for x, y in ((a, b), (a.removeprefix("v"), b), (a, b.removeprefix("v"))):
        if not x or not y:
            continue
        short, long_ = sorted((x, y), key=len)
        if long_.startswith(short) and (len(short) >= 2 or len(long_) <= 2):
            return True
        if len(short) >= 3 and x[:3] == y[:3]:
            return True
        ratio = difflib.SequenceMatcher(None, x, y).ratio()
        if len(short) >= 2 and ratio >= (0.75 if len(short) >= 4 else 0.8):
            return True
    return False


def _number(s: str) -> str:
    """A number in one spelling: no group separators, decimal point, no leading zeros (07:
    7); a number after ':' (the minutes of 14:00) is not compared."""
    return re.sub(r"[\u00a0 ]", "", s).replace(",", ".").rstrip(".").lstrip("0") or "0"


def _numbers(text: str) -> set[str]:
    return {_number(m.group()) for m in NUMBER.finditer(text) if text[m.start() - 1:m.start()] != ":"}


def _scaled(n: str, known: set[str]) -> bool:
    """``n`` is a known number written with a word for thousands or millions (3000, "3 тысячи")."""
    try:
        v = float(n)
        values = {float(k) for k in known}
    except ValueError:
        return False
    return any(abs(v * f - k) < 1e-6 * max(1.0, k) for k in values for f in (1e3, 1e6, 1e-3, 1e-6))


# A translator may convert the English's units (85 mph -> 137 км/ч, 3 p.m. -> 15:00, the 1930s ->
# 30-е): those numbers are the English's, not disagreements. Factors to the metric unit a
# Russian or Belarusian text uses, applied when the English names the unit.
_UNITS = ((re.compile(r"\b(?:miles?|mph)\b", re.I), (1.609344,)),
          (re.compile(r"\b(?:pounds?|lbs?)\b", re.I), (0.45359237,)),
          (re.compile(r"\binch(?:es)?\b", re.I), (2.54,)),
          (re.compile(r"\b(?:foot|feet|ft)\b", re.I), (0.3048, 30.48)),
          (re.compile(r"\byards?\b", re.I), (0.9144,)),
          (re.compile(r"\bounces?\b|\boz\b", re.I), (28.349523,)),
          (re.compile(r"\bgallons?\b", re.I), (3.785412,)),
          (re.compile(r"\bacres?\b", re.I), (0.404686,)),
          (re.compile(r"\bstones?\b", re.I), (6.350293,)))
_FAHRENHEIT = re.compile(r"°\s*F\b|\bdegrees?\b|\bFahrenheit\b", re.I)
_CELSIUS = re.compile(r"°\s*C\b|\bCelsius\b", re.I)
_PM = re.compile(r"(\d{1,2})(?::\d\d)?\s*p\.?\s?m\b", re.I)
_DECADE = re.compile(r"\b\d\d(\d0)[’']?s\b")


def _roundings(v: float) -> set[float]:
    """The ways a translator writes a converted figure: to the unit below or above, one
    decimal, 1-3 significant figures, the nearest five (from 10 on)."""
    out = {float(math.floor(v)), float(math.ceil(v)), round(v, 1)}
    if v >= 10:
        out.add(5.0 * round(v / 5))
    if v > 0:
        for k in (1, 2, 3):
            out.add(round(v, k - 1 - math.floor(math.log10(v))))
    return out


def _converted(source: str) -> set[float]:
    """Numbers the English's figures become in metric units, in 24-hour time and as decades."""
    values = [float(n) for n in _numbers(source) if n.replace(".", "", 1).isdigit()]
    out: set[float] = set()
    for unit, factors in _UNITS:
        if unit.search(source):
            out |= {r for v in values for f in factors for r in _roundings(v * f)}
    if _FAHRENHEIT.search(source) and not _CELSIUS.search(source):
        out |= {r for v in values for r in _roundings((v - 32) * 5 / 9)}
    out |= {float(int(m.group(1)) + 12) for m in _PM.finditer(source) if int(m.group(1)) < 12}
    out |= {float(m.group(1)) for m in _DECADE.finditer(source)}
    return out


def _is_converted(n: str, converted: set[float]) -> bool:
    try:
        return float(n) in converted
    except ValueError:
        return False


# characters of a translation per character of its English: the median over NTREX-128's 1,997
# human translations (be 1.033, ru 1.104; the same to 0.007 in either half). A fixed figure,
# not the run's own median, so a segment's verdict does not depend on which other segments
# are scored with it (a run goes chunk by chunk; `workflow qe` scores whatever it is given).
USUAL_LENGTH = {"be": 1.03, "ru": 1.10}


def _key(word: str) -> str:
    return word.lower().replace("ё", "е")[:5]


_SILENT_H = re.compile(r"(?<![sckztg])h", re.I)  # Reeher: Риер; not the h of sh, ch, kh, zh, th


def _names(text: str, latin: bool = False) -> list[str]:
    """Skeletons of the capitalised words of ``text``; with ``latin``, of its Latin ones,
    each part of a hyphenated one also on its own (Ann-Laure: Анн; Byeong-seug: Сеуг), and
    also without a silent h (Reeher: Риер)."""
    out = []
    for _, _, w in words(text):
        if not w[0].isupper() or (latin and not LATIN.search(w)):
            continue
        out.append(skeleton(w))
        if latin:
            parts = [p for p in w.split("-") if p] if "-" in w else []
            out += [skeleton(p) for p in parts]
            out += [skeleton(_SILENT_H.sub("", p)) for p in (w, *parts) if _SILENT_H.search(p)]
    return out


@register("crosscheck")
class CrossCheck(Check):
    """score: the number of disagreements with the other target language (numbers, names,
    omitted runs of words; lower is better). accept: score == 0."""

    severity = "major"
    languages = ("be", "ru")
    higher_is_better = False
    in_model = False

    @dataclass(frozen=True)
    class Params(CheckParams):
        min_run: int = 5  # content words of the other target missing here in one stretch: an omission
        max_length_share: float = 0.7  # ... when this text is at most this share of the other target's (normalised)
        max_for_english: float = 0.8  # ... and at most this share of its usual length for its English
        weight: float = 1.0  # hand-set (no second target in the MQM data): one disagreement reaches the flag threshold

        def problems(self) -> dict[str, str]:
            if self.min_run < 1:
                return {"min_run": f"is {self.min_run}; at least 1"}
            for key in ("max_length_share", "max_for_english"):
                if not 0 < getattr(self, key) <= 1:
                    return {key: f"is {getattr(self, key)}; between 0 and 1"}
            return {}

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._pivot: dict[str, str] = {}
        self._common: dict[str, set[str]] = {}  # lang -> lower-cased capitalised words Apertium knows as common words
        self._failure: str | None = None

    def prepare(self, inputs: list[CheckInput]) -> None:
        if self.lang not in PIVOT:
            return
        other, pair = PIVOT[self.lang]
        todo = [i for i in inputs if i.other and (i.other.get(other) or "").strip() and i.mt.strip()]
        if not todo or apertium.available(pair) is not None:
            return
        try:
            self._pivot = dict(zip((i.seg_id for i in todo), apertium.translate([i.other[other] for i in todo], pair)))
            for lang, texts in ((self.lang, [i.mt for i in todo]), (other, [i.other[other] for i in todo])):
                caps = sorted({w.lower() for t in texts for _, _, w in words(t) if w[:1].isupper()})
                self._common[lang] = {w for w, lemmas in apertium.analyse(caps, lang).items() if lemmas}
        except (RuntimeError, OSError) as e:  # a broken installation: skip the check with the reason, not the run
            self._failure = f"Apertium {pair} failed: {e}"
            self._pivot = {}

    def _candidate_names(self, text: str, lang: str) -> list[tuple[int, int, str]]:
        """Capitalised words that are not common words (a name, not Вярхоўны суд, Злучаныя
        Штаты, Разбіўшы: hunspell, pymorphy3 and Apertium's analyser), first part of a
        hyphenated one."""
        out = []
        for s, e, w in words(text):
            if len(w) < 3 or not w[0].isupper() or w.isupper() or LATIN.search(w):
                continue
            w = w.split("-")[0]
            if len(w) >= 3 and not common_word(w, lang) and w.lower() not in self._common.get(lang, ()):
                out.append((s, s + len(w), w))
        return out

    def _length(self, text: str, source: str, lang: str) -> float:
        return len(text) / (max(1, len(source)) * USUAL_LENGTH.get(lang, 1.0))

    def score(self, inp: CheckInput):
        if self.lang not in PIVOT:
            self.skip_reason = f"no cross-check for {self.lang!r}"
            return None, []
        other, pair = PIVOT[self.lang]
        why = apertium.available(pair) or self._failure
        if why is not None:
            self.skip_reason = why
            return None, []
        theirs = (inp.other or {}).get(other) or ""
        pivot = self._pivot.get(inp.seg_id)
        if not theirs.strip() or pivot is None:
            self.skip_reason = f"no {LANG_NAME[other]} translation to compare with"
            return None, []
        them = LANG_NAME[other]
        spans: list[Span] = []
        # numbers: one here that neither they nor the English have, while they have one this text lacks
        mine_numbers = _numbers(inp.mt)
        missing_numbers = {n for n in _numbers(theirs) - mine_numbers if not _scaled(n, mine_numbers)}
        known_numbers = _numbers(theirs) | _numbers(inp.source)
        converted = _converted(inp.source)
        for m in NUMBER.finditer(inp.mt):
            n = _number(m.group())
            if (inp.mt[m.start() - 1:m.start()] == ":" or n in known_numbers or _scaled(n, known_numbers)
                    or _is_converted(n, converted)):
                continue
            if missing_numbers:
                spans.append(Span(m.start(), m.end(), f"number {m.group()}: the {them} has "
                                  f"{', '.join(sorted(missing_numbers))} here, and the English not {m.group()}"))
        # names: one here that neither they nor the English have, while they have one this text lacks
        mine_names = self._candidate_names(inp.mt, self.lang)
        their_names = _names(theirs) + _names(pivot) + _names(inp.source, latin=True)
        their_keys = {_key(w) for _, _, w in words(pivot) + words(theirs)}
        mine_all = _names(inp.mt)
        lacking = [w for _, _, w in self._candidate_names(theirs, other)
                   if not any(_same_name(skeleton(w), x) for x in mine_all)]
        for s, e, w in mine_names if lacking else []:
            if _key(w) not in their_keys and not any(_same_name(skeleton(w), x) for x in their_names):
                spans.append(Span(s, e, f"name {w!r} is in neither the {them} nor the English "
                                  f"(the {them} has {', '.join(lacking[:3])})"))
        # omission: the stretch of their (Apertium-translated) content words with the most
        # words missing here, a word found here counting against it twice (max subarray)
        mine = words(inp.mt)
        keys = {_key(w) for _, _, w in mine}
        piv = [w for _, _, w in words(pivot) if len(w) >= 4]
        best: tuple[int, list[str]] = (0, [])
        gain, start, missing = 0, 0, []
        best_gain = 0
        for k, w in enumerate(piv):
            if gain <= 0:
                gain, start, missing = 0, k, []
            if _key(w) in keys:
                gain -= 2
            else:
                gain += 1
                missing.append(w)
            if gain > best_gain and len(missing) >= self.params.min_run:
                best_gain, best = gain, (start, list(missing))
        if best[1] and mine:
            z_mine = self._length(inp.mt, inp.source, self.lang)
            z_theirs = self._length(theirs, inp.source, other)
            if z_mine <= self.params.max_length_share * z_theirs and z_mine <= self.params.max_for_english:
                at = mine[min(len(mine) - 1, round(best[0] / max(1, len(piv)) * len(mine)))]
                quote = " ".join(best[1][:8]) + (" ..." if len(best[1]) > 8 else "")
                spans.append(Span(at[0], at[1],
                                  f"omission? the {them} has «{quote}» (after Apertium) and this text does not"))
        return float(len(spans)), spans, min(1.0, 0.6 + 0.2 * len(spans))

    def accept(self, score: float) -> bool:
        return score == 0
