"""OmegaT projects: what the writer lays out (workflow.outputs.omegat) and how the reader ties
a saved project memory back to segments (workflow.review.omegat). Real OmegaT drives the
same files in tests/e2e/test_omegat.py; these cases need no Java."""

from __future__ import annotations

import os
from pathlib import Path

import polib
import pytest
from lxml import etree

from review_rows import HOSTILE, sample_rows
from workflow.outputs import omegat
from workflow.outputs.xliff import XML_NS, xml_safe
from workflow.review.importer import read_review_file
from workflow.review.omegat import is_omegat, read_project

from conftest import CORPUS, DATA

TARGETS = ["be", "ru"]


def _rows():
    """Two documents with the same three English sentences (and one skipped), each with its own MT."""
    rows = sample_rows("doc-1") + sample_rows("doc-2")
    for r in rows:
        if r.doc_id == "doc-2" and r.mt:
            r.mt += " (2)"
    return rows


def _write(folder: Path, rows, glossary: Path | None = CORPUS / "glossary.toml") -> Path:
    summary = {"glossary": str(glossary)} if glossary else {}
    for name, data in omegat.files(rows, TARGETS, summary):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return folder / "omegat"


def test_one_project_per_target_with_omegat_settings(tmp_path):
    base = _write(tmp_path, _rows())
    for t in TARGETS:
        project = base / t
        names = sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file())
        assert names == sorted(["omegat.project", "omegat/filters.xml", "target/README.txt", omegat.GLOSSARY_FILE]
                               + [f"{k}/doc-{n}.{ext}" for n in (1, 2) for k, ext in (("source", "po"), ("tm/auto", "tmx"))]
                               + ([f"tm/mt/doc-{n}.tmx" for n in (1, 2)] if t == "be" else []))  # be has an approved fix
        settings = etree.parse(str(project / "omegat.project")).find("project")
        assert (settings.findtext("source_lang"), settings.findtext("target_lang")) == ("en", t)
        assert settings.findtext("sentence_seg") == "false"  # one OmegaT segment = one workflow segment
        assert settings.findtext("support_default_translations") == "false"  # no auto-propagation
        assert settings.findtext("target_tok") == omegat.TOKENIZERS.get(t, omegat.DEFAULT_TOKENIZER)
        po_filter = etree.parse(str(project / "omegat" / "filters.xml")).find("filter")
        assert po_filter.get("className") == "org.omegat.filters2.po.PoFilter"
        assert po_filter.find("option").attrib == {"name": "skipHeader", "value": "true"}


def test_source_po_has_the_english_keyed_by_segment_id_and_notes_as_comments(tmp_path):
    rows = _rows()
    base = _write(tmp_path, rows)
    po = polib.pofile(str(base / "be" / "source" / "doc-1.po"))
    assert po.metadata["Language"] == "be"
    mine = [r for r in rows if r.doc_id == "doc-1" and r.target == "be" and not r.is_skipped]
    assert [(e.msgctxt, e.msgid, e.msgstr) for e in po] == [(r.seg_id, xml_safe(r.en), "") for r in mine]
    assert "Donate now!" not in (base / "be" / "source" / "doc-1.po").read_text(encoding="utf-8")  # skipped: left out
    hostile = next(e for e in po if e.msgctxt == "doc-1:p2:s1")
    assert hostile.msgid == xml_safe(HOSTILE)  # quotes, backslashes and markup survive PO escaping
    assert "flags: low_confidence" in hostile.comment and "weak_score: 2.500" in hostile.comment
    assert hostile.comment.splitlines()[0] == "segment doc-1:p2:s1"
    assert "approved by alice" in po[0].comment
    assert "\n" not in "".join(line for line in (base / "be" / "source" / "doc-1.po").read_text().split("\n")
                               if line.startswith("msgctxt"))  # never wrapped (OmegaT reads one msgctxt line)


def test_tm_auto_binds_each_pretranslation_to_its_segment_and_is_valid_tmx(tmp_path):
    rows = _rows()
    base = _write(tmp_path, rows)
    path = base / "be" / "tm" / "auto" / "doc-2.tmx"
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    dtd = etree.DTD(str(DATA / "tmx14.dtd"))
    assert dtd.validate(tree), dtd.error_log.filter_from_errors()
    tus = tree.getroot().findall("body/tu")
    mine = [r for r in rows if r.doc_id == "doc-2" and r.target == "be" and not r.is_skipped]
    assert len(tus) == len(mine)
    for tu, r in zip(tus, mine):
        # only OmegaT's key properties on the tu: OmegaT 3.6 skips an entry with any other one
        assert [(p.get("type"), p.text) for p in tu.findall("prop")] == [("file", "doc-2.po"), ("path", r.seg_id)]
        src, tgt = tu.findall("tuv")
        assert (src.get(f"{{{XML_NS}}}lang"), src.find("seg").text) == ("en", xml_safe(r.en))
        assert (tgt.get(f"{{{XML_NS}}}lang"), tgt.find("seg").text) == ("be", xml_safe(r.shown))
        assert tgt.get("changeid") == omegat.PRETRANSLATED_BY
        props = {p.get("type"): p.text for p in tgt.findall("prop")}
        assert props == {"x-status": "reviewed", "x-reviewer": "alice"} if r.approved else {"x-status": "mt"}
    # the model once, in the header (score and flags are in the PO comments, where OmegaT shows them)
    assert [(p.get("type"), p.text) for p in tree.getroot().find("header")] == [("x-model", "tiny-model")]
    assert tree.getroot().find(".//script") is None
    replaced = etree.parse(str(base / "be" / "tm" / "mt" / "doc-2.tmx")).getroot().findall("body/tu")
    assert [tu.findall("tuv")[1].find("seg").text for tu in replaced] == ["Просты сказ. (2)"]  # the MT a fix replaced


def test_glossary_is_omegat_tab_separated_with_clean_cells(tmp_path):
    toml = tmp_path / "glossary.toml"
    toml.write_text('[[term]]\nen = ["Viasna", "Vyasna\\tCentre"]\nbe = ["Вясна", "Вясны"]\nru = ["Весна"]\n'
                    'avoid_be = ["Весна"]\nkind = "organisation"\n', encoding="utf-8")
    base = _write(tmp_path / "out", _rows(), toml)
    lines = (base / "be" / omegat.GLOSSARY_FILE).read_text(encoding="utf-8").splitlines()
    assert lines == ["Viasna\tВясна\torganisation, preferred; avoid: Весна", "Viasna\tВясны\torganisation; avoid: Весна",
                     "Vyasna Centre\tВясна\torganisation, preferred; avoid: Весна",
                     "Vyasna Centre\tВясны\torganisation; avoid: Весна"]
    assert (base / "ru" / omegat.GLOSSARY_FILE).read_text(encoding="utf-8").splitlines()[0] == "Viasna\tВесна\torganisation, preferred"
    assert not (_write(tmp_path / "none", _rows(), None) / "be" / omegat.GLOSSARY_FILE).exists()


# ---------------------------------------------------------------- reading a saved project back


def _save(project: Path, tus: list[str], *, tmx11: bool = True, doctype: str = '<!DOCTYPE tmx SYSTEM "tmx11.dtd">') -> Path:
    """A project_save.tmx as OmegaT 3.6 writes it (TMX 1.1, ``lang``) or as later versions do (1.4, ``xml:lang``)."""
    lang = "lang" if tmx11 else "xml:lang"
    body = "\n".join(tus).replace("LANG=", f"{lang}=")
    path = project / "omegat" / "project_save.tmx"
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n<tmx version="{"1.1" if tmx11 else "1.4"}">\n'
                    '<header creationtool="OmegaT" o-tmf="OmegaT TMX" adminlang="EN-US" datatype="plaintext" '
                    f'creationtoolversion="3.6.0_10" segtype="paragraph" srclang="en"/>\n<body>\n{body}\n</body>\n</tmx>\n',
                    encoding="utf-8")
    return path


def _tu(en: str, text: str, *, file: str | None = None, path: str | None = None, who: str = "alice") -> str:
    props = "".join(f'<prop type="{k}">{v}</prop>' for k, v in (("file", file), ("path", path)) if v)
    return (f'<tu>{props}<tuv LANG="en"><seg>{en}</seg></tuv>'
            f'<tuv LANG="be" changeid="{who}" changedate="20260101T000000Z"><seg>{text}</seg></tuv></tu>')


def _read(path):
    got = read_project(path, TARGETS, read_review_file)
    return [(c.seg_id, c.target, c.text) for c in got.candidates], [r.en for r in got.rows], [str(p) for p in got.problems]


def test_reader_takes_edited_alternatives_by_segment_and_leaves_untouched_and_orphans(tmp_path):
    project = _write(tmp_path, _rows()) / "be"
    assert is_omegat(project) and is_omegat(project / "omegat" / "project_save.tmx") and not is_omegat(tmp_path)
    _save(project, [
        _tu("Plain sentence.", "Выпраўлена.", file="doc-2.po", path="doc-2:p1:s1"),
        _tu("Plain sentence.", "Просты сказ.", file="doc-1.po", path="doc-1:p1:s1", who=omegat.PRETRANSLATED_BY),
        _tu("An English sentence that is gone.", "Сірата.", file="doc-1.po", path="doc-1:p3:s1"),  # orphan
        _tu("Third one &amp; more.", "Трэці &amp; болей.", file="doc-1.po", path="doc-1:p3:s1"),
    ])
    cands, english, problems = _read(project)
    assert problems == []
    assert cands == [("doc-2:p1:s1", "be", "Выпраўлена."), ("doc-1:p3:s1", "be", "Трэці & болей.")]
    assert english == ["Plain sentence.", "Third one & more."]
    # OmegaT 1.4-style (xml:lang) reads the same
    _save(project, [_tu("Plain sentence.", "Выпраўлена.", file="doc-2.po", path="doc-2:p1:s1")], tmx11=False, doctype="")
    assert _read(project)[0] == [("doc-2:p1:s1", "be", "Выпраўлена.")]


def test_reader_gives_a_default_translation_to_the_segments_without_an_alternative(tmp_path):
    project = _write(tmp_path, _rows()) / "be"
    _save(project, [
        _tu("Plain sentence.", "Агульны.", who="bob"),  # "use as default": no file, no path
        _tu("Plain sentence.", "Просты сказ. (2)", file="doc-2.po", path="doc-2:p1:s1", who=omegat.PRETRANSLATED_BY),
    ])
    cands, _, problems = _read(project)
    assert problems == [] and cands == [("doc-1:p1:s1", "be", "Агульны.")]  # doc-2 shows its own alternative
    alone = tmp_path / "mail" / "project_save.tmx"
    alone.parent.mkdir()
    alone.write_bytes((project / "omegat" / "project_save.tmx").read_bytes())
    cands, _, problems = _read(alone)
    assert cands == [] and len(problems) == 1 and "default translation of 'Plain sentence.'" in problems[0]


def test_reader_refuses_what_it_cannot_trust_with_file_and_line(tmp_path):
    project = _write(tmp_path, _rows()) / "be"
    assert "no translations saved yet" in _read(project)[2][0]  # opened in no OmegaT yet
    entity = '<!DOCTYPE tmx [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    path = _save(project, [_tu("Plain sentence.", "&e;", file="doc-1.po", path="doc-1:p1:s1")], doctype=entity)
    assert _read(project)[2] == [f"{path}:1: a DOCTYPE that declares entities or elements is refused"]
    path.write_text("<tmx><body><tu>", encoding="utf-8")
    assert _read(project)[2][0].startswith(f"{path}:1: not well-formed XML")
    path.write_text("<xliff/>", encoding="utf-8")
    assert "not a TMX file" in _read(project)[2][0]
    ru = _write(tmp_path / "other", _rows()) / "ru"
    alone = tmp_path / "alone" / "project_save.tmx"
    alone.parent.mkdir()
    _save(ru, [_tu("Plain sentence.", "Текст.", file="doc-1.po", path="doc-1:p1:s1").replace('LANG="be"', 'LANG="uk"')])
    alone.write_bytes((ru / "omegat" / "project_save.tmx").read_bytes())
    assert "target language 'uk' is not one of the configured targets" in _read(alone)[2][0]


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_reader_never_opens_a_pipe_or_a_folder_named_project_save(tmp_path, kind):
    project = _write(tmp_path, _rows()) / "be"
    save = project / "omegat" / "project_save.tmx"
    os.mkfifo(save) if kind == "fifo" else save.mkdir()
    problems = _read(project)[2]
    assert len(problems) == 1 and ("named pipe" in problems[0] or "folder" in problems[0])
