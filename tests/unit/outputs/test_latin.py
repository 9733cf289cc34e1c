"""The Łacinka output (``[outputs] latin``): made from the final Belarusian by
belorthography, carried by every format when on and by none when off, schema-valid, and
never taken as a Belarusian fix by ``workflow review import``."""

from __future__ import annotations

import dataclasses
import io
import shutil
from pathlib import Path

import pytest
from belorthography import Orthography, convert
from lxml import etree
from lxml import html as lhtml
from openpyxl import load_workbook

from conftest import CORPUS, DATA, write_config
from review_edit import Table
from review_rows import sample_rows

from workflow import pipeline
from workflow.core.config import load_config
from workflow.core.records import by_document
from workflow.core.tsv import read_tsv, tsv_uncell
from workflow.outputs import latin, page, sink, tmx, tsv, xliff, xlsx
from workflow.outputs.latin import LATIN
from workflow.outputs.xliff import XLIFF2_NS, XLIFF12_NS, XML_NS
from workflow.review.importer import ImportRejected, import_files

TARGETS = ["be", "ru"]
SCHEMAS = Path(__file__).resolve().parents[4] / "shared" / "schemas"
D1 = "amnesty-belarus-police-must-be-held-accountable"


def test_conversion_is_belorthography_official_to_latin():
    text = "Праваабаронцы паведамілі, што Лукашэнка сказаў «не» ў Мінску."
    assert latin.to_latin(text) == convert(text, Orthography.OFFICIAL, Orthography.LATIN)
    assert latin.to_latin("Беларусь") == "Biełaruś" and latin.to_latin(None) is None


def _written(writer, *, on: bool, rows=None) -> dict[str, bytes | str]:
    return dict(sink.files(writer, rows or sample_rows(), TARGETS, {}, latin=on))


def _fix_and_mt():
    """(segment id, Łacinka of the approved fix, Łacinka of the MT) of sample_rows' reviewed row."""
    r = next(r for r in sample_rows() if r.target == "be" and r.approved is not None)
    return r.seg_id, latin.to_latin(r.approved), latin.to_latin(r.mt)


def _tsv_column(text: str, column: str) -> dict[str, str]:
    rows = [[tsv_uncell(c) for c in cells] for _, cells in read_tsv(text, len(text) + 1)]
    col = rows[0].index(column)
    return {r[0]: r[col] for r in rows[1:]}


def test_tsv_column_is_the_latin_of_the_final_belarusian():
    sid, fix, mt = _fix_and_mt()
    got = _tsv_column(_written(tsv.Writer, on=True)["doc-1.tsv"], LATIN)
    be = {r.seg_id: r for r in sample_rows() if r.target == "be"}
    assert got == {s: latin.to_latin(r.shown) or "" for s, r in be.items()}
    assert got[sid] == fix != mt  # the approved fix, not the MT
    assert got["doc-1:p4:s1"] == ""  # skipped: nothing
    assert LATIN not in _written(tsv.Writer, on=False)["doc-1.tsv"]
    assert LATIN not in dict(sink.files(tsv.Writer, sample_rows(), ["ru"], {}, latin=True))["doc-1.tsv"]  # no be


def test_workbook_column_is_locked_and_read_only(tmp_path):
    sid, fix, _ = _fix_and_mt()
    path = tmp_path / "doc-1.xlsx"
    path.write_bytes(_written(xlsx.Writer, on=True)["doc-1.xlsx"])
    wb = load_workbook(path)
    ws = wb["review"]
    labels = [c.value for c in ws[1]]
    col = labels.index(xlsx.LATIN_LABEL) + 1
    assert labels[col - 2] == "status be"  # right after the Belarusian and its status
    ids = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    assert ws.cell(ids[sid], col).value == fix and ws.cell(ids[sid], col).protection.locked and ws.protection.sheet
    assert xlsx.LATIN_LABEL in [c.value for c in wb["legend"]["A"]]
    off = load_workbook(io.BytesIO(_written(xlsx.Writer, on=False)["doc-1.xlsx"]))
    assert xlsx.LATIN_LABEL not in [c.value for c in off["review"][1]]


def test_tmx_has_a_be_latn_variant_valid_against_the_dtd():
    sid, fix, mt = _fix_and_mt()
    for name in ("tmx/doc-1.tmx", tmx.CORPUS):
        data = _written(tmx.Writer, on=True)[name]
        doc = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True)).getroottree()
        dtd = etree.DTD(str(DATA / "tmx14.dtd"))
        assert dtd.validate(doc), dtd.error_log.filter_from_errors()
        tu = doc.getroot().find(f"body/tu[@tuid='{sid}']")
        tuvs = {t.get(f"{{{XML_NS}}}lang"): t for t in tu.findall("tuv")}
        assert list(tuvs) == ["en", "be", "ru", LATIN]
        props = {p.get("type"): p.text for p in tuvs[LATIN].findall("prop")}
        assert tuvs[LATIN].find("seg").text == fix and props["x-mt"] == mt and props["x-converted-from"] == "be"
    assert LATIN.encode() not in _written(tmx.Writer, on=False)["tmx/doc-1.tmx"]


@pytest.mark.skipif(not SCHEMAS.is_dir(), reason="the XLIFF schemas are in ../shared/schemas (absent here)")
def test_xliff_be_latn_files_valid_against_the_oasis_schemas():
    sid, fix, _ = _fix_and_mt()
    files = _written(xliff.Writer, on=True)
    assert {n for n in files if LATIN in n} == {f"xliff/2.1/doc-1.{LATIN}.xlf", f"xliff/1.2/doc-1.{LATIN}.xlf"}
    v21 = etree.XMLSchema(etree.parse(str(SCHEMAS / "xliff-2.1" / "all-modules.xsd")))
    root = etree.fromstring(files[f"xliff/2.1/doc-1.{LATIN}.xlf"])
    assert v21.validate(root), v21.error_log.filter_from_errors()
    assert root.get("trgLang") == LATIN
    unit = root.find(f"{{{XLIFF2_NS}}}file/{{{XLIFF2_NS}}}unit[@id='{sid}']")
    assert unit.find(f".//{{{XLIFF2_NS}}}target").text == fix
    assert "never imported" in unit.find(f".//{{{XLIFF2_NS}}}note[@category='latin']").text
    for xsd in ("local-strict.xsd", "local-transitional.xsd"):
        v12 = etree.XMLSchema(etree.parse(str(SCHEMAS / "xliff12" / xsd)))
        root = etree.fromstring(files[f"xliff/1.2/doc-1.{LATIN}.xlf"])
        assert v12.validate(root), v12.error_log.filter_from_errors()
    assert root.find(f"{{{XLIFF12_NS}}}file").get("target-language") == LATIN
    # the Belarusian files are unchanged by the option
    assert files["xliff/2.1/doc-1.be.xlf"] == _written(xliff.Writer, on=False)["xliff/2.1/doc-1.be.xlf"]
    assert not any(LATIN in n for n in _written(xliff.Writer, on=False))


def test_review_page_column_has_no_edit_button_and_is_escaped():
    rows = sample_rows()
    sid, fix, _ = _fix_and_mt()
    html = _written(page.Writer, on=True, rows=rows)["review/doc-1.html"]
    tree = lhtml.fromstring(html)
    cell = tree.get_element_by_id(f"seg-{sid}").find_class("latin")[0]
    assert cell.text_content() == fix and "tgt" not in cell.get("class") and cell.get("lang") == LATIN
    assert [th.get("lang") for th in tree.xpath("//thead//th[@lang]")] == TARGETS  # what the script makes editable
    assert "<script>alert" not in html.split("<tbody>")[1].split("</tbody>")[0]  # the hostile text escaped
    assert 'class="latin"' not in _written(page.Writer, on=False, rows=rows)["review/doc-1.html"]


def test_an_approved_fix_changes_the_latin():
    rows = sample_rows()
    be = next(r for r in rows if r.target == "be" and r.approved is None and not r.is_skipped)
    before = _tsv_column(_written(tsv.Writer, on=True, rows=rows)["doc-1.tsv"], LATIN)[be.seg_id]
    fixed = [dataclasses.replace(r, approved="Новы выпраўлены сказ.", status="reviewed") if r is be else r for r in rows]
    after = _tsv_column(_written(tsv.Writer, on=True, rows=fixed)["doc-1.tsv"], LATIN)[be.seg_id]
    assert before == latin.to_latin(be.mt) and after == latin.to_latin("Новы выпраўлены сказ.") != before
    (doc, segs), = by_document(fixed).items()
    assert dict(latin.with_latin(segs))[be.seg_id][LATIN].shown == after


# ------------------------------------------------------------- the review loop with the real tool


@pytest.fixture(scope="module")
def proj(tmp_path_factory, tiny_marian):
    root = tmp_path_factory.mktemp("latin")
    (root / "corpus").mkdir()
    head = (CORPUS / f"{D1}.txt").read_text(encoding="utf-8").split("\n")[:12]
    (root / "corpus" / f"{D1}.txt").write_text("\n".join(head) + "\n", encoding="utf-8")
    cfg = load_config(write_config(root, be=tiny_marian, ru=tiny_marian, corpus=root / "corpus",
                                   extra="\n[outputs]\nlatin = true\n"))
    pipeline.run(cfg)
    return root, cfg


@pytest.mark.slow  # over ~2 s: make test, not make test-fast
def test_run_writes_latin_and_a_cyrillic_fix_regenerates_it(proj, tmp_path):
    root, cfg = proj
    out = root / "aligned"
    assert (out / "xliff" / "2.1" / f"{D1}.{LATIN}.xlf").is_file() and (out / "xliff" / "1.2" / f"{D1}.{LATIN}.xlf").is_file()
    table = Table(out / f"{D1}.tsv")
    i = table.where("status_be", "mt")[0]
    sid = table.get(i, "id")
    assert table.get(i, LATIN) == latin.to_latin(table.get(i, "be"))
    table.set(i, "be", "Выпраўлены беларускі сказ пра суд.")  # the Łacinka cell left as exported (now stale)
    res = import_files(cfg, [table.save(tmp_path / "fix.tsv")], "alice")
    assert [(f.seg_id, f.target, f.text) for f in res.fixes] == [(sid, "be", "Выпраўлены беларускі сказ пра суд.")]
    pipeline.rescore(cfg)
    again = Table(out / f"{D1}.tsv")
    assert again.get(i, LATIN) == latin.to_latin("Выпраўлены беларускі сказ пра суд.")
    tree = etree.parse(str(out / "xliff" / "2.1" / f"{D1}.{LATIN}.xlf"))
    unit = tree.getroot().find(f".//{{{XLIFF2_NS}}}unit[@id='{sid}']")
    assert unit.find(f".//{{{XLIFF2_NS}}}target").text == again.get(i, LATIN)
    assert "Vypraŭleny" in again.get(i, LATIN)


def _refused(cfg, path) -> str:
    with pytest.raises(ImportRejected) as e:
        import_files(cfg, [path], "mallory")
    return "\n".join(map(str, e.value.problems))


def test_import_never_takes_the_latin_as_a_fix(proj, tmp_path):
    root, cfg = proj
    out = root / "aligned"
    # unchanged Łacinka (TSV column, workbook column, be-Latn XLIFF): nothing imported, nothing refused
    shutil.copy(out / f"{D1}.xlsx", tmp_path / "as-is.xlsx")
    res = import_files(cfg, [out / f"{D1}.tsv", tmp_path / "as-is.xlsx", out / "xliff" / "2.1" / f"{D1}.{LATIN}.xlf",
                             out / "xliff" / "1.2" / f"{D1}.{LATIN}.xlf"], "mallory", dry_run=True)
    assert res.fixes == []
    # TSV: an edited Łacinka cell is refused, naming the line and where to fix instead
    table = Table(out / f"{D1}.tsv")
    i = table.where("status_be", "mt")[0]
    table.set(i, LATIN, "Zusim inšy tekst łacinkaj.")
    msg = _refused(cfg, table.save(tmp_path / "latin.tsv"))
    assert f"latin.tsv:{table.line(i)}: {table.get(i, 'id')}: the {LATIN} (Łacinka) text was edited" in msg
    assert "make the fix in the be text" in msg
    # workbook: the same (a spreadsheet can unlock the sheet)
    wb = load_workbook(out / f"{D1}.xlsx")
    ws = wb["review"]
    col = [c.value for c in ws[1]].index(xlsx.LATIN_LABEL) + 1
    n = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, col).value)  # a row with a Łacinka text
    ws.cell(n, col).value = "Zusim inšy tekst łacinkaj."
    wb.save(tmp_path / "latin.xlsx")
    assert f"latin.xlsx:{n}: {ws.cell(n, 1).value}: the {LATIN} (Łacinka) text was edited" in _refused(cfg, tmp_path / "latin.xlsx")
    # XLIFF 2.1 and 1.2 be-Latn files with an edited target
    for version, ns, unit_tag in (("2.1", XLIFF2_NS, "unit"), ("1.2", XLIFF12_NS, "trans-unit")):
        tree = etree.parse(str(out / "xliff" / version / f"{D1}.{LATIN}.xlf"))
        unit = next(u for u in tree.getroot().iter(f"{{{ns}}}{unit_tag}") if u.get("translate") != "no")
        unit.find(f".//{{{ns}}}target").text = "Zusim inšy tekst łacinkaj."
        path = tmp_path / f"latin-{version}.xlf"
        tree.write(str(path), xml_declaration=True, encoding="UTF-8")
        assert f"{unit.get('id')}: the {LATIN} (Łacinka) text was edited" in _refused(cfg, path)
