"""Ingest: bytes on disk -> clean paragraphs, with boilerplate marked (never dropped).

Decoding: UTF-8 (with or without BOM), UTF-16/32 with BOM, and legacy Cyrillic encodings
(cp1251, koi8-r) detected with charset-normalizer; anything else is refused with an error
naming the file, never turned into mojibake.

Normalisation covers what the seed documents really contain: broken numeric entities
(``&# 160;``), stray double full stops, bullet lines, non-breaking spaces, CRLF, plus
zero-width and bidi control characters.
"""

from __future__ import annotations

import codecs
import html
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from workflow.core.config import Ingest
from workflow.core.errors import InputError

LEGACY_ENCODINGS = ("cp1251", "koi8_r", "koi8-r", "windows-1251", "mac_cyrillic", "cp866", "iso8859_5")
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Paragraph:
    index: int  # 1-based position in the document, counting skipped paragraphs too
    text: str
    line: int  # 1-based line in the source file where the paragraph starts
    skip: str | None = None  # reason, when the paragraph is boilerplate


@dataclass
class Document:
    doc_id: str  # canonical id: the file name without extension, as a safe slug
    path: Path
    encoding: str
    paragraphs: list[Paragraph] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    references: dict[str, Path] = field(default_factory=dict)  # target -> corpus/<doc>.<lang>.txt


# ---------------------------------------------------------------- decoding


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Return (text, encoding) or raise InputError naming ``name``."""
    if not data.strip():
        return "", "empty"
    for bom, enc in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as e:
                raise InputError(f"{name}: starts with a {enc} byte-order mark but is not valid {enc} ({e.reason})") from None
    if b"\x00" in data[:4096] and _looks_utf16(data):
        # UTF-16 without BOM: NUL every other byte in ASCII-heavy text
        enc = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as e:
        utf8_error = e
    if _looks_binary(data):
        raise InputError(f"{name}: looks like a binary file, not text", hint="Only plain-text documents (.txt, .md) belong in corpus/.")
    damaged = data.decode("utf-8", errors="replace")
    valid = sum(1 for c in damaged if ord(c) > 127 and c != "\ufffd")
    if valid >= 2 * damaged.count("\ufffd"):  # mostly real UTF-8 sequences, a few bad bytes
        line = data[: utf8_error.start].count(b"\n") + 1
        raise InputError(
            f"{name}:{line}: damaged UTF-8 (byte 0x{data[utf8_error.start]:02x} is not valid UTF-8, other characters are)",
            hint="Fix or re-save the file as UTF-8.",
        )
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["cp1251", "koi8_r", "utf_8"]).best()
    if best is not None and best.encoding in LEGACY_ENCODINGS and _plausible_cyrillic(str(best)):
        return str(best), best.encoding
    line = data[: utf8_error.start].count(b"\n") + 1
    raise InputError(
        f"{name}:{line}: not valid UTF-8 (byte 0x{data[utf8_error.start]:02x}) and not a recognised legacy Cyrillic encoding",
        hint="Re-save the file as UTF-8.",
    )


def _plausible_cyrillic(text: str) -> bool:
    """A legacy decoding is believed only if its non-ASCII characters are mostly Cyrillic
    letters and typographic punctuation: any byte string "decodes" as cp1251."""
    non_ascii = [c for c in text if ord(c) > 127]
    good = sum(1 for c in non_ascii if "\u0400" <= c <= "\u04ff" or c in "«»—–…№“”„’‘ ")
    if not non_ascii or good / len(non_ascii) < 0.9:
        return False
    letters = [c for c in text if c.isalpha()]
    cyrillic = sum(1 for c in letters if "\u0400" <= c <= "\u04ff")
    if cyrillic < 0.2 * len(letters):  # English with a few stray bytes is damage, not cp1251
        return False
    # Latin-1 text read as cp1251 gives words like "cafй": Cyrillic glued to Latin letters
    words = [w for w in re.findall(r"[^\W\d_]+", text) if re.search("[\u0400-\u04ff]", w)]
    mixed = sum(1 for w in words if re.search("[A-Za-z]", w))
    return mixed <= 0.2 * len(words)


def _looks_utf16(data: bytes) -> bool:
    sample = data[:4096]
    return sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4


def _looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control > len(sample) * 0.05


# ---------------------------------------------------------------- normalisation

_BROKEN_ENTITY = re.compile(r"&#\s+(\d{1,6});?|&#[xX]\s+([0-9a-fA-F]{1,6});?")
_ENTITY = re.compile(r"&(#\d{1,6}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# zero-width, BOMs inside the text, bidi embeddings/overrides/isolates, soft hyphen
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile("[\u00a0\u2007\u202f\u2000-\u200a\u3000\t]+")
_DOUBLE_STOP = re.compile(r"(?<![.\u2026])\.\.(?!\.)(?=[\"'”»’)\]]*(\s|$))")
_BULLET = re.compile(r"^\s*(?:[•\u2022\u25cf\u25aa\u2023\u2043\u00b7*\-–]|\d{1,3}[.)])\s+")


def normalise_text(text: str) -> str:
    """Document-level clean-up that keeps line structure (one call per file)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _BROKEN_ENTITY.sub(lambda m: f"&#{m.group(1)};" if m.group(1) else f"&#x{m.group(2)};", text)
    text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    return text


def normalise_paragraph(text: str) -> str:
    text = _BULLET.sub("", text)
    text = _SPACES.sub(" ", text)
    text = re.sub(r" {2,}", " ", text).strip()
    text = _DOUBLE_STOP.sub(".", text)
    # a space left before closing punctuation by the broken entities: "justice ."
    text = re.sub(r" +([,.;:!?])(?=\s|$)", r"\1", text)
    return text


# ---------------------------------------------------------------- paragraphs

_TERMINAL = tuple(".!?:;…\"'”»’)")


def split_paragraphs(text: str) -> list[tuple[int, str]]:
    """(line number, paragraph) pairs. A non-empty line is a paragraph, except that a
    hard-wrapped line (no terminal punctuation, next line starts in lower case) is joined
    with the next one. Markdown heading marks are dropped."""
    out: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if line.startswith("#") and re.match(r"#{1,6}\s", line):
            line = line.lstrip("#").strip()
        if not line:
            if current:
                out.append((start, " ".join(current)))
                current = []
            continue
        if current and not current[-1].endswith(_TERMINAL) and line[:1].islower():
            current.append(line)
            continue
        if current:
            out.append((start, " ".join(current)))
        current, start = [line], number
    if current:
        out.append((start, " ".join(current)))
    return out


# ---------------------------------------------------------------- boilerplate


def _is_related_headline(text: str) -> bool:
    """A Title Case line of six or more words inside the body: a link to another article."""
    words = re.findall(r"[^\W\d_][\w'’-]*", text)
    if len(words) < 6 or text.endswith((".", ";", ":", ",")) and not text.endswith((".”", '."')):
        return False
    small = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with", "from"}
    capitalised = sum(1 for w in words if w[0].isupper() or w.lower() in small)
    return capitalised / len(words) >= 0.9 and sum(1 for w in words if w[0].isupper()) >= 5


def mark_boilerplate(paragraphs: list[tuple[int, str]], settings: Ingest) -> list[Paragraph]:
    rules = [(r, re.compile(r.pattern, re.IGNORECASE)) for r in settings.rules] if settings.boilerplate else []
    result: list[Paragraph] = []
    seen: dict[str, int] = {}
    rest_reason: str | None = None
    body_started = False  # related headlines only count once the article body has begun
    for index, (line, text) in enumerate(paragraphs, start=1):
        reason = rest_reason
        if reason is None:
            for rule, rx in rules:
                if rx.fullmatch(text):
                    reason = f"{rule.reason} ({rule.name})"
                    if rule.scope == "rest":
                        rest_reason = reason
                    break
        if reason is None and settings.duplicate_paragraphs and text in seen:
            reason = f"duplicate of paragraph {seen[text]}"
        if reason is None and settings.related_headlines and body_started and _is_related_headline(text):
            reason = "headline of a related article (related-headline)"
        if reason is None and text.endswith((".", "!", "?", ".”", '."', "»")) and len(text.split()) >= 8:
            body_started = True
        seen.setdefault(text, index)
        result.append(Paragraph(index=index, text=text, line=line, skip=reason))
    return result


# ---------------------------------------------------------------- documents


def doc_id_for(path: Path) -> str:
    """A safe, stable id from the file name: letters, digits, '-', '_' only."""
    stem = unicodedata.normalize("NFKC", path.stem)
    slug = re.sub(r"[^\w-]+", "-", stem, flags=re.UNICODE).strip("-_.")
    return slug or "document"


def read_document(path: Path, settings: Ingest, doc_id: str | None = None) -> Document:
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{name}: cannot read ({e.strerror})") from None
    text, encoding = decode(data, name)
    doc = Document(doc_id=doc_id or doc_id_for(path), path=path, encoding=encoding)
    if encoding not in ("utf-8", "utf-8-sig", "empty"):
        doc.warnings.append(f"{name}: decoded as {encoding}")
    if "\x00" in text:  # valid UTF-8 may still carry NULs: removed below, but said
        doc.warnings.append(f"{name}:{text[: text.index(chr(0))].count(chr(10)) + 1}: {text.count(chr(0))} NUL bytes removed")
    text = normalise_text(text)
    paragraphs = [(line, normalise_paragraph(p)) for line, p in split_paragraphs(text)]
    paragraphs = [(line, p) for line, p in paragraphs if p]
    doc.paragraphs = mark_boilerplate(paragraphs, settings)
    if not doc.paragraphs:
        doc.warnings.append(f"{name}: no text")
    return doc
