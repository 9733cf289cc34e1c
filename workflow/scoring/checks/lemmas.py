"""Lemmas of Belarusian and Russian words, so that case forms match (Лукашэнку ->
Лукашэнка, Орла -> Орёл).

A word's lemmas are the dictionary stems hunspell's affix rules derive it from (spylls on
the Debian be_BY / ru_RU dictionaries: ``Мінску`` -> ``Мінск``) and, for Russian, the
normal forms of every pymorphy3 parse (pymorphy3-dicts-ru, offline; for an unknown word,
its guesses from the ending: Тихановской -> тихановский). A word neither knows
gets no lemma: callers then fall back to comparing forms (``fallback_note`` says so).
"""

from __future__ import annotations

from functools import lru_cache

from workflow.scoring.hunspell import dictionary, dictionary_path, known

try:  # optional: Russian lemmas (pyproject dependency; hunspell stems alone without it)
    import pymorphy3
except ImportError:  # pragma: no cover - the dependency is installed by make
    pymorphy3 = None


@lru_cache(maxsize=1)
def _morph():
    return pymorphy3.MorphAnalyzer() if pymorphy3 is not None else None


def fallback_note(lang: str) -> str | None:
    """Why lemmas of ``lang`` are not available (forms are compared instead), or None."""
    if dictionary_path(lang) is None and not (lang == "ru" and pymorphy3 is not None):
        return f"no hunspell dictionary for {lang!r}: glossary forms are matched by their stems only"
    return None


@lru_cache(maxsize=200_000)
def lemmas(word: str, lang: str) -> frozenset[str]:
    """Lower-cased lemmas of ``word`` in ``lang`` ("be" or "ru"); empty when unknown."""
    w = word.replace("’", "'").replace("ʼ", "'")
    out: set[str] = set()
    d = dictionary(lang)
    if d is not None:
        for variant in dict.fromkeys((w, w.lower(), w[:1].upper() + w[1:].lower())):
            out |= {f.stem.lower() for f in d.lookuper.good_forms(variant)}
    morph = _morph() if lang == "ru" else None
    if morph is not None:
        out |= {p.normal_form for p in morph.parse(w)}  # known words and pymorphy3's guesses
    return frozenset(x.replace("ё", "е") for x in out)


_PROPER = {"Name", "Surn", "Patr", "Geox", "Orgn", "Trad"}


@lru_cache(maxsize=50_000)
def common_word(word: str, lang: str) -> bool:
    """Is capitalised ``word`` a common word (Вярхоўны, Штаты) rather than a name? Its lower
    case must be known to hunspell and, in Russian, pymorphy3 must not take it for a proper
    name (hunspell-ru reads Калифорнии as a form of калифорний)."""
    if not known(lang, word.lower()):
        return False
    morph = _morph() if lang == "ru" else None
    return morph is None or not any(_PROPER & set(p.tag.grammemes) for p in morph.parse(word)[:2])
