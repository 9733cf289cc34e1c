"""Ingest: bytes on disk -> clean paragraphs, with boilerplate marked (never dropped).

Decoding: UTF-8 (with or without BOM), UTF-16/32 with BOM, and legacy Cyrillic encodings
(cp1251, koi8-r) detected with charset-normalizer; anything else is refused with an error
naming the file, never turned into mojibake.

Normalisation covers what the seed documents really contain: broken numeric entities
(``&# 160;``), stray double full stops, bullet lines, non-breaking spaces, CRLF, plus
zero-width and bidi control characters. Breaks that are not newlines keep their meaning:
a line break inside a paragraph (U+000B, Word's manual line break; U+2028; U+0085) is a
space, a paragraph separator (U+2029; U+000C, a page break) ends the paragraph.

Size limits keep memory bounded whatever a file holds: a document over
:data:`MAX_DOCUMENT_BYTES` is not read (checked before reading, so a sparse 3 GB file
costs nothing), and a paragraph holding more than :data:`MAX_RUN_CHARS` characters
without a sentence end (a run-on line of a megabyte) is kept but marked skipped with
the reason: as one "sentence" it would make every later stage quadratic.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from workflow.core.config import RULE_TIMEOUT, Ingest, compile_rule
from workflow.core.files import read_limited
from workflow.core.text import decode as decode_text

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


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Return (text, encoding) of a corpus file, legacy Cyrillic encodings included."""
    return decode_text(data, name, legacy=True)


# ---------------------------------------------------------------- normalisation

_BROKEN_ENTITY = re.compile(r"&#\s+(\d{1,6});?|&#[xX]\s+([0-9a-fA-F]{1,6});?")
_ENTITY = re.compile(r"&(#\d{1,6}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# zero-width, BOMs inside the text, bidi embeddings/overrides/isolates, soft hyphen
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile("[\x0b\x85\u2028]")  # a break inside a paragraph: a space
_PARAGRAPH_BREAK = "\u2029"  # split_paragraphs ends the paragraph here (same line number)
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
# a paragraph separator still inside a paragraph's text (a line split by the caller) is a space
_SPACES = re.compile("[\u00a0\u2007\u202f\u2000-\u200a\u3000\t\u2029]+")
_DOUBLE_STOP = re.compile(r"(?<![.\u2026])\.\.(?!\.)(?=[\"'”»’)\]]*(\s|$))")
_BULLET = re.compile(r"^\s*(?:[•\u2022\u25cf\u25aa\u2023\u2043\u00b7*\-–]|\d{1,3}[.)])\s+")


def normalise_text(text: str) -> str:
    """Document-level clean-up that keeps line structure (one call per file)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _BROKEN_ENTITY.sub(lambda m: f"&#{m.group(1)};" if m.group(1) else f"&#x{m.group(2)};", text)
    text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _LINE_BREAK.sub(" ", text)
    text = text.replace("\x0c", _PARAGRAPH_BREAK)
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
    with the next one. A paragraph separator (U+2029) inside a line ends a paragraph as a
    blank line would. Markdown heading marks are dropped."""
    out: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    lines = ((number, piece) for number, raw in enumerate(text.split("\n"), start=1)
             for piece in _with_blank_between(raw.split(_PARAGRAPH_BREAK)))
    for number, raw in lines:
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


def _with_blank_between(pieces: list[str]) -> list[str]:
    """["a", "b"] -> ["a", "", "b"]: the pieces of a line as lines with a blank between."""
    return [p for i, piece in enumerate(pieces) for p in ((piece,) if i == 0 else ("", piece))]


# ---------------------------------------------------------------- boilerplate


def _is_related_headline(text: str) -> bool:
    """A Title Case line of six or more words inside the body: a link to another article."""
    words = re.findall(r"[^\W\d_][\w'’-]*", text)
    if len(words) < 6 or text.endswith((".", ";", ":", ",")) and not text.endswith((".”", '."')):
        return False
    small = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with", "from"}
    capitalised = sum(1 for w in words if w[0].isupper() or w.lower() in small)
    return capitalised / len(words) >= 0.9 and sum(1 for w in words if w[0].isupper()) >= 5


def mark_boilerplate(paragraphs: list[tuple[int, str]], settings: Ingest, name: str = "document",
                     warnings: list[str] | None = None) -> list[Paragraph]:
    """Paragraphs with their skip reasons. A rule that takes over ``RULE_TIMEOUT`` on a
    paragraph is not applied to the rest of the document (said in ``warnings``)."""
    rules = [(r, compile_rule(r.pattern)) for r in settings.rules] if settings.boilerplate else []
    result: list[Paragraph] = []
    seen: dict[str, int] = {}
    rest_reason: str | None = None
    body_started = False  # related headlines only count once the article body has begun
    for index, (line, text) in enumerate(paragraphs, start=1):
        reason = rest_reason
        if reason is None:
            for rule, rx in list(rules):
                try:
                    hit = rx.fullmatch(text, timeout=RULE_TIMEOUT)
                except TimeoutError:
                    rules.remove((rule, rx))
                    if warnings is not None:
                        warnings.append(f"{name}:{line}: boilerplate rule {rule.name!r} took over {RULE_TIMEOUT} s on "
                                        "this paragraph; it is not applied to the rest of the document")
                    continue
                if hit:
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


# 5 MB (about 800,000 words, a 2,000-page report): a run's memory grows with its text
# (a 5 MB document peaked at 2.5 GB with the tiny model, most of it scoring; bench/README.md)
MAX_DOCUMENT_BYTES = 5 << 20
MAX_RUN_CHARS = 3000  # longest stretch without . ! ? … that is translated (real sentences stay far below)
_RUN = re.compile(r"[^.!?…]{%d,}" % (MAX_RUN_CHARS + 1))


def _mark_runs(paragraphs: list[Paragraph], name: str, warnings: list[str]) -> list[Paragraph]:
    """Paragraphs with a stretch of over MAX_RUN_CHARS characters without a sentence end,
    marked skipped with the reason (and a warning naming the line)."""
    out = []
    for p in paragraphs:
        run = None if p.skip else _RUN.search(p.text)
        if run:
            reason = (f"too long to translate: {len(run.group()):,} characters without a sentence end "
                      f"(the limit is {MAX_RUN_CHARS:,})")
            warnings.append(f"{name}:{p.line}: paragraph {p.index} is {reason}; listed in skipped.tsv, not translated")
            p = Paragraph(index=p.index, text=p.text, line=p.line, skip=reason)
        out.append(p)
    return out


def read_document(path: Path, settings: Ingest, doc_id: str | None = None) -> Document:
    name = str(path)
    data = read_limited(path, MAX_DOCUMENT_BYTES, "document")
    text, encoding = decode(data, name)
    doc = Document(doc_id=doc_id or doc_id_for(path), path=path, encoding=encoding)
    if encoding not in ("utf-8", "utf-8-sig", "empty"):
        doc.warnings.append(f"{name}: decoded as {encoding}")
    if "\x00" in text:  # valid UTF-8 may still carry NULs: removed below, but said
        doc.warnings.append(f"{name}:{text[: text.index(chr(0))].count(chr(10)) + 1}: {text.count(chr(0))} NUL bytes removed")
    text = normalise_text(text)
    paragraphs = [(line, normalise_paragraph(p)) for line, p in split_paragraphs(text)]
    paragraphs = [(line, p) for line, p in paragraphs if p]
    doc.paragraphs = _mark_runs(mark_boilerplate(paragraphs, settings, name, doc.warnings), name, doc.warnings)
    if not doc.paragraphs:
        doc.warnings.append(f"{name}: no text")
    return doc
