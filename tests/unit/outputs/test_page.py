"""The review page: escaped, self-contained, compact, and (in headless Chromium) the skip
reasons, references, highlighting, hover reasons, sorting and filtering work, and a fix
typed into the page comes back through ``workflow review import``."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.request import urlopen

import polars as pl
import pytest
import websocket
from lxml import html as lhtml

from conftest import CORPUS, write_config
from review_rows import HOSTILE, sample_rows
from workflow.cli.app import main
from workflow.core.config import load_config
from workflow.core.records import by_document
from workflow.core.store import Store
from workflow.outputs.page import MARK_REASONS, QUOTE_KEEP, WEAK_SCORE_MEANING, blamed, brief, review_page
from workflow.review.memory import Memory

TARGETS = ["be", "ru"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REFERENCE = "Эталон <b>трэці</b> & сказ."


def _rows(spans=None):
    """The sample rows; ``spans``: {(seg_id, target): [(start, end, reason)]} set on the rows.
    Segment 1's Belarusian MT is made the worst of the page (flagged, 5.0) although a
    reviewer approved a fix for it; segment 3's Russian row gets a reference translation."""
    rows = sample_rows()
    for r in rows:
        if spans and (r.seg_id, r.target) in spans:
            r.spans = [{"start": s, "end": e, "reason": why} for s, e, why in spans[(r.seg_id, r.target)]]
    approved = rows[0]
    assert approved.approved is not None
    approved.weak_score, approved.flags, approved.flagged = 5.0, ["wrong_script"], True
    next(r for r in rows if (r.seg_id, r.target) == ("doc-1:p3:s1", "ru")).reference = REFERENCE
    return rows


def _page(rows):
    return review_page("doc-1", by_document(rows)["doc-1"], TARGETS)


def test_spans_are_written_once_by_offsets_with_each_reason_numbered_once():
    assert blamed("a<b>&c", None) == ("", [])
    where, reasons = blamed("abcdef<", [(2, 5, "z"), (1, 3, "x <y>"), (9, 12, "out of range"), (4, 4, "empty")])
    assert reasons == ["x <y>", "z"]  # in text order, the empty and out-of-range spans dropped
    assert where == "1,3,1 2,5,2"
    # a repeated span once; spans as the checks store them on Row.spans
    assert blamed("abcd", [{"start": 0, "end": 2, "reason": "r"}, {"start": 0, "end": 2, "reason": "r"}]) == ("0,2,1", ["r"])
    # offsets in UTF-16 code units, as the page's script indexes: the emoji is two
    assert blamed("a\U0001F600bc", [(0, 2, "x"), (2, 4, "y")]) == ("0,3,1 3,5,2", ["x", "y"])


def test_a_long_quote_in_a_reason_is_cut_on_the_page():
    long = "word " * 20
    assert brief(f"untranslated: Latin text '{long}' left") == f"untranslated: Latin text '{long[:QUOTE_KEEP]}…' left"
    assert brief("repetition: 'во во' repeated 3 times") == "repetition: 'во во' repeated 3 times"  # short: as it is


def test_page_is_self_contained_and_escaped():
    rows = _rows()
    page = _page(rows)
    assert page.count("<script") == 1 and "<img" not in page
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in page  # element content: <, >, & escaped, quotes need not be
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # no external asset
    assert "<link" not in page and "@import" not in page
    assert "Content-Security-Policy" in page
    tree = lhtml.fromstring(page)
    trs = tree.xpath("//tbody/tr")
    assert len(trs) == 4
    assert trs[0].get("class") == "reviewed" and trs[0].get("data-reviewed") == "be"
    assert "skipped" in trs[3].get("class")
    # the skip reason is on the English cell, where the stylesheet reads it
    assert trs[3].xpath('td[@class="en"]')[0].get("data-skip") == "skipped: donation appeal"
    # flagged cells without spans carry the reason on hover
    cell = tree.xpath('//tr[@data-seg="doc-1:p3:s1"]/td[contains(@class,"flagged")]')[0]
    assert cell.get("title") == "weak spot: length_ratio"
    # the reference translation, escaped
    ref = tree.xpath('//tr[@data-seg="doc-1:p3:s1"]/td[@lang="ru"]/div[@class="ref"]')[0]
    assert ref.text_content() == "reference: " + REFERENCE and html.escape(REFERENCE) in page
    # the legend says what a score means
    assert html.escape(WEAK_SCORE_MEANING) in page


def test_approved_translation_is_not_flagged_and_sorts_after_flagged():
    tree = lhtml.fromstring(_page(_rows()))
    tr = tree.xpath('//tr[@data-seg="doc-1:p1:s1"]')[0]
    be = tr.xpath('td[@lang="be"]')[0]
    assert be.get("class") == "tgt reviewed"  # its MT scored 5.0 and was flagged
    assert "flagged" not in tr.get("class")
    # sort keys: the approved translation counts below every unreviewed one
    assert float(tr.get("data-score-be")) < 0 <= float(tr.get("data-score-ru"))
    assert float(tr.get("data-score")) == pytest.approx(0.2)  # its Russian MT, not the replaced 5.0
    # the page still shows the replaced MT's score, greyed
    assert tr.xpath('td[@class="sc done"]')[0].text == "5.00"


def test_page_size_grows_with_text_not_with_spans():
    """A reason is written once per cell however many highlighted pieces it covers."""
    rows = [r for r in sample_rows() if r.seg_id == "doc-1:p2:s1"]
    plain = len(_page(rows))
    target = rows[0]
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", target.mt)]
    whole = "language: whole text detected as another language " * 5
    per_word = "spelling: unknown word " * 10
    target.spans = [{"start": 0, "end": len(target.mt), "reason": whole}]
    target.spans += [{"start": s, "end": e, "reason": per_word} for s, e in words]
    page = _page(rows)
    assert page.count(per_word.strip()) == 1 and page.count(whole.strip()) == 1
    assert "<mark" not in page.split("<tbody>")[1]  # the script makes the marks: the file has the spans once
    assert len(page) - plain < len(whole) + len(per_word) + 12 * len(target.spans) + 300


def _dump_dom(path, tmp_path) -> str:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
           f"--user-data-dir={tmp_path / 'chrome-profile'}", "--dump-dom", f"file://{path}#selftest"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="Debian package chromium not installed (make setup installs it)")
def test_page_in_headless_chromium(tmp_path):
    spans = {("doc-1:p2:s1", "be"): [(0, 8, "untranslated: <script> kept"), (4, 12, "numbers: missing 3")],
             ("doc-1:p3:s1", "ru"): [(0, 3, "names: Трэці")]}
    rows = _rows(spans)
    path = tmp_path / "doc-1.html"
    path.write_text(_page(rows), encoding="utf-8")
    dom = _dump_dom(path, tmp_path)
    tree = lhtml.fromstring(dom)
    root = tree.getroottree().getroot()
    assert root.get("data-selftest") == "done", "the in-page self-test did not run"
    assert root.get("data-pwned") is None, "document text was executed"
    # sorting by the row's highest weak-spot score, descending: p3 (ru 3.1), p2 (be 2.5),
    # then p1, whose worst MT (5.0) was replaced by an approved fix (its Russian: 0.2), then
    # the skipped segment
    assert root.get("data-selftest-order").split() == ["doc-1:p3:s1", "doc-1:p2:s1", "doc-1:p1:s1", "doc-1:p4:s1"]
    assert root.get("data-selftest-restored").split() == [f"doc-1:p{i}:s1" for i in (1, 2, 3, 4)]
    # filter: only the segments with a weak spot still to review stay visible
    assert root.get("data-selftest-visible").split() == ["doc-1:p3:s1", "doc-1:p2:s1"]  # still sorted by score
    # the skip reason is displayed (the stylesheet's ::before content of the English cell)
    assert "skipped: donation appeal" in root.get("data-selftest-skip")
    # the reference translation is displayed
    assert root.get("data-selftest-ref") == "reference: " + REFERENCE
    # highlights: the blamed spans are <mark>s; hovering gives each its reasons
    marks = tree.xpath("//mark[@data-r]")
    assert int(root.get("data-selftest-marks")) == len(marks) == 4
    assert [m.get("title") for m in marks] == ["untranslated: <script> kept",
                                               "untranslated: <script> kept; numbers: missing 3",
                                               "numbers: missing 3", "names: Трэці"]
    assert "".join(m.text_content() for m in marks[:3]) == (HOSTILE + " be")[:12]
    assert tree.xpath("//script") and len(tree.xpath("//script")) == 1
    assert not tree.xpath("//img")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian package chromium not installed (make setup installs it)")
def test_page_script_marks_overlapping_spans_bounded_in_headless_chromium(tmp_path):
    """Thirteen reasons over one stretch: a mark lists MARK_REASONS numbers and "+N"; an
    emoji before the spans does not shift them; touching spans of one reason are one mark."""
    text = "\U0001F600 " + "слова " * 6
    spans = {("doc-1:p2:s1", "be"): [(2, 2 + 6 * (i + 1), f"reason {i:02d}") for i in range(12)] + [(2, 8, "a word")],
             ("doc-1:p2:s1", "ru"): [(0, 2, "r"), (2, 3, "r")]}
    rows = _rows(spans)
    next(r for r in rows if (r.seg_id, r.target) == ("doc-1:p2:s1", "be")).mt = text
    ru = next(r for r in rows if (r.seg_id, r.target) == ("doc-1:p2:s1", "ru")).mt
    path = tmp_path / "doc-1.html"
    path.write_text(_page(rows), encoding="utf-8")
    tree = lhtml.fromstring(_dump_dom(path, tmp_path))
    cell = tree.xpath('//tr[@data-seg="doc-1:p2:s1"]/td[@lang="be"]/div[@class="text"]')[0]
    marks = cell.xpath("mark")
    assert cell.text_content() == text  # the text as it was, around and inside the marks
    assert [m.text_content() for m in marks] == ["слова "] * 6  # after the emoji (two UTF-16 units) and its space
    # reasons numbered in text order: "a word" 1, reason 00-11 2-13; each word covered by one fewer
    assert MARK_REASONS == 8 and [m.get("data-r") for m in marks] == [
        "1 2 3 4 5 6 7 8 +5", "3 4 5 6 7 8 9 10 +3", "4 5 6 7 8 9 10 11 +2", "5 6 7 8 9 10 11 12 +1",
        "6 7 8 9 10 11 12 13", "7 8 9 10 11 12 13"]
    assert marks[0].get("title").endswith("; and 5 more (why marked)")
    (one,) = tree.xpath('//tr[@data-seg="doc-1:p2:s1"]/td[@lang="ru"]/div[@class="text"]/mark')
    assert one.text_content() == ru[:3] and one.get("data-r") == "1"


class DevTools:
    """Headless Chromium driven over the DevTools protocol: real mouse clicks and typing."""

    def __init__(self, profile: Path, downloads: Path) -> None:
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--window-size=1280,900", "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (active.exists() and len(active.read_text().split()) >= 2):
            assert time.monotonic() < deadline and self.proc.poll() is None, "Chromium did not start"
            time.sleep(0.1)
        port, path = active.read_text().split()[:2]
        self.n = 0
        self.browser = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=60, suppress_origin=True)
        self.call(self.browser, "Browser.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
        page = next(t for t in json.load(urlopen(f"http://127.0.0.1:{port}/json/list")) if t["type"] == "page")
        self.page = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)

    def call(self, ws, method: str, **params):
        self.n += 1
        ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expression: str):
        result = self.call(self.page, "Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def load(self, url: str, *, reload: bool = False) -> None:
        self.js("window.oldDocument = true")  # gone once the new document is there
        if reload:
            self.call(self.page, "Page.reload")
        else:
            self.call(self.page, "Page.navigate", url=url)
        deadline = time.monotonic() + 60
        while True:
            try:  # while the page is being replaced, evaluating in it can fail
                if self.js("(window.oldDocument ? 'old' : document.readyState) + ' ' + location.href") == f"complete {url}":
                    return
            except RuntimeError:
                pass
            assert time.monotonic() < deadline, "the page did not load"
            time.sleep(0.1)

    def click(self, element: str) -> None:
        """A left click at the middle of the element (a JS expression)."""
        x, y, hit = self.js(f"(function(e){{e.scrollIntoView({{block:'center'}});var r=e.getBoundingClientRect();"
                            f"var x=r.x+r.width/2,y=r.y+r.height/2;return [x,y,e.contains(document.elementFromPoint(x,y))];}})"
                            f"({element})")
        assert hit, f"{element} is covered by another element"
        for kind in ("mousePressed", "mouseReleased"):
            self.call(self.page, "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def type(self, text: str) -> None:
        self.call(self.page, "Input.insertText", text=text)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.mark.slow  # a run, a browser session, an import and a rerun (~20 s)
@pytest.mark.skipif(CHROMIUM is None, reason="Debian package chromium not installed (make setup installs it)")
def test_fix_typed_in_chromium_comes_back_through_review_import(tmp_path, tiny_marian, capsys):
    """Open a run's review page, click "edit" on a Belarusian translation, type a fix,
    download the fixes; `workflow review import` stores exactly that fix, for that segment
    and language, under the reviewer's name, and the rerun shows it; nothing else changes."""
    doc = "amnesty-urges-investigation-of-torture-in-belarus"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / f"{doc}.txt", corpus)
    cfg = write_config(tmp_path, be=tiny_marian, ru=tiny_marian, corpus=corpus)
    main(["run", "--config", str(cfg)])
    out = tmp_path / "aligned"
    before = pl.read_parquet(out / "segments.parquet")
    seg = before.filter((pl.col("status") == "mt") & (pl.col("target") == "be"))["seg_id"][1]
    fix = "Праваабаронцы патрабуюць расследаваць катаванні ў Беларусі."
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    url = (out / "review" / f"{doc}.html").resolve().as_uri()
    browser = DevTools(tmp_path / "profile", downloads)
    try:
        browser.load(url)
        cell = f"document.getElementById({json.dumps('seg-' + seg)}).querySelector('td.tgt[lang=\"be\"]')"
        browser.click(f"{cell}.querySelector('button.edit')")
        assert browser.js("document.activeElement.tagName") == "TEXTAREA"
        browser.js("document.activeElement.select()")
        browser.type(fix)
        assert browser.js("document.getElementById('fix-count').textContent") == "1"
        # a reload keeps what was typed (the browser's storage), for that cell only
        browser.load(url, reload=True)
        assert browser.js(f"{cell}.querySelector('textarea.fix').value") == fix
        assert browser.js("document.querySelectorAll('td.edited').length") == 1
        browser.click("document.getElementById('download')")
        saved = downloads / f"{doc}.fixes.tsv"
        deadline = time.monotonic() + 60
        while not saved.exists():
            assert time.monotonic() < deadline, f"nothing downloaded: {list(downloads.iterdir())}"
            time.sleep(0.1)
    finally:
        browser.close()
    capsys.readouterr()
    main(["review", "import", str(saved), "-r", "Alice Reviewer", "--config", str(cfg)])
    assert "approved 1 fix(es) (be: 1)" in capsys.readouterr().out
    with Store(load_config(cfg).resolve(load_config(cfg).store)) as store:
        (stored,) = Memory(store).all()
    assert (stored.seg_id, stored.target, stored.text, stored.reviewer) == (seg, "be", fix, "Alice Reviewer")
    main(["run", "--config", str(cfg)])
    after = pl.read_parquet(out / "segments.parquet")
    changed = after.filter(pl.col("approved").is_not_null())
    assert changed.select("seg_id", "target", "approved", "reviewer").rows() == [(seg, "be", fix, "Alice Reviewer")]
    keep = ["seg_id", "target", "en", "mt"]
    assert after.select(keep).sort(keep).equals(before.select(keep).sort(keep))
