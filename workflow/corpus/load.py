"""Load the corpus: every English source of ``corpus/`` read, cleaned, screened and named.

``load_corpus(root, settings)`` returns the documents to translate and the problems to
report (files not taken and why). Bad files never stop the corpus; only a corpus with
no readable English document at all is an error.
"""

from __future__ import annotations

from pathlib import Path

from workflow.core.config import Ingest
from workflow.core.errors import InputError
from workflow.corpus.discover import discover
from workflow.corpus.ingest import Document, doc_id_for, read_document
from workflow.corpus.screen import screen_document


def _doc_id(rel: Path) -> str:
    """``story`` for ``story.txt``; ``2024__story`` for ``2024/story.txt``."""
    if len(rel.parts) == 1:
        return doc_id_for(rel.with_suffix(""))
    return "__".join(doc_id_for(Path(p)) for p in rel.with_suffix("").parts)


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
        except InputError as e:
            problems.append(str(e.message))
            continue
        problems.extend(doc.warnings)
        take, notes = screen_document(doc, seen)  # not English / duplicate
        problems.extend(notes)
        if doc.paragraphs and take:
            doc.references = dict(src.references)
            docs.append(doc)
    if not docs:
        raise InputError(
            f"{corpus.root}: no readable English documents (*.txt, *.md)"
            + ("".join(f"\n  {p}" for p in problems) if problems else "")
        )
    return docs, problems
