"""The languages the workflow knows, and each model family's name for them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1, used everywhere in the workflow (config, columns, file names)
    name: str
    iso3: str  # ISO 639-3, used by OPUS-MT multi-target tokens (>>bel<<)
    nllb: str  # NLLB-200 / FLORES-200 code
    script: str  # "Latn" or "Cyrl"


LANGUAGES: dict[str, Language] = {
    "en": Language("en", "English", "eng", "eng_Latn", "Latn"),
    "be": Language("be", "Belarusian", "bel", "bel_Cyrl", "Cyrl"),
    "ru": Language("ru", "Russian", "rus", "rus_Cyrl", "Cyrl"),
}

SOURCE = "en"
TARGETS = ("be", "ru")


def language(code: str) -> Language:
    try:
        return LANGUAGES[code]
    except KeyError:
        known = ", ".join(sorted(LANGUAGES))
        raise ValueError(f"unknown language {code!r} (known: {known})") from None
