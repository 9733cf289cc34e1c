"""Segment: paragraphs -> sentences, each with a stable id and a hash of its text.

English splitting uses ``sentencex`` (fast, linear, handles abbreviations such as
"U.S." and quotes); Belarusian and Russian use ``razdel``, which knows "г.", "т. е."
and initials (measured in ../shared/notes/toolchain.md). A segment id is
``<doc_id>:p<paragraph>:s<sentence>``; the hash of the normalised English text lets
reruns and reviewers' files find a segment again when ids shift.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from razdel import sentenize
from sentencex import segment as sx_segment

from workflow.corpus.ingest import Document

@dataclass(frozen=True)
class Segment:
    seg_id: str
    doc_id: str
    para: int
    sent: int  # 1-based within the paragraph
    text: str
    hash: str
    line: int  # line in the source file where its paragraph starts
    skip: str | None = None


def text_hash(text: str) -> str:
    """Stable 16-hex-digit hash of a segment's text (whitespace-folded)."""
    folded = " ".join(text.split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:16]


def split_sentences(text: str, lang: str = "en") -> list[str]:
    """Split one paragraph into sentences; empty input gives an empty list."""
    text = text.strip()
    if not text:
        return []
    if lang == "en":
        parts = [s.strip() for s in sx_segment("en", text)]
    else:
        parts = [s.text.strip() for s in sentenize(text)]
    return _merge_orphans([p for p in parts if p])


_ORPHAN = re.compile(r"^[\W\d_]{1,3}$")


def _merge_orphans(parts: list[str]) -> list[str]:
    """Glue pieces that are only punctuation (e.g. a lone '.' or '”') to the previous one."""
    out: list[str] = []
    for p in parts:
        if out and _ORPHAN.match(p) and not p[0].isdigit():
            out[-1] = out[-1] + p
        else:
            out.append(p)
    return out


def segment_document(doc: Document) -> list[Segment]:
    """Sentences of every paragraph, skipped (boilerplate) ones included and marked.

    Segments are always sentences; with ``unit = "paragraph"`` the translate stage
    groups a paragraph's sentences into one model input and aligns the output back.
    """
    segments: list[Segment] = []
    for para in doc.paragraphs:
        for n, sentence in enumerate(split_sentences(para.text) or [para.text], start=1):
            segments.append(
                Segment(
                    seg_id=f"{doc.doc_id}:p{para.index}:s{n}",
                    doc_id=doc.doc_id,
                    para=para.index,
                    sent=n,
                    text=sentence,
                    hash=text_hash(sentence),
                    line=para.line,
                    skip=para.skip,
                )
            )
    return segments
