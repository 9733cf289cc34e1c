"""Parsing what reviewers send back: their edited TSVs, workbooks and XLIFF files, as candidates.

Nothing here decides whether a candidate is a fix (``workflow.review.importer`` does):
this module turns bytes into text (UTF-8 with or without BOM, UTF-16 with BOM as
Excel's "Unicode text" writes it) and text into :class:`Candidate` rows with the file
and line they came from, and reports a :class:`Problem` for what cannot be parsed.

A review table (a TSV here, a workbook in ``workflow.review.xlsx``) has the columns
``id``, ``en``, one per target (``be``, ``ru``) and one status per target
(``status_be``, ``status_ru``: ``approved`` approves that language's text as it is,
``needs work`` keeps an edit out of the memory; ``mt``, ``reviewed``, ``skipped: ...``
and empty are what an export writes; a ``be-Latn`` column, the Łacinka, is read as candidates of
that tag, which the importer never stores). A TSV from before per-language statuses has one
``status`` column: its ``approved`` is marked ``row_wide`` and the importer applies it
to the languages edited in that row, or to all when none was (what it meant then).

A TSV cell the reviewer changed is read as written (an apostrophe at the start stays,
escapes are undone); the importer reads a cell exactly as exported through the formula
guard (``Candidate.as_exported``; see ``workflow.core.tsv``).

TSV is read with Python's csv module (``workflow.core.tsv.read_tsv``): RFC 4180 quotes
as LibreOffice and Excel write them, LF, CRLF or CR-only line ends. An old-format TSV,
written before fields were quoted, may hold a field that starts with ``"`` and is not a
quoted field: it is read both ways and the reading whose English matches the corpus wins.

XLIFF (1.2 and 2.x) is parsed without DTDs, entities or network, and a file with any
DOCTYPE is refused (``read_xliff``).
"""
from __future__ import annotations

import csv
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from workflow.core.text import DecodeError
from workflow.core.text import decode as decode_text
from workflow.core.tsv import read_tsv, tsv_unescape, tsv_uncell
from workflow.outputs.latin import LATIN
from workflow.outputs.xliff import XLIFF2_NS, XLIFF12_NS

TSV_APPROVE = {"approved", "approve"}
NEEDS_WORK = {"needs work", "needs-work", "needs_work"}
EXPORTED_STATES = {"", "mt", "reviewed"}  # what an export writes in a status column: no decision
XLIFF_APPROVE = {"reviewed", "final", "signed-off"}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Candidate:
    seg_id: str
    target: str
    text: str
    approve: bool  # approved as it is, even if unchanged
    file: str
    line: int
    needs_work: bool = False  # the reviewer said the text is not done: never stored
    row_wide: bool = False  # approval from an old single status column (see the module doc)
    as_exported: str | None = None  # TSV: the text if the cell is as the workflow wrote it (guard removed)


@dataclass(frozen=True)
class TableRow:
    """One row of a review table: where it is, its id and English (and the English hash a
    workbook carries in a hidden column)."""

    line: int
    seg_id: str
    en: str
    en_hash: str | None = None


def decode(data: bytes, name: str) -> tuple[str | None, list[Problem]]:
    """Text of a reviewer's file, or a problem naming the line of the first bad byte."""
    try:
        return decode_text(data, name)[0], []
    except DecodeError as e:
        return None, [Problem(name, e.line or 1, e.reason)]


def _status(value: str) -> str:
    return " ".join(value.strip().lower().replace("_", " ").split())


def parse_table(name: str, header: Sequence[str], rows: Iterable[tuple[int, Sequence[str]]], targets: Sequence[str],
                *, hash_column: str | None = None, literal: Callable[[str], str] = str,
                exported: Callable[[str], str] | None = None) -> tuple[list[Candidate], list[TableRow], list[Problem]]:
    """Candidates, the rows, problems of a review table whose ``header`` holds column keys
    (``id``, ``en``, targets, ``status_<t>`` or ``status``). A target cell's text is
    ``literal(cell)``; ``exported(cell)`` reads a cell as the workflow wrote it (ids,
    English, statuses, and ``Candidate.as_exported``)."""
    header = [h.strip().lower() for h in header]
    if "id" not in header or "en" not in header:
        return [], [], [Problem(name, 1, "not a review table: the header needs the columns id and en "
                                         "(as in aligned/<doc>.tsv)")]
    cols = {c: i for i, c in enumerate(header)}
    tcols = [t for t in targets if t in cols]
    if not tcols:
        return [], [], [Problem(name, 1, f"no target language column ({', '.join(targets)}) in the header")]
    per_language = {t: cols[f"status_{t}"] for t in tcols if f"status_{t}" in cols}
    latin_col = cols.get(LATIN.lower())  # the Łacinka (read-only): a candidate the importer never stores
    row_wide = cols.get("status") if not per_language else None
    read = exported or literal
    problems: list[Problem] = []
    cands: list[Candidate] = []
    seen: list[TableRow] = []
    for n, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            problems.append(Problem(name, n, f"{len(cells)} cells but the header has {len(header)} "
                                             "(a tab typed into a cell?)"))
            continue
        cells = list(cells) + [""] * (len(header) - len(cells))
        sid, en = read(cells[cols["id"]]).strip(), read(cells[cols["en"]])
        en_hash = read(cells[cols[hash_column]]).strip() or None if hash_column in cols else None
        seen.append(TableRow(n, sid, en, en_hash))
        for t in tcols:
            col = per_language.get(t, row_wide)
            status = _status(read(cells[col])) if col is not None else ""
            if status not in TSV_APPROVE | NEEDS_WORK | EXPORTED_STATES and not status.startswith("skipped"):
                problems.append(Problem(name, n, f"unknown status {cells[col].strip()!r} in column "
                                                 f"{header[col]}: use approved, needs work, or leave it as exported"))
                continue
            cell = cells[cols[t]]
            cands.append(Candidate(sid, t, literal(cell), status in TSV_APPROVE, name, n,
                                   needs_work=status in NEEDS_WORK, row_wide=col is not None and col == row_wide,
                                   as_exported=exported(cell) if exported else None))
        if latin_col is not None:
            cell = cells[latin_col]
            cands.append(Candidate(sid, LATIN, literal(cell), False, name, n,
                                   as_exported=exported(cell) if exported else None))
    return cands, seen, problems


def parse_tsv(name: str, text: str, targets: Sequence[str],
              english: Collection[str] = ()) -> tuple[list[Candidate], list[TableRow], list[Problem]]:
    """Candidates, rows, problems of a review TSV. ``english`` (the corpus's English
    sentences) decides how to read an old-format file that could be read two ways."""
    try:
        quoted = _rows(text, quoted=True)
        if quoted and '"' in text and not any(c.strip().lower().startswith("status_") for c in quoted[0][1]):
            literal = _rows(text, quoted=False)
            if _matches(literal, english) > _matches(quoted, english):
                quoted = literal
    except csv.Error as e:  # with strict=False and no field limit hardly reachable; never a traceback
        return [], [], [Problem(name, 1, f"cannot be read as TSV ({e})")]
    if not quoted:
        return [], [], [Problem(name, 1, "empty file: no header")]
    # raw tabs and line ends in one cell: an unclosed quote ate the rows after it (the
    # workflow escapes both; a spreadsheet quotes such a cell but it is never both)
    runaway = [Problem(name, n, "a field opened with a double quote here is never closed: it swallows "
                                "the rows after it (close the quote, or remove it)")
               for n, cells in quoted if any("\t" in c and ("\n" in c or "\r" in c) for c in cells)]
    header = [tsv_uncell(c) for c in quoted[0][1]]
    cands, seen, problems = parse_table(name, header, quoted[1:], targets, literal=tsv_unescape, exported=tsv_uncell)
    return cands, seen, runaway + problems


def _rows(text: str, *, quoted: bool) -> list[tuple[int, list[str]]]:
    return list(read_tsv(text, len(text) + 1, quoted=quoted))


def _matches(rows: list[tuple[int, list[str]]], english: Collection[str]) -> int:
    header = [c.strip().lower() for c in rows[0][1]]
    if "en" not in header:
        return 0
    col = header.index("en")
    return sum(1 for _, cells in rows[1:] if len(cells) > col and tsv_uncell(cells[col]) in english)



# --------------------------------------------------------------------------- XLIFF


@dataclass
class XliffUnit:
    id: str
    source: str
    target: str | None
    state: str | None  # XLIFF 2 segment state, or XLIFF 1.2 target state / "final" when approved="yes"
    line: int
    translate: bool = True


@dataclass
class XliffDoc:
    version: str
    target: str | None
    original: str | None
    units: list[XliffUnit] = field(default_factory=list)


class XliffError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


DOCTYPE_REFUSED = ("the file has a DOCTYPE declaration: XLIFF needs none, and a DTD here can only declare "
                   "entities, which are never expanded; remove the <!DOCTYPE ...> (export again)")
_DOCTYPE = re.compile(rb"<\x00?!\x00?D\x00?O\x00?C\x00?T\x00?Y\x00?P\x00?E", re.I)


def _doctype_line(data: bytes) -> int:
    m = _DOCTYPE.search(data)
    return data[: m.start()].count(b"\n") + 1 if m else 1


def _text(el) -> str:
    """All text inside ``el`` (inline codes' content dropped, their tails kept)."""
    if el is None:
        return ""
    return "".join(el.itertext())


def read_xliff(data: bytes, name: str | Path = "<xliff>") -> XliffDoc:
    """Parse XLIFF 1.2 or 2.x bytes. Raises :class:`XliffError` (with a line) when the file
    is not well-formed, has a DOCTYPE (XLIFF has none; one here can only declare entities)
    or is not XLIFF. Never loads a DTD, resolves entities or fetches anything."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        if _DOCTYPE.search(data):
            raise XliffError(_doctype_line(data), DOCTYPE_REFUSED) from None
        line = e.position[0] if e.position else (e.lineno or 0)
        raise XliffError(line or 0, f"not well-formed XML ({e.msg})") from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise XliffError(_doctype_line(data), DOCTYPE_REFUSED)
    ns = etree.QName(root).namespace
    if etree.QName(root).localname != "xliff":
        raise XliffError(root.sourceline or 1, f"not an XLIFF file (root element <{etree.QName(root).localname}>)")
    version = root.get("version", "")
    if ns == XLIFF2_NS or version.startswith("2."):
        doc = XliffDoc(version or "2.0", root.get("trgLang"), None)
        files = root.findall(f"{{{ns}}}file")
        for f in files:
            doc.original = doc.original or f.get("original")
            for unit in f.iter(f"{{{ns}}}unit"):
                segs = unit.findall(f"{{{ns}}}segment")
                if len(segs) != 1:
                    raise XliffError(unit.sourceline or 0, f"unit {unit.get('id')!r} has {len(segs)} segments; "
                                                           "merging or splitting segments is not supported")
                seg = segs[0]
                tgt = seg.find(f"{{{ns}}}target")
                doc.units.append(XliffUnit(unit.get("id") or "", _text(seg.find(f"{{{ns}}}source")),
                                           None if tgt is None else _text(tgt), seg.get("state"),
                                           (tgt if tgt is not None else seg).sourceline or 0,
                                           unit.get("translate", "yes") != "no"))
        return doc
    if ns == XLIFF12_NS or version.startswith("1."):
        doc = XliffDoc(version or "1.2", None, None)
        for f in root.findall(f"{{{ns}}}file"):
            doc.target = doc.target or f.get("target-language")
            doc.original = doc.original or f.get("original")
            for tu in f.iter(f"{{{ns}}}trans-unit"):
                tgt = tu.find(f"{{{ns}}}target")
                state = "final" if tu.get("approved") == "yes" else (None if tgt is None else tgt.get("state"))
                doc.units.append(XliffUnit(tu.get("id") or "", _text(tu.find(f"{{{ns}}}source")),
                                           None if tgt is None else _text(tgt), state,
                                           (tgt if tgt is not None else tu).sourceline or 0,
                                           tu.get("translate", "yes") != "no"))
        return doc
    raise XliffError(root.sourceline or 1, f"unknown XLIFF version {version!r} (namespace {ns!r})")
