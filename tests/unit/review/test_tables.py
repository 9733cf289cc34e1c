"""Review tables without a model: the TSV cell format both ways (property-based), reading
what spreadsheets write, the workbook written and read back, and what a workbook or XLIFF
must not contain."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from review_rows import HOSTILE, sample_rows

from workflow.core.records import by_document
from workflow.core.tsv import DIALECT, read_tsv, tsv, tsv_cell, tsv_escape, tsv_uncell
from workflow.outputs.xlsx import KEY_HASH, columns, files, workbook
from workflow.review.parse import XliffError, parse_table, parse_tsv, read_xliff
from workflow.review.xlsx import XlsxError, read_workbook

TARGETS = ["be", "ru"]
# any text a cell can hold: formula starts, apostrophes, quotes, tabs, line ends, backslashes
texts = st.text(alphabet=st.sampled_from(list("=+-@'\"\t\n\r\\ aZяў«»;,")) | st.characters(codec="utf-8"),
                max_size=40)


@given(texts)
def test_every_text_written_comes_back_through_the_guard(text):
    assert tsv_uncell(tsv_cell(text)) == text
    assert not tsv_cell(text).startswith(("=", "+", "-", "@"))


@settings(max_examples=200)
@given(st.lists(st.tuples(texts, texts), min_size=1, max_size=5), st.sampled_from(["\n", "\r\n", "\r"]))
def test_a_whole_file_reads_back_with_any_line_end(rows, newline):
    text = tsv(["en", "be"], rows).replace("\n", newline)
    got = [[tsv_uncell(c) for c in cells] for _, cells in read_tsv(text, len(text) + 1)]
    assert got == [["en", "be"], *[list(r) for r in rows]]


@settings(max_examples=200)
@given(texts.filter(lambda t: t.strip()), st.sampled_from(["\n", "\r\n", "\r"]))
def test_a_fix_a_script_writes_is_read_exactly(fix, newline):
    """A reviewer's (or script's) cell is read as written: an apostrophe stays."""
    buf = io.StringIO()
    w = csv.writer(buf, DIALECT, lineterminator=newline)
    w.writerows([["id", "status_be", "en", "be"], ["d:p1:s1", "", "Hello.", tsv_escape(fix)]])
    cands, rows, problems = parse_tsv("f.tsv", buf.getvalue(), TARGETS)
    assert problems == [] and [c.text for c in cands] == [fix]


def test_what_calc_saves_is_read():
    """LibreOffice Calc's TSV (measured in tests/e2e/test_spreadsheets.py): every text field
    quoted, inner quotes doubled, a guarded cell kept as text, a typed '=x saved as =x."""
    saved = ('"id"\t"status_be"\t"status_ru"\t"en"\t"be"\t"ru"\n'
             '"d:p1:s1"\t"approved"\t"mt"\t"""We are honest,"" he said."\t"«Мы сумленныя»"\t"=x"\n')
    cands, rows, problems = parse_tsv("calc.tsv", saved, TARGETS)
    assert problems == [] and rows[0].en == '"We are honest," he said.'
    assert [(c.target, c.text, c.approve) for c in cands] == [("be", "«Мы сумленныя»", True), ("ru", "=x", False)]


def test_old_unquoted_tsv_is_read_the_way_its_english_matches():
    """A TSV written before fields were quoted: a field starting with a quote is text."""
    old = 'id\tstatus\ten\tbe\nd:p1:s1\tmt\t"We are honest," he said.\t"Мы" сумленныя\n'
    english = {'"We are honest," he said.'}
    cands, rows, problems = parse_tsv("old.tsv", old, TARGETS, english)
    assert rows[0].en == '"We are honest," he said.' and cands[0].text == '"Мы" сумленныя'
    assert cands[0].row_wide


def test_statuses_per_language_and_unknown_ones():
    header = ["id", "en", "be", "status_be", "ru", "status_ru"]
    rows = [(2, ["d:p1:s1", "A.", "а", "Approved", "б", "needs  work"]), (3, ["d:p2:s1", "B.", "в", "ok?", "г", ""])]
    cands, seen, problems = parse_table("t", header, rows, TARGETS)
    assert [(c.target, c.approve, c.needs_work) for c in cands] == [("be", True, False), ("ru", False, True),
                                                                    ("ru", False, False)]
    assert [str(p) for p in problems] == ["t:3: unknown status 'ok?' in column status_be: use approved, "
                                          "needs work, or leave it as exported"]


def _workbook(rows=None):
    rows = rows or sample_rows()
    (doc, segs), = by_document(rows).items()
    return workbook(segs, TARGETS)


def test_workbook_layout_protection_and_legend(tmp_path):
    rows = sample_rows()
    rows[2].spans = [{"start": 0, "end": 4, "reason": "wrong letters"}, {"start": 2, "end": 8, "reason": "more"}]
    path = tmp_path / "doc.xlsx"
    path.write_bytes(_workbook(rows))
    wb = load_workbook(path, rich_text=True)
    ws = wb["review"]
    assert wb.sheetnames == ["review", "legend"] and ws.freeze_panes == "B2" and ws.protection.sheet
    keys = [c.key for c in columns(TARGETS)]
    col = {k: i + 1 for i, k in enumerate(keys)}
    assert [c.value for c in ws[1]] == [c.label for c in columns(TARGETS)]
    assert ws.column_dimensions["K"].hidden and ws.column_dimensions["L"].hidden
    for r in range(2, ws.max_row + 1):
        for k in keys:
            cell = ws.cell(r, col[k])
            assert cell.protection.locked == (k not in ("be", "ru", "status_be", "status_ru") or
                                              (ws.cell(r, col["status_be"]).value or "").startswith("skipped")), (r, k)
    (dv,) = ws.data_validations.dataValidation
    assert dv.formula1 == '"approved,needs work"' and str(dv.sqref) == "D2:D5 F2:F5"
    flagged = ws.cell(3, col["be"])  # the hostile row, flagged with blamed spans
    assert flagged.fill.fgColor.rgb.endswith("FCE4D6") and "wrong letters" in flagged.comment.text
    blocks = [b for b in flagged.value if not isinstance(b, str)]
    assert [b.text for b in blocks] == [str(flagged.value)[:8]] and blocks[0].font.color.rgb.endswith("C00000")
    assert ws.cell(2, col["be"]).fill.fgColor.rgb.endswith("E2EFDA") and ws.cell(2, col["status_be"]).value == "approved"
    assert "weak spot" in [c.value for c in wb["legend"]["A"]]


def test_formula_like_text_is_a_string_cell_and_reads_back_exactly(tmp_path):
    rows = sample_rows()
    rows[4].mt = "=HYPERLINK(\"http://x\",\"y\") і '=тэкст"
    path = tmp_path / "doc.xlsx"
    path.write_bytes(_workbook(rows))
    cell = load_workbook(path)["review"]["C4"]
    assert cell.data_type == "s" and cell.quotePrefix and cell.value == rows[4].mt
    keys, table, problems = read_workbook(path.read_bytes(), str(path), TARGETS, 2**26)
    assert problems == [] and table[2][1][keys.index("be")] == rows[4].mt
    assert "key_id" not in keys and keys.count("id") == 1  # the hidden key is the id read; the shown one is not
    cands, seen, problems = parse_table("doc.xlsx", keys, table, TARGETS, hash_column=KEY_HASH)
    assert problems == [] and [s.seg_id for s in seen] == [f"doc-1:p{n}:s1" for n in (1, 2, 3, 4)]
    assert [s.en_hash for s in seen] == [r.hash for r in rows if r.target == "be"]
    assert HOSTILE[:20] in seen[1].en


def _repack(data: bytes, change) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info)))
    return out.getvalue()


def test_workbook_with_a_doctype_or_too_big_unpacked_is_refused():
    data = _workbook()
    doctype = b'<!DOCTYPE x [<!ENTITY a "b">]>'
    evil = _repack(data, lambda n, b: (b.replace(b"?>", b"?>" + doctype, 1) if b.startswith(b"<?xml") else doctype + b)
                   if n == "xl/worksheets/sheet1.xml" else b)
    with pytest.raises(XlsxError, match="part xl/worksheets/sheet1.xml has a DOCTYPE declaration"):
        read_workbook(evil, "evil.xlsx", TARGETS, 2**26)
    bomb = _repack(data, lambda n, b: b + b" " * 3_000_000 if n == "xl/worksheets/sheet1.xml" else b)
    assert len(bomb) < 200_000
    with pytest.raises(XlsxError, match="unpacks to 3 MB, more than the 2 MB"):
        read_workbook(bomb, "bomb.xlsx", TARGETS, 2 * 2**20)
    with pytest.raises(XlsxError, match="not a zip archive"):
        read_workbook(b"id\ten\n", "not.xlsx", TARGETS, 2**26)


def test_xliff_doctype_is_refused_even_without_entities():
    for doc in (b'<?xml version="1.0"?>\n<!DOCTYPE xliff>\n<xliff version="2.1"/>',
                b'<!DOCTYPE x [<!ENTITY a "b">]>\n<xliff version="2.1">&a;</xliff>',
                b'<!DOCTYPE x [<!ENTITY a "b">]>\n<xliff version="2.1">&undeclared;</xliff>'):
        with pytest.raises(XliffError, match="DOCTYPE"):
            read_xliff(doc)


def test_files_writes_one_workbook_per_document():
    rows = sample_rows("doc-a") + sample_rows("doc-b")
    assert [name for name, _ in files(rows, TARGETS, {})] == ["doc-a.xlsx", "doc-b.xlsx"]
