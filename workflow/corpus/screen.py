"""Screening documents before translation: not English, or a copy of another file.

- A document whose kept text is mostly not English gets a warning naming the file and
  the detected language, and every paragraph is marked skipped with the reason
  ``not English (detected: ru)``: it is listed in ``skipped.tsv``, never translated as
  if it were English.
- A document with the same text as one read before it (same hash of its normalised
  paragraphs, so a CRLF or re-encoded copy counts too) is not taken; the warning names
  both files.

Language detection is lingua (EN/RU/BE/UK plus the common Latin-script languages),
built lazily once per process, in low-accuracy mode (about 0.1-0.4 s).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from functools import lru_cache

from lingua import Language, LanguageDetectorBuilder

from workflow.corpus.ingest import Document

LANGUAGES = {
    "ENGLISH": "en", "RUSSIAN": "ru", "BELARUSIAN": "be", "UKRAINIAN": "uk", "GERMAN": "de", "FRENCH": "fr",
    "SPANISH": "es", "POLISH": "pl", "ITALIAN": "it", "PORTUGUESE": "pt",
}
MIN_LETTERS = 40  # shorter documents are not judged
SAMPLE_CHARS = 20_000  # enough to judge a document; a 5 MB file is not read whole


@lru_cache(maxsize=1)
def _detector():
    return LanguageDetectorBuilder.from_languages(*(getattr(Language, n) for n in LANGUAGES)).with_low_accuracy_mode().build()


def detect_language(texts: list[str]) -> tuple[str, float]:
    """(language code, share of letters in English paragraphs) over ``texts``; ('en', 1.0)
    when there is too little text to judge."""
    sample, size = [], 0
    for t in texts:
        if size >= SAMPLE_CHARS:
            break
        t = t[: SAMPLE_CHARS - size]
        sample.append(t)
        size += len(t)
    letters = sum(1 for t in sample for c in t if c.isalpha())
    if letters < MIN_LETTERS:
        return "en", 1.0
    weights: Counter[str] = Counter()
    for t in sample:
        n = sum(1 for c in t if c.isalpha())
        if not n:
            continue
        lang = _detector().detect_language_of(t)
        weights[LANGUAGES.get(lang.name, "?") if lang else "?"] += n
    total = sum(weights.values()) or 1
    return weights.most_common(1)[0][0], weights["en"] / total


def content_hash(doc: Document) -> str:
    h = hashlib.sha256()
    for p in doc.paragraphs:
        h.update(" ".join(p.text.split()).encode("utf-8") + b"\n")
    return h.hexdigest()


def screen_document(doc: Document, seen: dict[str, Document]) -> tuple[bool, list[str]]:
    """(take the document?, warnings). ``seen`` maps content hashes to documents taken so
    far and is updated. A non-English document is taken with all paragraphs skipped."""
    if not doc.paragraphs:
        return True, []
    digest = content_hash(doc)
    if digest in seen:
        return False, [f"{doc.path}: same text as {seen[digest].path}; duplicate not used"]
    seen[digest] = doc
    kept = [p.text for p in doc.paragraphs if not p.skip]
    lang, english = detect_language(kept)
    if english >= 0.5:
        return True, []
    reason = f"not English (detected: {lang})"
    doc.paragraphs = [dataclasses.replace(p, skip=p.skip or reason) for p in doc.paragraphs]
    return True, [f"{doc.path}: {reason}; its {len(kept)} paragraphs are listed in skipped.tsv, not translated"]
