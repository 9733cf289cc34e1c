"""TMX 1.4b and XLIFF 2.1 / 1.2 writers: valid, escaped, readable by translate-toolkit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from review_rows import HOSTILE, sample_rows
from workflow.core.records import by_document
from workflow.outputs.tmx import tmx
from workflow.outputs.xliff import MDA_NS, XLIFF2_NS, XLIFF12_NS, XML_NS, xliff12, xliff21, xml_safe
from workflow.review.parse import XliffError, read_xliff

from conftest import DATA

DTD = DATA / "tmx14.dtd"  # TMX 1.4b (LISA OSCAR) declarations
TARGETS = ["be", "ru"]


def _per_target(rows, t):
    return [r for r in rows if r.target == t]


def test_xml_safe_replaces_illegal_characters():
    assert xml_safe("a\x00b\x07c\x1fd\ufffee\tf\ng") == "a\ufffdb\ufffdc\ufffdd\ufffde\tf\ng"
    assert xml_safe(None) == ""


def test_tmx_valid_against_tmx14_dtd_and_text_only(tmp_path):
    rows = sample_rows()
    other = next(r for r in rows if r.target == "ru" and r.seg_id == "doc-1:p3:s1")
    other.model = "another-model"  # e.g. a model changed in the config: that variant says so itself
    data = tmx(by_document(rows)["doc-1"], TARGETS)
    doc = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True)).getroottree()
    dtd = etree.DTD(str(DTD))
    assert dtd.validate(doc), dtd.error_log.filter_from_errors()
    root = doc.getroot()
    assert root.get("version") == "1.4" and root.find("header").get("srclang") == "en"
    assert doc.docinfo.doctype == '<!DOCTYPE tmx SYSTEM "tmx14.dtd">'
    tus = root.findall("body/tu")
    assert len(tus) == 3  # the skipped segment is not a translation unit
    hostile = tus[1]
    langs = [tuv.get(f"{{{XML_NS}}}lang") for tuv in hostile.findall("tuv")]
    assert langs == ["en", "be", "ru"]
    segs = {tuv.get(f"{{{XML_NS}}}lang"): tuv.find("seg") for tuv in hostile.findall("tuv")}
    assert segs["en"].text == xml_safe(HOSTILE) and len(segs["en"]) == 0  # text, never elements
    assert root.find(".//script") is None and root.find(".//img") is None
    props = {p.get("type"): p.text for p in hostile.iter("prop")}
    assert hostile.get("tuid") == "doc-1:p2:s1" and "x-seg-id" not in props  # the id once, as tuid
    assert "x-weak-score" in props and "x-flags" in props
    # the model once per file, in the header, per target; a unit's variant only where it differs
    header = {p.get("type"): p.text for p in root.find("header").findall("prop")}
    assert header == {"x-model:be": "tiny-model", "x-model:ru": "tiny-model"} and "x-model" not in props
    by_lang = {tuv.get(f"{{{XML_NS}}}lang"): {p.get("type"): p.text for p in tuv.findall("prop")}
               for tuv in tus[2].findall("tuv")}
    assert by_lang["ru"]["x-model"] == "another-model" and "x-model" not in by_lang["be"]
    # no indentation: one unit per line, and the text inside <seg> as written
    assert data.count(b"\n<tu ") == 3 and b"\n  " not in data
    reviewed = tus[0].findall("tuv")[1]
    rprops = {p.get("type"): p.text for p in reviewed.findall("prop")}
    assert reviewed.find("seg").text == "Правільны сказ." and rprops["x-status"] == "reviewed"
    assert rprops["x-mt"] == "Просты сказ." and rprops["x-reviewer"] == "alice"
    # translate-toolkit opens it too
    from translate.storage.tmx import tmxfile

    p = tmp_path / "x.tmx"
    p.write_bytes(data)
    st = tmxfile.parsefile(str(p))
    assert len(st.units) == 3


def test_xliff21_structure_states_and_translate_toolkit(tmp_path):
    from translate.storage.xliff2 import Xliff2File

    rows = _per_target(sample_rows(), "be")
    data = xliff21("doc-1", "be", rows)
    root = etree.fromstring(data)
    assert root.tag == f"{{{XLIFF2_NS}}}xliff" and root.get("version") == "2.1"
    assert (root.get("srcLang"), root.get("trgLang")) == ("en", "be")
    units = root.findall(f"{{{XLIFF2_NS}}}file/{{{XLIFF2_NS}}}unit")
    assert [u.get("id") for u in units] == [f"doc-1:p{i}:s1" for i in (1, 2, 3, 4)]
    for u in units:  # modules, then notes, then segment (XLIFF 2 core order)
        order = [etree.QName(c).localname for c in u]
        assert order == [x for x in ("metadata", "notes", "segment") if x in order] and order[-1] == "segment"
    states = [u.find(f"{{{XLIFF2_NS}}}segment").get("state") for u in units]
    assert states == ["final", "initial", "initial", "initial"]
    assert units[3].get("translate") == "no" and units[3].find(f".//{{{XLIFF2_NS}}}target") is None
    meta = {m.get("type"): m.text for m in units[1].iter(f"{{{MDA_NS}}}meta")}
    assert float(meta["weak_score"]) == 2.5 and "flags" not in meta and "model" not in meta  # flags: the note
    notes = {n.get("category"): n.text for n in units[1].iter(f"{{{XLIFF2_NS}}}note")}
    assert notes["flags"] == "low_confidence"
    # what every unit shares, once: the model in the file's metadata; the hash is the unit's name
    file_meta = root.find(f"{{{XLIFF2_NS}}}file/{{{MDA_NS}}}metadata")
    assert {m.get("type"): m.text for m in file_meta.iter(f"{{{MDA_NS}}}meta")} == {"model": "tiny-model"}
    assert units[1].get("name") == rows[1].hash and "source_hash" not in meta
    assert data.count(b"\n<unit ") == 4 and b"\n  " not in data  # one unit per line, no indentation
    assert units[1].find(f".//{{{XLIFF2_NS}}}source").text == xml_safe(HOSTILE)
    assert root.find(".//script") is None
    p = tmp_path / "doc-1.be.xlf"
    p.write_bytes(data)
    st = Xliff2File.parsefile(str(p))
    assert st.gettargetlanguage() == "be"
    got = {u.getid(): u for u in st.units}
    assert got["doc-1:p1:s1"].target == "Правільны сказ." and got["doc-1:p1:s1"].isapproved()
    assert got["doc-1:p2:s1"].source == xml_safe(HOSTILE) and got["doc-1:p2:s1"].isfuzzy()
    assert not got["doc-1:p4:s1"].istranslatable()
    back = read_xliff(data)
    assert back.version == "2.1" and back.target == "be"
    assert [(u.id, u.state) for u in back.units][:2] == [("doc-1:p1:s1", "final"), ("doc-1:p2:s1", "initial")]


def test_xliff12_readable_by_translate_toolkit(tmp_path):
    from translate.storage import factory

    rows = _per_target(sample_rows(), "ru")
    rows[2].approved, rows[2].reviewer = "Исправлено & <ok>", "bob"
    p = tmp_path / "doc-1.ru.xlf"
    p.write_bytes(xliff12("doc-1", "ru", rows))
    root = etree.parse(str(p)).getroot()
    assert root.tag == f"{{{XLIFF12_NS}}}xliff" and root.get("version") == "1.2"
    st = factory.getobject(str(p))
    assert type(st).__name__ == "Xliff1File"
    units = [u for u in st.units if not u.isheader()]
    assert len(units) == 4
    by_src = {u.source: u for u in units}
    assert by_src["Third one & more."].target == "Исправлено & <ok>" and by_src["Third one & more."].isapproved()
    assert by_src[xml_safe(HOSTILE)].target == xml_safe("ru " + HOSTILE)
    assert "wrong_script" in by_src[xml_safe(HOSTILE)].getnotes("developer")  # the notes xliff2po keeps
    assert by_src[xml_safe(HOSTILE)].getlocations() == ["doc-1:p2:s1"]
    back = read_xliff(p.read_bytes())
    assert back.version == "1.2" and back.target == "ru"
    assert [u.state for u in back.units] == ["translated", "needs-review-translation", "final", None]


def test_read_xliff_refuses_bad_input_with_line():
    with pytest.raises(XliffError) as e:
        read_xliff(b'<?xml version="1.0"?>\n<xliff version="2.1" xmlns="urn:oasis:names:tc:xliff:document:2.0">\n<file id="f">\n<unit id="a">\n</xliff>')
    assert e.value.line >= 4
    with pytest.raises(XliffError, match="not an XLIFF"):
        read_xliff(b"<tmx version='1.4'/>")
    xxe = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           b'<xliff version="2.1" xmlns="urn:oasis:names:tc:xliff:document:2.0" trgLang="be"><file id="f">'
           b'<unit id="u"><segment><source>&e;</source><target>t</target></segment></unit></file></xliff>')
    with pytest.raises(XliffError, match="DOCTYPE"):  # any DOCTYPE is refused; the entity is never read
        read_xliff(xxe)


# ---------------------------------------------------------------- XLIFF 1.2 through translate-toolkit's command line

SCHEMAS = Path(__file__).resolve().parents[4] / "shared" / "schemas" / "xliff12"


def _ru_with_repeat():
    """The Russian rows of a document whose first English sentence comes back as its third."""
    rows = _per_target(sample_rows(), "ru")
    rows[2].en = rows[0].en
    return rows


@pytest.mark.skipif(not SCHEMAS.is_dir(), reason="the XLIFF 1.2 schemas are in ../shared/schemas (absent here)")
@pytest.mark.parametrize("xsd", ["local-strict.xsd", "local-transitional.xsd"])
def test_xliff12_valid_against_the_oasis_schemas(xsd):
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / xsd)))
    for t in TARGETS:
        doc = etree.fromstring(xliff12("doc-1", t, _per_target(sample_rows(), t)))
        assert schema.validate(doc), schema.error_log.filter_from_errors()


def test_xliff12_ids_and_notes_survive_xliff2po_and_po2xliff(tmp_path):
    tools = Path(sys.executable).parent
    xlf = tmp_path / "doc-1.ru.xlf"
    xlf.write_bytes(xliff12("doc-1", "ru", _ru_with_repeat()))
    po, back = tmp_path / "doc-1.ru.po", tmp_path / "back.xlf"
    for cmd in ([tools / "xliff2po", xlf, po], [tools / "po2xliff", po, back]):
        done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and "warning" not in done.stderr.lower(), done.stderr
    from translate.storage import pypo, xliff  # noqa: PLC0415 - test dependency, as in the tests above

    units = [u for u in pypo.pofile.parsefile(str(po)).units if not u.isheader()]
    assert [u.getlocations() for u in units] == [["doc-1:p1:s1"], ["doc-1:p2:s1"], ["doc-1:p3:s1"], ["doc-1:p4:s1"]]
    assert [u.getcontext() for u in units] == ["doc-1:p1:s1", "", "doc-1:p3:s1", ""]  # the repeated English apart
    assert "flags: wrong_script" in units[1].getnotes("developer") and "weak_score: 1.000" in units[1].getnotes("developer")
    assert "skipped: donation appeal" in units[3].getnotes("developer")
    assert [u.isfuzzy() for u in units[:3]] == [True, True, True]  # machine translation, not yet approved
    # po2xliff numbers its units itself; the segment ids come back as locations, the notes as developer notes
    again = [u for u in xliff.xlifffile.parsefile(str(back)).units if not u.isheader()]
    assert [u.getlocations() for u in again] == [u.getlocations() for u in units]
    assert "flags: wrong_script" in again[1].getnotes("developer")


def test_pofilter_lists_the_weak_spots_of_xliff12_with_their_segment_ids(tmp_path):
    tools = Path(sys.executable).parent
    xlf, out = tmp_path / "doc-1.ru.xlf", tmp_path / "weak.xlf"
    rows = _per_target(sample_rows(), "ru")
    xlf.write_bytes(xliff12("doc-1", "ru", rows))
    # a flagged segment is needs-review-translation, which translate-toolkit calls "marked for review"
    done = subprocess.run([str(tools / "pofilter"), "--test=isreview", str(xlf), str(out)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    units = list(etree.parse(str(out)).getroot().iter("{*}trans-unit"))  # pofilter writes the XLIFF 1.1 namespace
    assert [u.get("id") for u in units] == [r.seg_id for r in rows if r.flagged and r.approved is None]
    assert any((n.get("from"), (n.text or "").split(":")[0]) == ("pofilter", "isreview") for n in units[0].iter("{*}note"))
    assert [u.id for u in read_xliff(out.read_bytes()).units] == ["doc-1:p2:s1"]  # review import reads pofilter's output
