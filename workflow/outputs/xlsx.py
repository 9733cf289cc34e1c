"""The review workbook: ``<doc>.xlsx``, one per document, for reviewers in a spreadsheet
(Excel, LibreOffice Calc); ``workflow.review.xlsx`` reads it back.

One workbook per document, like the TSV, XLIFF and review page: a document is the unit
a reviewer is given and sends back, two reviewers on two documents never edit the same
file, and ``review import`` takes any number of them at once.

Sheet ``review``: one row per segment, English / Belarusian / Russian side by side,
wrapped, with a frozen header and id column. A target cell is orange when the segment is
flagged (a weak spot), green when it shows an approved fix, grey when skipped; the
characters the checks blame are red and bold (rich text), and the cell's comment lists
the flags and reasons. Each language has a status column with a drop-down
(``approved`` / ``needs work``). The sheet is protected without a password: only the
target and status cells can be edited (columns can still be resized and filtered), so the
id and English cannot change by accident. Two hidden columns carry the segment id and the
hash of its English for matching on import. Sheet ``legend`` says what the scores,
colours and statuses mean.

Every text is written as a string cell (never a formula, whatever it starts with); a
text starting with ``= + - @`` also gets the quote-prefix style, so editing it in a
spreadsheet keeps it text. No guard character is added: what the cell shows is the text.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from workflow.core.langs import LANGUAGES
from workflow.core.records import Row, is_flagged
from workflow.core.tsv import FORMULA_START
from workflow.outputs import latin, sink
from workflow.outputs.page import WEAK_SCORE_MEANING
from workflow.outputs.sink import PerDocument
from workflow.outputs.xliff import xml_safe

SHEET = "review"
LEGEND = "legend"
APPROVED = "approved"
NEEDS_WORK = "needs work"
STATUSES = (APPROVED, NEEDS_WORK)
KEY_ID, KEY_HASH = "key_id", "key_hash"  # the hidden columns

FLAGGED_FILL = PatternFill("solid", fgColor="FCE4D6")  # orange: a weak spot
REVIEWED_FILL = PatternFill("solid", fgColor="E2EFDA")  # green: an approved fix
SKIPPED_FILL = PatternFill("solid", fgColor="EDEDED")  # grey: not translated
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
BLAMED = InlineFont(color="C00000", b=True)
WRAP = Alignment(wrap_text=True, vertical="top")
EDITABLE = Protection(locked=False)


@dataclass(frozen=True)
class Column:
    key: str  # what workflow.review.xlsx reads (id, en, be, status_be, ...)
    label: str  # what the reviewer sees in the header
    width: float
    editable: bool = False
    hidden: bool = False


LATIN_LABEL = f"Łacinka ({latin.LATIN}, made from {latin.SOURCE})"


def columns(targets: Sequence[str], *, with_latin: bool = False) -> list[Column]:
    """The columns of the review sheet, in order (``with_latin``: the locked Łacinka after the Belarusian)."""
    cols = [Column("id", "id", 24), Column("en", "English", 55)]
    for t in targets:
        name = LANGUAGES[t].name if t in LANGUAGES else t
        cols += [Column(t, f"{name} ({t})", 55, editable=True), Column(f"status_{t}", f"status {t}", 13, editable=True)]
        if with_latin and t == latin.SOURCE:
            cols.append(Column(latin.LATIN, LATIN_LABEL, 45))
    for t in targets:
        cols += [Column(f"weak_{t}", f"weak spot {t}", 10), Column(f"flags_{t}", f"flags {t}", 22)]
    cols += [Column(KEY_ID, KEY_ID, 10, hidden=True), Column(KEY_HASH, KEY_HASH, 10, hidden=True)]
    return cols


def labels(targets: Sequence[str]) -> dict[str, str]:
    """Header label -> column key (how the reader finds the columns; the Łacinka's too)."""
    return {c.label: c.key for c in columns(targets, with_latin=True)}


def _rich(text: str, spans: list[dict]) -> CellRichText | str:
    """``text`` with the blamed character spans in red bold (merged where they overlap)."""
    marks = sorted((max(0, int(s["start"])), min(len(text), int(s["end"]))) for s in spans)
    merged: list[list[int]] = []
    for a, b in marks:
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    if not merged:
        return text
    parts: list = []
    pos = 0
    for a, b in merged:
        if a > pos:
            parts.append(text[pos:a])
        parts.append(TextBlock(BLAMED, text[a:b]))
        pos = b
    if pos < len(text):
        parts.append(text[pos:])
    return CellRichText(parts)


def _note(row: Row) -> str | None:
    if not row.flags and not row.spans:
        return None
    lines = [f"weak-spot score {row.weak_score:.2f}" + (" (flagged)" if is_flagged(row) else "")]
    if row.flags:
        lines.append("flags: " + ", ".join(row.flags))
    reasons = list(dict.fromkeys(s.get("reason", "") for s in row.spans if s.get("reason")))
    lines += [f"- {r}" for r in reasons]
    return "\n".join(lines)


def _set(cell, value, *, editable: bool = False, fill: PatternFill | None = None) -> None:
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would take a text starting with "=" for a formula
        if value.startswith(FORMULA_START):
            cell.style = "Normal"
            cell.quotePrefix = True
    cell.alignment = WRAP
    if editable:
        cell.protection = EDITABLE
    if fill is not None:
        cell.fill = fill


CELL_LIMIT = 32767  # characters a cell holds in Excel (a longer one is cut or the file refused)


def fits(per_target: dict[str, Row]) -> bool:
    """Whether every text of a segment fits in a cell: a longer one (a skipped megabyte
    line) is left out of the workbook, never cut (a cut text would come back as a fix);
    the legend names it, and the TSV, XLIFF and review page have it."""
    first = next(iter(per_target.values()))
    texts = [first.en, *(t for r in per_target.values() for t in (r.shown, r.mt))]
    return all(len(t or "") <= CELL_LIMIT for t in texts)


def _review_sheet(ws, segs, targets: Sequence[str], with_latin: bool = False) -> None:
    cols = columns(targets, with_latin=with_latin)
    index = {c.key: i for i, c in enumerate(cols, start=1)}
    for i, c in enumerate(cols, start=1):
        cell = ws.cell(1, i, c.label)
        cell.font, cell.fill, cell.alignment = Font(bold=True), HEADER_FILL, WRAP
        ws.column_dimensions[get_column_letter(i)].width = c.width
        ws.column_dimensions[get_column_letter(i)].hidden = c.hidden
    for n, (sid, per_target) in enumerate(segs, start=2):
        first = next(iter(per_target.values()))
        grey = SKIPPED_FILL if first.is_skipped else None
        _set(ws.cell(n, index["id"]), sid, fill=grey)
        _set(ws.cell(n, index["en"]), xml_safe(first.en), fill=grey)  # U+FFFD for what XML cannot hold
        _set(ws.cell(n, index[KEY_ID]), sid)
        _set(ws.cell(n, index[KEY_HASH]), first.hash)
        if with_latin:  # read-only; one longer than a cell holds is left empty, never cut (the TSV has it)
            lat = xml_safe(latin.text(per_target.get(latin.SOURCE)))
            _set(ws.cell(n, index[latin.LATIN]), lat if len(lat) <= CELL_LIMIT else "", fill=grey)
        for t in targets:
            r = per_target.get(t)
            if r is None:
                continue
            tcell, scell = ws.cell(n, index[t]), ws.cell(n, index[f"status_{t}"])
            if r.is_skipped:
                _set(tcell, "", fill=SKIPPED_FILL)
                _set(scell, f"skipped: {r.skip_reason}", fill=SKIPPED_FILL)
                continue
            shown = xml_safe(r.shown)
            reviewed = r.approved is not None
            fill = REVIEWED_FILL if reviewed else FLAGGED_FILL if is_flagged(r) else None
            _set(tcell, shown if reviewed else _rich(shown, r.spans), editable=True, fill=fill)
            note = None if reviewed else _note(r)
            if note:
                tcell.comment = Comment(note, "workflow", width=320, height=140)
            _set(scell, APPROVED if reviewed else "", editable=True)
            _set(ws.cell(n, index[f"weak_{t}"]), round(r.weak_score, 3))
            _set(ws.cell(n, index[f"flags_{t}"]), ", ".join(r.flags))
    last = max(2, len(segs) + 1)
    dv = DataValidation(type="list", formula1=f'"{",".join(STATUSES)}"', allow_blank=True, showErrorMessage=True,
                        errorTitle="status", error=f"Choose {APPROVED} or {NEEDS_WORK}, or leave the cell empty.")
    for t in targets:
        letter = get_column_letter(index[f"status_{t}"])
        dv.add(f"{letter}2:{letter}{last}")
    ws.add_data_validation(dv)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols) - 2)}{last}"
    ws.protection.sheet = True  # no password: it guards against slips, not people
    ws.protection.formatColumns = ws.protection.formatRows = ws.protection.autoFilter = False


LEGEND_ROWS = [
    ("What this is", "One row per English segment, with its machine translation (MT) or the approved fix "
                     "in each target language. Edit the Belarusian and Russian cells; the other cells are locked."),
    ("Bringing it back", "Save as .xlsx (keep the format) and run: workflow review import FILE.xlsx -r YOUR-NAME. "
                         "A text you change is stored as your approved fix for that language only."),
    (f"status: {APPROVED}", "Approves the text of that language as it is (also an MT you did not change)."),
    (f"status: {NEEDS_WORK}", "Not done: an edit in that language is not imported (it stays in your file)."),
    ("status: empty", "No decision. A changed text is still imported as a fix."),
    ("weak spot", WEAK_SCORE_MEANING),
    ("orange cell", "Flagged as a weak spot (see above). Look here first."),
    ("red bold letters", "The characters a check blames; the cell's comment lists the flags and reasons."),
    ("green cell", "An approved fix (status approved)."),
    ("grey row", "Skipped (boilerplate or not English): not translated, nothing to edit."),
    ("flags", "Names of the checks that did not accept the MT."),
    ("text that starts with = + - @", "Is text, never a formula. To type such a text in a cell, start it with an "
                                      "apostrophe ('=...): the spreadsheet keeps the apostrophe out of the text."),
]


def _legend_sheet(ws, left_out: Sequence[str], with_latin: bool = False) -> None:
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 100
    rows = list(LEGEND_ROWS)
    if with_latin:
        rows.append((LATIN_LABEL, "The Belarusian in the Latin alphabet, converted from the Belarusian cell when the "
                                  "file was written (locked, never imported): fix the Belarusian and the next export "
                                  "converts your fix."))
    if left_out:
        shown = ", ".join(left_out[:20]) + (f" and {len(left_out) - 20} more" if len(left_out) > 20 else "")
        rows.append(("not in this workbook", f"{len(left_out)} segment(s) with a text longer than a cell holds "
                                             f"({CELL_LIMIT:,} characters): {shown}. Review them in the TSV, the "
                                             "XLIFF or the review page."))
    for n, (key, text) in enumerate(rows, start=1):
        _set(ws.cell(n, 1), key)
        ws.cell(n, 1).font = Font(bold=True)
        _set(ws.cell(n, 2), text)


def workbook(segs, targets: Sequence[str], *, with_latin: bool = False) -> bytes:
    """The review workbook of one document (``by_document``'s list of its segments)."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    _review_sheet(ws, [(sid, per) for sid, per in segs if fits(per)], targets, with_latin)
    _legend_sheet(wb.create_sheet(LEGEND), [sid for sid, per in segs if not fits(per)], with_latin)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


class Writer(PerDocument):
    def document(self, doc_id: str, segs) -> Iterator[tuple[str, bytes]]:
        yield f"{doc_id}.xlsx", workbook(segs, self.targets, with_latin=latin.wanted(self.sink.latin, self.targets))


def files(rows: list[Row], targets: Sequence[str], summary: dict) -> list[tuple[str, bytes | str]]:
    return sink.files(Writer, rows, targets, summary)
