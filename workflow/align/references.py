"""Reference translations supplied with a document (``corpus/<doc>.be.txt``).

The reference is read like any document (same decoding and clean-up), split into
Belarusian or Russian sentences, and aligned to the English sentences with the sentence
aligner, using the run's own machine translation as the bridge. Each segment row then
carries its ``reference`` text, which reference-based scores (report, ``workflow score``)
use; a reviewer's approved fix takes precedence over it. The files are checked when the
corpus is loaded (``workflow.corpus.load.usable_references``), before any translation; a
file that fails here all the same (changed since) is a note, and the run goes on.
"""

from __future__ import annotations

from pathlib import Path

from workflow.align.aligner import align, spread_targets
from workflow.core.errors import InputError
from workflow.corpus.ingest import read_document
from workflow.corpus.load import REFERENCE_INGEST
from workflow.corpus.segment import split_sentences
from workflow.core.records import STATUS_SKIPPED, Row


def read_reference_sentences(path: Path, lang: str) -> list[str]:
    """Sentences of a reference file; paragraphs too long to be sentences (ingest's
    limit) are left out."""
    doc = read_document(path, REFERENCE_INGEST)
    return [s for p in doc.paragraphs if not p.skip for s in split_sentences(p.text, lang)]


def attach_references(rows: list[Row], references: dict[str, dict[str, Path]]) -> list[str]:
    """Set ``row.reference`` for every translated row whose document has a reference file
    in the row's target language. ``references``: doc_id -> {lang: path}. Returns notes
    on reference files that could not be read (those rows keep no reference)."""
    notes = []
    for doc_id, by_lang in references.items():
        for lang, path in by_lang.items():
            mine = [r for r in rows if r.doc_id == doc_id and r.target == lang and r.status != STATUS_SKIPPED]
            if not mine:
                continue
            try:
                ref_sents = read_reference_sentences(path, lang)
            except InputError as e:
                notes.append(f"{e.message}; reference translation ({lang}) not used")
                continue
            beads = align([r.en for r in mine], ref_sents, "en", lang, bridge=[r.mt or "" for r in mine])
            for row, text in zip(mine, spread_targets(beads, ref_sents, len(mine))):
                row.reference = text or None
    return notes
