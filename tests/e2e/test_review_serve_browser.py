"""`workflow review serve` in a real browser: Playwright driving Debian's Chromium against the
real server (a child process, uvicorn). Edit the Belarusian of a flagged segment, approve,
reload and see it saved; a second browser context edits the same segment and is shown the
conflict; hostile document text stays text; the page works under its own CSP; with
``[outputs] latin`` a saved Belarusian fix shows its new Łacinka, read-only."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from serve_project import HOSTILE_EN, make_project, start_server

from workflow.core.config import load_config
from workflow.outputs.latin import to_latin

playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make system-deps)")

FIRST = "doc-1:p1:s1"  # flagged (serve_project flags every third segment)
ALICE = "Лукашэнка сказаў, што пратэсты скончыліся."
BOB = "Лукашэнка заявіў, што пратэсты скончыліся."


@pytest.fixture
def server(tmp_path):
    cfg = make_project(tmp_path)
    proc, url = start_server(cfg, "--reviewer", "alice")
    yield load_config(cfg), url
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _open(browser, url, reviewer, problems):
    ctx = browser.new_context()
    page = ctx.new_page()
    # a refused save (409) is logged by Chromium as a failed load: expected; anything else is not
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "(Conflict)" not in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(url)
    page.wait_for_selector("html[data-ready='1']")
    page.fill("#reviewer", reviewer)
    return page


def _cell(page, seg_id, target="be"):
    return page.locator(f"section.seg[data-id='{seg_id}'] .cell[data-target='{target}']")


def test_edit_approve_reload_conflict_and_hostile_text(server, browser):
    cfg, url = server
    problems: list[str] = []
    alice = _open(browser, url, "alice", problems)
    bob = _open(browser, url, "bob", problems)  # loaded before alice saves: revision 0

    # hostile English is text: no script ran, no element was made from it
    hostile = alice.locator("section.seg .en", has_text="<script>")
    assert hostile.text_content() == HOSTILE_EN
    assert alice.evaluate("document.body.dataset.pwned") is None and alice.title().startswith("Review:")
    assert alice.locator("main img, main script").count() == 0

    assert alice.locator("section.seg .skip").text_content() == "skipped: navigation link (read-more)"

    # filters and sort: document, check, weak-spot score, only flagged
    total = alice.locator("section.seg").count()
    alice.select_option("#f-doc", "doc-2")
    ids = alice.locator("section.seg").evaluate_all("els => els.map(e => e.dataset.id)")
    assert ids and all(i.startswith("doc-2:") for i in ids)
    alice.select_option("#f-doc", "")
    alice.select_option("#f-check", "length_ratio")
    assert alice.locator("section.seg").count() == alice.locator("section.seg .cell.flagged[data-target='be']").count()
    alice.select_option("#f-check", "")
    alice.select_option("#sort", "score")
    scores = alice.locator("section.seg .score").evaluate_all("els => els.map(e => parseFloat(e.textContent.split(' ')[1]))")
    assert scores == sorted(scores, reverse=True) and scores[0] == 0.9
    alice.select_option("#sort", "doc")
    alice.check("#f-flagged")
    flagged = alice.locator("section.seg").count()
    assert 0 < flagged < total
    assert alice.locator("section.seg[data-id='doc-1:p2:s1']").count() == 0  # not flagged

    # edit the Belarusian of a flagged segment, approve
    cell = _cell(alice, FIRST)
    assert "flagged" in cell.get_attribute("class")
    assert cell.locator("mark").first.get_attribute("title") == "length ratio off"
    cell.locator("textarea").fill(ALICE)
    cell.locator("button.approve").click()
    alice.wait_for_selector(f"section.seg[data-id='{FIRST}'] .cell[data-target='be'] .msg.ok")
    assert "approved by alice" in _cell(alice, FIRST).locator(".state").text_content()
    assert alice.locator("#progress").text_content().startswith("reviewed 1 /")

    # keyboard: j to the next flagged segment, a approves it and moves on
    alice.locator("h1").click()
    alice.keyboard.press("j")
    current = alice.locator("section.seg.current").get_attribute("data-id")
    assert current != FIRST
    alice.keyboard.press("a")
    alice.wait_for_selector(f"section.seg[data-id='{current}'] .cell[data-target='be'] .msg.ok")
    assert alice.locator("section.seg.current").get_attribute("data-id") not in (FIRST, current)

    # reload: saved
    alice.reload()
    alice.wait_for_selector("html[data-ready='1']")
    assert _cell(alice, FIRST).locator("textarea").input_value() == ALICE
    assert "approved by alice" in _cell(alice, FIRST).locator(".state").text_content()

    # the second context edits the same segment from revision 0 (the typed text survives a
    # reload unsaved, still based on revision 0): shown the conflict
    _cell(bob, FIRST).locator("textarea").fill(BOB)
    bob.reload()
    bob.wait_for_selector("html[data-ready='1']")
    bcell = _cell(bob, FIRST)
    assert bcell.locator("textarea").input_value() == BOB and bob.input_value("#reviewer") == "bob"
    bcell.locator("button.approve").click()
    bob.wait_for_selector(f"section.seg[data-id='{FIRST}'] .cell[data-target='be'] .msg.conflict")
    assert bcell.locator(".their-text").text_content() == ALICE
    assert "alice" in bcell.locator(".msg").text_content()
    bcell.locator("button.keep-mine").click()  # keep bob's text, now based on alice's revision
    assert _cell(bob, FIRST).locator("textarea").input_value() == BOB
    _cell(bob, FIRST).locator("button.approve").click()
    bob.wait_for_selector(f"section.seg[data-id='{FIRST}'] .cell[data-target='be'] .msg.ok")

    db = sqlite3.connect(cfg.resolve(cfg.store))
    rows = db.execute("SELECT text, reviewer FROM approved WHERE seg_id = ? AND target = 'be'", (FIRST,)).fetchall()
    history = db.execute("SELECT text, reviewer FROM approved_history WHERE seg_id = ?", (FIRST,)).fetchall()
    assert rows == [(BOB, "bob")] and history == [(ALICE, "alice")]

    # undo in alice's page after a reload: alice's text is back
    alice.reload()
    alice.wait_for_selector("html[data-ready='1']")
    _cell(alice, FIRST).locator("button.undo").click()
    alice.wait_for_selector(f"section.seg[data-id='{FIRST}'] .cell[data-target='be'] .msg.ok")
    assert _cell(alice, FIRST).locator("textarea").input_value() == ALICE
    assert problems == []  # no CSP violation, no script error


def test_with_latin_on_a_saved_belarusian_fix_shows_its_new_lacinka(tmp_path, browser):
    cfg = make_project(tmp_path)
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n[outputs]\nlatin = true\n", encoding="utf-8")
    proc, url = start_server(cfg, "--reviewer", "alice")
    try:
        problems: list[str] = []
        page = _open(browser, url, "alice", problems)
        cell = _cell(page, FIRST)
        mt = cell.locator(".mt").text_content()
        lat = cell.locator(".latin")
        assert lat.get_attribute("lang") == "be-Latn" and lat.text_content().endswith(to_latin(mt))
        assert lat.evaluate("e => e.isContentEditable") is False and cell.locator("textarea").count() == 1
        assert _cell(page, FIRST, "ru").locator(".latin").count() == 0
        cell.locator("textarea").fill(ALICE)
        cell.locator("button.approve").click()
        page.wait_for_selector(f"section.seg[data-id='{FIRST}'] .cell[data-target='be'] .msg.ok")
        assert _cell(page, FIRST).locator(".latin").text_content().endswith(to_latin(ALICE))
        page.reload()
        page.wait_for_selector("html[data-ready='1']")
        assert _cell(page, FIRST).locator(".latin").text_content() == "be-Latn (read-only): " + to_latin(ALICE)
        assert not problems, problems
    finally:
        proc.terminate()
        proc.wait(10)
