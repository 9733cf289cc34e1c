"""Parsing what reviewers send back: their edited TSVs and XLIFF files, as candidates.

Nothing here decides whether a candidate is a fix (``workflow.review.importer`` does):
this module turns bytes into text (UTF-8 with or without BOM, UTF-16 with BOM as
Excel's "Unicode text" writes it) and text into :class:`Candidate` rows with the file
and line they came from, and reports a :class:`Problem` for what cannot be parsed.

XLIFF (1.2 and 2.x) is parsed without DTDs, entities or network (``read_xliff``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from workflow.core.text import DecodeError
from workflow.core.text import decode as decode_text
from workflow.core.tsv import tsv_uncell
from workflow.outputs.xliff import XLIFF2_NS, XLIFF12_NS

TSV_APPROVE = {"approved", "approve"}
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


def decode(data: bytes, name: str) -> tuple[str | None, list[Problem]]:
    """Text of a reviewer's file, or a problem naming the line of the first bad byte."""
    try:
        return decode_text(data, name)[0], []
    except DecodeError as e:
        return None, [Problem(name, e.line or 1, e.reason)]


def parse_tsv(name: str, text: str, targets: Sequence[str]) -> tuple[list[Candidate], list[tuple[int, str, str]], list[Problem]]:
    """Candidates, (line, id, en) of every row, problems."""
    problems: list[Problem] = []
    lines = text.split("\n")
    header = [tsv_uncell(c).strip().lower() for c in lines[0].rstrip("\r").split("\t")] if lines else []
    if "id" not in header or "en" not in header:
        return [], [], [Problem(name, 1, "not a review TSV: the header needs the columns id and en (as in aligned/<doc>.tsv)")]
    cols = {c: i for i, c in enumerate(header)}
    tcols = [t for t in targets if t in cols]
    if not tcols:
        return [], [], [Problem(name, 1, f"no target language column ({', '.join(targets)}) in the header")]
    cands: list[Candidate] = []
    seen: list[tuple[int, str, str]] = []
    for n, raw in enumerate(lines[1:], start=2):
        raw = raw.rstrip("\r")
        if not raw.strip():
            continue
        cells = raw.split("\t")
        if len(cells) > len(header):
            problems.append(Problem(name, n, f"{len(cells)} cells but the header has {len(header)} "
                                             "(a tab typed into a cell?)"))
            continue
        cells += [""] * (len(header) - len(cells))
        cells = [tsv_uncell(c) for c in cells]
        sid, en = cells[cols["id"]].strip(), cells[cols["en"]]
        status = cells[cols["status"]].strip().lower() if "status" in cols else ""
        seen.append((n, sid, en))
        for t in tcols:
            cands.append(Candidate(sid, t, cells[cols[t]], status in TSV_APPROVE, name, n))
    return cands, seen, problems



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


def _text(el) -> str:
    """All text inside ``el`` (inline codes' content dropped, their tails kept)."""
    if el is None:
        return ""
    return "".join(el.itertext())


def read_xliff(data: bytes, name: str | Path = "<xliff>") -> XliffDoc:
    """Parse XLIFF 1.2 or 2.x bytes. Raises :class:`XliffError` (with a line) when the file
    is not well-formed or not XLIFF. Never resolves entities or fetches anything."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        line = e.position[0] if e.position else (e.lineno or 0)
        raise XliffError(line or 0, f"not well-formed XML ({e.msg})") from None
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
