"""Hostile text end to end: it stays text in every output and survives review import."""

from __future__ import annotations

import html
import re

import polars as pl
from lxml import etree
from lxml import html as lhtml

from conftest import write_config
from review_edit import Table
from workflow.core.config import load_config
from workflow.pipeline import run
from workflow.review.importer import import_files
from workflow.core.tsv import tsv_uncell

HOSTILE = [
    'The report said <script>alert("x")</script> was found.',
    "An attribute \" onmouseover=\"alert(1)\" x=\" appeared in the text.",
    "XML specials & < > ' \" and an entity &amp; &lt;b&gt; is decoded at ingest.",
    "A CDATA end ]]> inside a sentence must not break XML.",
    "=HYPERLINK(\"http://example.org\",\"click\") is a formula.",
    "+375 17 123 45 67 is a phone number.",
    "-5 degrees was the temperature in Minsk.",
    "@SUM(A1:A9) is another formula.",
]
# ingest decodes HTML entities (web text arrives with &amp; and broken &# 160;), so the
# text every output must carry is the decoded one
EXPECTED = [h.replace("&amp; &lt;b&gt;", "& <b>") for h in HOSTILE]


def test_hostile_text_is_only_text_everywhere(tmp_path, tiny_marian):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "hostile.txt").write_text("\n\n".join(HOSTILE) + "\n\nA control character \x07 bell.\n", encoding="utf-8")
    cfg = load_config(write_config(tmp_path, be=tiny_marian, ru=tiny_marian, corpus=corpus))
    run(cfg)
    out = tmp_path / "aligned"

    # TSV: formula-like cells start with an apostrophe and read back unchanged
    table = Table(out / "hostile.tsv")
    en_cells = [r[table.col["en"]] for r in table.rows]
    for cell in en_cells:
        assert not cell.startswith(("=", "+", "-", "@"))
    assert [tsv_uncell(c) for c in en_cells[: len(HOSTILE)]] == EXPECTED
    assert "\x07" not in (out / "hostile.tsv").read_text(encoding="utf-8")  # control characters removed at ingest

    # TMX and XLIFF parse, and the English text comes back exactly
    xml_files = list(out.rglob("*.tmx")) + list(out.rglob("*.xlf"))
    assert xml_files
    for f in xml_files:
        tree = etree.parse(str(f), etree.XMLParser(resolve_entities=False, no_network=True))
        texts = {"".join(e.itertext()) for e in tree.iter() if e.text and len(e) == 0}
        all_text = "".join(tree.getroot().itertext())
        assert "alert(1)" in all_text or "CDATA" in all_text, f
        assert not any(isinstance(e, etree._Entity) for e in tree.iter())
        for sentence in EXPECTED:
            if "hostile" in f.name or f.name == "corpus.tmx":
                assert sentence in all_text, (f, sentence)
        assert texts

    # the review page: no live script tag from the document, the text is visible escaped
    page = next(out.rglob("hostile*.html")).read_text(encoding="utf-8")
    body_scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S)
    assert all('alert("x")' not in s for s in body_scripts)
    assert html.escape('<script>alert("x")</script>', quote=False) in page or "&lt;script&gt;" in page
    # the attribute-injection attempt stays text: quotes are escaped in attributes (not needed
    # in element content, where the page leaves them), so no element gets an event handler
    tree = lhtml.fromstring(page)
    assert not tree.xpath("//@*[starts-with(name(), 'on')]") and EXPECTED[1] in tree.text_content()

    # review import of the untouched TSV accepts it (nothing changed, nothing to approve) ...
    res = import_files(cfg, [out / "hostile.tsv"], "tester")
    assert res.fixes == []
    # ... and a fix that itself starts like a formula comes back as the reviewer wrote it:
    # typed into the TSV as '=... it keeps its apostrophe; what a spreadsheet saves when
    # '=... is typed into a cell (=..., the apostrophe is the spreadsheet's "this is text")
    # comes back without
    formula_row = table.where("en", HOSTILE[4])[0]
    phone_row = table.where("en", HOSTILE[5])[0]
    table.set(formula_row, "be", "'=1+1 — гэта выпраўленне", raw=True)
    table.set(phone_row, "be", "=375 — нумар тэлефона", raw=True)
    res = import_files(cfg, [table.save(tmp_path / "edited.tsv")], "tester")
    assert sorted(f.text for f in res.fixes) == ["'=1+1 — гэта выпраўленне", "=375 — нумар тэлефона"]
    run(cfg)
    df = pl.read_parquet(out / "segments.parquet").filter(pl.col("target") == "be")
    assert df.filter(pl.col("en") == HOSTILE[4])["approved"].to_list() == ["'=1+1 — гэта выпраўленне"]
    # the next export guards both again, and an untouched re-import changes nothing
    again = Table(out / "hostile.tsv")
    assert again.rows[formula_row][again.col["be"]] == "''=1+1 — гэта выпраўленне"
    assert again.rows[phone_row][again.col["be"]] == "'=375 — нумар тэлефона"
    assert import_files(cfg, [out / "hostile.tsv"], "tester").fixes == []
