"""The review page: escaped, self-contained, and (in headless Chromium) highlighting and sorting work."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from lxml import html as lhtml

from review_rows import HOSTILE, sample_rows
from workflow.core.records import by_document
from workflow.outputs.page import highlight, review_page

TARGETS = ["be", "ru"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _page(spans=None):
    """The page of the sample rows; ``spans``: {(seg_id, target): [(start, end, reason)]} set on the rows."""
    rows = sample_rows()
    for r in rows:
        if spans and (r.seg_id, r.target) in spans:
            r.spans = [{"start": s, "end": e, "reason": why} for s, e, why in spans[(r.seg_id, r.target)]]
    return rows, review_page("doc-1", by_document(rows)["doc-1"], TARGETS)


def test_highlight_escapes_and_wraps_spans():
    assert highlight("a<b>&c", None) == "a&lt;b&gt;&amp;c"
    out = highlight("abcdef<", [(1, 3, "x <y>"), (2, 5, "z"), (9, 12, "out of range"), (4, 4, "empty")])
    assert out == ('a<mark class="weak" title="x &lt;y&gt;">b</mark><mark class="weak" title="x &lt;y&gt;; z">c</mark>'
                   '<mark class="weak" title="z">de</mark>f&lt;')
    # spans as the checks store them on Row.spans
    assert highlight("abc", [{"start": 0, "end": 1, "reason": "r"}]) == '<mark class="weak" title="r">a</mark>bc'


def test_page_is_self_contained_and_escaped():
    _, page = _page()
    assert page.count("<script") == 1 and "<img" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # no external asset
    assert "<link" not in page and "@import" not in page
    assert "Content-Security-Policy" in page
    tree = lhtml.fromstring(page)
    rows = tree.xpath("//tbody/tr")
    assert len(rows) == 4
    assert rows[0].get("class") == "reviewed" and rows[0].get("data-reviewed") == "be"
    assert "skipped" in rows[3].get("class")
    # flagged cells without spans carry the reason on hover
    cell = tree.xpath('//tr[@data-seg="doc-1:p3:s1"]/td[contains(@class,"flagged")]')[0]
    assert cell.get("title") == "weak spot: length_ratio"


def _dump_dom(path, tmp_path) -> str:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
           f"--user-data-dir={tmp_path / 'chrome-profile'}", "--dump-dom", f"file://{path}#selftest"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="Debian package chromium not installed (make setup installs it)")
def test_page_in_headless_chromium_sorts_filters_highlights(tmp_path):
    spans = {("doc-1:p2:s1", "be"): [(0, 8, "untranslated: <script> kept"), (4, 12, "numbers: missing 3")],
             ("doc-1:p3:s1", "ru"): [(0, 3, "names: Трэці")]}
    rows, page = _page(spans)
    path = tmp_path / "doc-1.html"
    path.write_text(page, encoding="utf-8")
    dom = _dump_dom(path, tmp_path)
    tree = lhtml.fromstring(dom)
    root = tree.getroottree().getroot()
    assert root.get("data-selftest") == "done", "the in-page self-test did not run"
    assert root.get("data-pwned") is None, "document text was executed"
    # sorting by the row's highest weak-spot score, descending
    order = root.get("data-selftest-order").split()
    top = {}
    for r in rows:
        if r.status != "skipped":
            top[r.seg_id] = max(top.get(r.seg_id, -1.0), r.weak_score)
    expected = sorted(top, key=lambda s: (-top[s], s)) + ["doc-1:p4:s1"]
    assert order == expected
    assert root.get("data-selftest-restored").split() == [f"doc-1:p{i}:s1" for i in (1, 2, 3, 4)]
    # filter: only flagged segments stay visible (p2 and p3 are flagged)
    assert root.get("data-selftest-visible") == "2"
    # highlights: the blamed spans are <mark> elements with the reason on hover
    marks = tree.xpath("//mark[@class='weak']")
    assert int(root.get("data-selftest-marks")) == len(marks) == 4
    assert marks[0].get("title") == "untranslated: <script> kept"
    assert marks[1].get("title") == "untranslated: <script> kept; numbers: missing 3"
    assert "".join(m.text_content() for m in marks[:3]) == (HOSTILE + " be")[:12]
    assert tree.xpath("//script") and len(tree.xpath("//script")) == 1
    assert not tree.xpath("//img")
