"""The Łacinka output (``[outputs] latin``): Belarusian in the Latin alphabet, ``be-Latn``.

Never translated: each row's final Belarusian text (the approved fix if any, else the MT)
is converted when the outputs are written, so an approved Cyrillic fix brings its
Łacinka with it on the next write. The converter is PyPI ``belorthography`` (MIT,
offline), official Cyrillic to Łacinka, chosen by measurement (issue #17, bench/README.md
"Łacinka output"): 37 of 38 paragraphs right on a human-written Łacinka article, against
27 for ``latynkatar``; 4 of 5 against 2 of 5 on a Naša Niva article and the paper's own
Łacinka edition (``bench/belarusian.py --latin-pair``). Its path goes through the
classical norm (soft-sign assimilation: ``снег`` -> ``śnieh``), as written Łacinka does; a
text already classical converts the same.

The Łacinka is read-only everywhere: a TSV/workbook column that ``workflow review import``
never takes as a fix (``workflow.review.importer`` refuses an edited one), a separate
``be-Latn`` XLIFF per document (refused the same way), a ``be-Latn`` variant in the TMX,
a column of the review page without an edit button, and a read-only line under the
Belarusian box of ``workflow review serve``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

from belorthography import Orthography, convert

from workflow.core.records import Row

LATIN = "be-Latn"  # BCP 47 tag: the TMX/XLIFF language and the TSV/workbook column
SOURCE = "be"  # the target it is made from


def to_latin(text: str | None) -> str | None:
    """Łacinka of Belarusian Cyrillic ``text`` (None stays None)."""
    return None if text is None else _convert(text)


@functools.lru_cache(maxsize=8192)  # every writer (TSV, workbook, TMX, both XLIFFs, page) asks for the same texts
def _convert(text: str) -> str:
    return convert(text, Orthography.OFFICIAL, Orthography.LATIN)


def wanted(on: bool, targets: Sequence[str]) -> bool:
    """Whether outputs carry the Łacinka: switched on and Belarusian is a target."""
    return on and SOURCE in targets


def text(row: Row | None) -> str:
    """Łacinka of what a Belarusian row shows ("" for none or skipped)."""
    if row is None or row.is_skipped:
        return ""
    return to_latin(row.shown) or ""


def row(be: Row) -> Row:
    """The ``be-Latn`` row of a Belarusian row: its MT and approved fix converted (so
    ``shown`` is the Łacinka of the final text), its score and flags kept, no blamed spans
    (their offsets are in the Cyrillic) and no reference."""
    return dataclasses.replace(be, target=LATIN, mt=to_latin(be.mt), approved=to_latin(be.approved), spans=[],
                               fuzzy_match=to_latin(be.fuzzy_match), reference=None)


def with_latin(segs: Sequence[tuple[str, dict[str, Row]]]) -> list[tuple[str, dict[str, Row]]]:
    """``records.by_document``'s list with a ``be-Latn`` row beside every Belarusian one."""
    return [(sid, {**per, LATIN: row(per[SOURCE])} if SOURCE in per else per) for sid, per in segs]
