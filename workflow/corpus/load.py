"""Load the corpus: every English source of ``corpus/`` read, cleaned, screened and named.

``load_corpus(root, settings)`` returns the documents to translate and the problems to
report (files not taken and why). Bad files never stop the corpus: whatever goes wrong
with one file (its name, size, type, decoding, its reference translations) becomes a
problem naming it, and the rest runs. Only a corpus with no readable English document at
all is an error.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from workflow.core.config import Ingest
from workflow.core.errors import InputError
from workflow.corpus.discover import discover
from workflow.corpus.ingest import Document, doc_id_for, read_document
from workflow.corpus.screen import screen_document

# How reference translations (corpus/<doc>.<lang>.txt) are read: as they are, no boilerplate rules.
REFERENCE_INGEST = Ingest(boilerplate=False, duplicate_paragraphs=False, related_headlines=False)
# Longest document id in bytes: aligned/ names files <id>.<lang>.xlf and the like, and a
# file name may have 255 bytes; a longer id is cut and given a hash of the full one.
MAX_DOC_ID_BYTES = 120


def _doc_id(rel: Path) -> str:
    """``story`` for ``story.txt``; ``2024__story`` for ``2024/story.txt``; at most
    MAX_DOC_ID_BYTES bytes."""
    if len(rel.parts) == 1:
        doc_id = doc_id_for(rel.with_suffix(""))
    else:
        doc_id = "__".join(doc_id_for(Path(p)) for p in rel.with_suffix("").parts)
    raw = doc_id.encode("utf-8")
    if len(raw) <= MAX_DOC_ID_BYTES:
        return doc_id
    head = raw[: MAX_DOC_ID_BYTES - 9].decode("utf-8", "ignore").rstrip("-_")
    return f"{head}-{hashlib.sha256(raw).hexdigest()[:8]}"


def usable_references(references: dict[str, Path], problems: list[str]) -> dict[str, Path]:
    """The reference files that can be read and hold text; each other one is a problem
    (checked here, before any translation, not when the references are aligned)."""
    out = {}
    for lang, path in references.items():
        try:
            ref = read_document(path, REFERENCE_INGEST)
        except InputError as e:
            problems.append(f"{e.message}; reference translation ({lang}) not used")
            continue
        except (OSError, ValueError, MemoryError, RecursionError) as e:
            problems.append(f"{path}: cannot be read ({type(e).__name__}: {e}); reference translation ({lang}) not used")
            continue
        problems.extend(ref.warnings)
        if not any(p.text and not p.skip for p in ref.paragraphs):
            problems.append(f"{path}: reference translation ({lang}) has no usable text; not used")
            continue
        out[lang] = path
    return out


def load_corpus(root: Path, settings: Ingest) -> tuple[list[Document], list[str]]:
    corpus = discover(root)
    problems = list(corpus.problems)
    docs: list[Document] = []
    used: set[str] = set()
    seen: dict[str, Document] = {}  # content hash -> first document with that text
    for src in corpus.sources:
        doc_id = base = _doc_id(src.path.relative_to(corpus.root))
        n = 2
        while doc_id in used:
            doc_id, n = f"{base}-{n}", n + 1
        used.add(doc_id)
        try:
            doc = read_document(src.path, settings, doc_id=doc_id)
            take, notes = screen_document(doc, seen)  # not English / duplicate
        except InputError as e:
            problems.append(str(e.message))
            continue
        except (OSError, ValueError, MemoryError, RecursionError) as e:  # one file never stops the corpus
            problems.append(f"{src.path}: cannot be read ({type(e).__name__}: {e}); not used")
            continue
        if len(src.path.stem.encode("utf-8")) > MAX_DOC_ID_BYTES:
            problems.append(f"{src.path}: the file name is too long for output file names; its outputs are named {doc_id}")
        problems.extend(doc.warnings)
        problems.extend(notes)
        if doc.paragraphs and take:
            doc.references = usable_references(dict(src.references), problems)
            docs.append(doc)
    if not docs:
        raise InputError(
            f"{corpus.root}: no readable English documents (*.txt, *.md)"
            + ("".join(f"\n  {p}" for p in problems) if problems else "")
        )
    return docs, problems
