"""Names and terms: the glossary's people, organisations and places rendered as listed.

``corpus/glossary.toml`` holds ``[[term]]`` tables::

    [[term]]
    en = ["Lukashenka", "Lukashenko"]   # English spellings met in sources (case-sensitive)
    be = ["Лукашэнка"]                   # accepted Belarusian forms (the first is preferred)
    ru = ["Лукашенко"]                   # accepted Russian forms
    avoid_be = ["Лукашенка"]            # known wrong renderings (optional)
    kind = "person"                      # person | organisation | place | term

A form matches with case endings: each word of the form is cut to its stem (final
vowels, ``й``, ``ь`` removed) and may be followed by up to four letters, so
``Ціханоўская`` also matches ``Ціханоўскай``; or on lemmas (``workflow.scoring.checks.lemmas``:
hunspell's affix rules, pymorphy3 for Russian), so forms whose stem changes match too
(Russian ``Орёл`` / ``Орла``, Belarusian ``Кіеў`` / ``Кіеве``): every word of the form
has a word in the text sharing its first two letters and a lemma. Without a dictionary
(``lemmas.fallback_note``) only the stem rule matches. When the English name is in the source
and no accepted form is in the target, the check blames the wrong rendering it finds
(the other language's form, an ``avoid`` form, or a word with the same first letters)
and otherwise reports the name as missing.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from workflow.core.errors import ConfigError
from workflow.core.text import words
from workflow.scoring.checks.base import Check, CheckInput, CheckParams, Span, register
from workflow.scoring.checks.lemmas import fallback_note, lemmas

_ENDINGS = set("аяоеёуюыіийьэ")
GLOSSARY_MAX_BYTES = 10 << 20
TERM_KINDS = ("person", "organisation", "place", "term")
_LETTERS = r"[^\W\d_]"


def stem(word: str) -> str:
    w = word
    for _ in range(2):
        if len(w) > 4 and w[-1].lower() in _ENDINGS:
            w = w[:-1]
    return w


def form_pattern(form: str) -> re.Pattern[str]:
    parts = form.split()
    if all(re.fullmatch(r"[A-Za-z0-9.&'’\-]+", p) for p in parts):  # Latin forms: verbatim
        body = r"\s+".join(re.escape(p) for p in parts)
    else:
        body = r"\s+".join(re.escape(stem(p)) + _LETTERS + "{0,4}" for p in parts)
    return re.compile(r"(?<!\w)" + body + r"(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Term:
    en: tuple[str, ...]
    forms: dict[str, tuple[str, ...]]  # lang -> accepted forms
    avoid: dict[str, tuple[str, ...]]
    kind: str = "term"

    def source_pattern(self) -> re.Pattern[str]:
        alts = "|".join(re.escape(e) for e in sorted(self.en, key=len, reverse=True))
        return re.compile(r"(?<![\w])(?:" + alts + r")(?![\w])")


class Glossary:
    def __init__(self, terms: list[Term], path: Path | None = None) -> None:
        self.terms = terms
        self.path = path
        self._src = [t.source_pattern() for t in terms]
        self._forms: dict[tuple[int, str], list[re.Pattern[str]]] = {}
        self._stems: dict[str, set[str]] = {}
        for t in terms:
            for lang, forms in t.forms.items():
                for f in forms:
                    for w in f.split():
                        self._stems.setdefault(lang, set()).add(stem(w).lower())

    @classmethod
    def load(cls, path: str | Path) -> "Glossary":
        """Read ``glossary.toml``; ConfigError naming the file (and the term) for a file that
        is not UTF-8 TOML or a term of the wrong shape."""
        p = Path(path)
        try:
            with p.open("rb") as f:
                raw = f.read(GLOSSARY_MAX_BYTES + 1)
        except FileNotFoundError:
            raise ConfigError(f"{p}: glossary not found", hint="Set checks.glossary in config.toml.") from None
        except OSError as e:
            raise ConfigError(f"{p}: cannot read the glossary ({e.strerror})") from None
        if len(raw) > GLOSSARY_MAX_BYTES:
            raise ConfigError(f"{p}: the glossary is over {GLOSSARY_MAX_BYTES >> 20} MB; is it the right file?")
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise ConfigError(f"{p}: the glossary is not UTF-8 text (byte {e.start}); is it a binary file?") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{p}: invalid TOML: {e}") from None
        hint = 'Each term is a [[term]] table: en = ["Lukashenka"], be = ["Лукашэнка"], ru = ["Лукашенко"].'
        unknown = [k for k in data if k != "term"]
        if unknown:
            raise ConfigError(f"{p}: unknown key {unknown[0]!r} at the top level; terms are [[term]] tables", hint=hint)
        entries = data.get("term", [])
        if not isinstance(entries, list):
            raise ConfigError(f"{p}: 'term' must be an array of tables ([[term]]), not {type(entries).__name__}", hint=hint)
        terms = []
        for i, t in enumerate(entries, start=1):
            if not isinstance(t, dict):
                raise ConfigError(f"{p}: term #{i} is {type(t).__name__}, not a table", hint=hint)
            forms: dict[str, tuple[str, ...]] = {}
            avoid: dict[str, tuple[str, ...]] = {}
            for key, value in t.items():
                if key == "kind":
                    if value not in TERM_KINDS:
                        raise ConfigError(f"{p}: term #{i}: kind {value!r}; choose one of: {', '.join(TERM_KINDS)}")
                    continue
                lang = key[6:] if key.startswith("avoid_") else key
                if lang not in ("en", "be", "ru", "uk"):
                    raise ConfigError(f"{p}: term #{i}: unknown key {key!r}", hint="Keys: en, be, ru, uk, avoid_<lang>, kind.")
                if isinstance(value, str):
                    value = [value]
                if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                    raise ConfigError(f"{p}: term #{i}: {key!r} must be a text or a list of texts, not {value!r}"[:300], hint=hint)
                (avoid if key.startswith("avoid_") else forms)[lang] = tuple(value)
            en = forms.pop("en", ())
            if not en:
                raise ConfigError(f"{p}: term #{i} has no 'en' list", hint=hint)
            terms.append(Term(en, forms, avoid, t.get("kind", "term")))
        return cls(terms, p)

    def patterns(self, i: int, lang: str) -> list[re.Pattern[str]]:
        key = (i, lang)
        if key not in self._forms:
            self._forms[key] = [form_pattern(f) for f in self.terms[i].forms.get(lang, ())]
        return self._forms[key]

    def lemma_match(self, i: int, lang: str, text: str) -> bool:
        """Is an accepted ``lang`` form of term ``i`` in ``text`` as some inflected form
        (every word of the form has a word of ``text`` with the same first two letters and a
        lemma in common)?"""
        text_words = [w for _, _, w in words(text)]
        for form in self.terms[i].forms.get(lang, ()):
            parts = form.split()
            if all(any(w[:2].lower() == p[:2].lower() and lemmas(w, lang) & lemmas(p, lang) for w in text_words)
                   for p in parts):
                return True
        return False

    def in_source(self, source: str) -> list[int]:
        return [i for i, p in enumerate(self._src) if p.search(source)]

    def is_name_form(self, word: str, lang: str) -> bool:
        """Is ``word`` (possibly declined) a word of some accepted form in ``lang``?"""
        s = self._stems.get(lang, ())
        w = word.lower()
        return any(w.startswith(x) and len(w) - len(x) <= 4 for x in s if len(x) >= 3)

    def latin_allowed(self, text: str, lang: str, source: str) -> list[tuple[int, int]]:
        """Spans of ``text`` that are accepted Latin-script forms of names in ``source``."""
        out = []
        for i in self.in_source(source):
            for f, pat in zip(self.terms[i].forms.get(lang, ()), self.patterns(i, lang)):
                if re.search(r"[A-Za-z]", f):
                    out += [(m.start(), m.end()) for m in pat.finditer(text)]
        return out


@lru_cache(maxsize=8)
def load_glossary(path: str) -> Glossary | None:
    p = Path(path)
    return Glossary.load(p) if p.is_file() else None


@register("names")
class Names(Check):
    """score: the number of glossary names of the source not rendered in an accepted form
    (lower is better). accept: score == 0."""

    severity = "major"
    higher_is_better = False

    @dataclass(frozen=True)
    class Params(CheckParams):
        weight: float = 1.0  # hand-set: glossary of this corpus

    def score(self, inp: CheckInput):
        g = self.ctx.glossary
        if g is None:
            self.skip_reason = "no glossary"
            return None, []
        spans: list[Span] = []
        problems = 0
        checked = 0
        for i in g.in_source(inp.source):
            t = g.terms[i]
            pats = g.patterns(i, self.lang)
            if not pats:
                continue
            checked += 1
            if any(p.search(inp.mt) for p in pats) or g.lemma_match(i, self.lang, inp.mt):
                continue
            problems += 1
            want = t.forms[self.lang][0]
            wrong = list(t.avoid.get(self.lang, ()))
            wrong += [f for lang, fs in t.forms.items() if lang != self.lang for f in fs]
            found = False
            for w in wrong:
                for m in form_pattern(w).finditer(inp.mt):
                    spans.append(Span(m.start(), m.end(), f"{t.en[0]}: expected {want}"))
                    found = True
            if not found:
                # a word that shares the first three letters of a form word: a variant spelling
                heads = {stem(x)[:3].lower() for f in t.forms[self.lang] for x in f.split()}
                for m in re.finditer(_LETTERS + r"+", inp.mt):
                    if m.group()[:3].lower() in heads and m.group()[0].isupper():
                        spans.append(Span(m.start(), m.end(), f"{t.en[0]}: expected {want}"))
                        found = True
            if not found:
                note = fallback_note(self.lang)
                spans.append(Span(0, len(inp.mt), f"{t.en[0]} missing: expected {want}" + (f" ({note})" if note else "")))
        if not checked:
            self.skip_reason = "no glossary name in the source"
            return None, []
        return float(problems), spans

    def accept(self, score: float) -> bool:
        return score == 0

    def badness(self, score: float) -> float:
        return min(1.0, 0.6 + 0.2 * score)
