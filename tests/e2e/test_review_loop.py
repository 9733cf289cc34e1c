"""The review loop end to end: export, edit like a reviewer (TSV + XLIFF), import, rerun.

Fixes must be kept (translation memory), reused on every rerun (never overwritten by
MT), counted in the report and measured (HTER); a changed English source keeps the old
fix as stale and offers it as a fuzzy match; an invalid import changes nothing.
"""

from __future__ import annotations

import shutil

import polars as pl
import pytest
from lxml import etree

from conftest import CORPUS, write_config
from review_edit import Table

from workflow import pipeline as pipeline_mod
from workflow.core.config import load_config
from workflow.review.memory import Memory
from workflow.review.importer import ImportRejected, import_files
from workflow.core.store import Store
from workflow.outputs.xliff import XLIFF2_NS, XLIFF12_NS

DOCS = ["amnesty-belarus-police-must-be-held-accountable", "amnesty-urges-investigation-of-torture-in-belarus"]
D1, D2 = DOCS


def run_loop(cfg):
    """``workflow run``: applies approved fixes and writes the review outputs itself."""
    return pipeline_mod.run(cfg)


@pytest.fixture(scope="module")
def proj(tmp_path_factory, tiny_marian):
    root = tmp_path_factory.mktemp("review")
    (root / "corpus").mkdir()
    shutil.copy(CORPUS / f"{D1}.txt", root / "corpus" / f"{D1}.txt")
    head = (CORPUS / f"{D2}.txt").read_text(encoding="utf-8").split("\n")[:10]  # a short second document
    (root / "corpus" / f"{D2}.txt").write_text("\n".join(head) + "\n", encoding="utf-8")
    cfg = load_config(write_config(root, be=tiny_marian, ru=tiny_marian, corpus=root / "corpus"))
    result = run_loop(cfg)
    return root, cfg, result


def _fix_count(cfg):
    with Store(cfg.resolve(cfg.store)) as store:
        return Memory(store).count()


def test_invalid_imports_change_nothing_and_name_file_and_line(proj, tmp_path):
    root, cfg, _ = proj
    out = root / "aligned"
    before = _fix_count(cfg)
    parquet_before = (out / "segments.parquet").read_bytes()
    table = Table(out / f"{D1}.tsv")
    a, b, c = table.where("status_be", "mt")[:3]

    def variant(name, edit):
        t = table.copy()
        edit(t)
        return t.save(tmp_path / name)

    def good_edit(t):
        t.set(a, "be", "Правільны пераклад.")

    unknown = variant("unknown.tsv", lambda t: (good_edit(t), t.set(b, "id", "no-such-document:p99:s9")))
    changed = variant("changed.tsv", lambda t: (good_edit(t), t.set(b, "en", "Someone rewrote the English.")))
    duplicate = variant("duplicate.tsv", lambda t: (good_edit(t), t.rows.append(list(t.rows[c])),
                                                    t.set(len(t.rows) - 1, "be", "Іншы тэкст.")))
    encoded = tmp_path / "encoding.tsv"
    t = table.copy()
    t.set(b, "be", "Праверка XX")
    encoded.write_bytes(t.text().encode("utf-8").replace("XX".encode(), "caf\xe9".encode("latin-1")))
    mojibake = variant("mojibake.tsv", lambda t: t.set(b, "be", "Ð¿Ñ€Ð°Ð²Ð°"))
    xlf = (out / "xliff" / "2.1" / f"{D2}.ru.xlf").read_bytes().decode()
    broken_xml = tmp_path / "broken.xlf"
    broken_xml.write_text(xlf.replace("</target>", "</targt>", 1), encoding="utf-8")
    broken_line = xlf[: xlf.index("</target>")].count("\n") + 1
    unknown_unit = tmp_path / "unknown_unit.xlf"
    first_unit = xlf.index('<unit id="') + len('<unit id="')
    unknown_unit.write_text(xlf[:first_unit] + "nope:p1:s1-" + xlf[first_unit:], encoding="utf-8")
    unit_line = xlf[:first_unit].count("\n") + 1

    with pytest.raises(ImportRejected) as err:
        import_files(cfg, [unknown, changed, duplicate, encoded, mojibake, broken_xml, unknown_unit], "mallory")
    msgs = [str(p) for p in err.value.problems]
    text = "\n".join(msgs)
    assert f"{unknown}:{table.line(b)}: unknown segment id" in text
    assert f"{changed}:{table.line(b)}: the English source of" in text
    assert f"{duplicate}:{table.line(len(table.rows))}: duplicate row for" in text
    assert f"{encoded}:{table.line(b)}: not valid UTF-8" in text
    assert f"{mojibake}:{table.line(b)}: the translation looks like UTF-8 read as Latin-1" in text
    assert any(m.startswith(f"{broken_xml}:") and "not well-formed" in m for m in msgs)
    assert abs(int(next(m for m in msgs if m.startswith(str(broken_xml))).split(":")[1]) - broken_line) <= 1
    unit_msg = next(m for m in msgs if m.startswith(f"{unknown_unit}:"))
    assert "unknown segment id 'nope:p1:s1-" in unit_msg
    assert unit_line <= int(unit_msg.split(":")[1]) <= unit_line + 25
    # nothing written: the good edits in the same files were not stored either
    assert _fix_count(cfg) == before
    assert (out / "segments.parquet").read_bytes() == parquet_before
    # the CLI reports the same and exits non-zero
    from typer.testing import CliRunner

    from workflow.cli.review import review_app

    res = CliRunner().invoke(review_app, ["import", str(unknown), "--config", str(cfg.path)])
    assert res.exit_code != 0 and isinstance(res.exception, ImportRejected)
    res = CliRunner().invoke(review_app, ["import", str(variant("ok.tsv", good_edit)), "--dry-run", "-c", str(cfg.path)])
    assert res.exit_code == 0, res.output
    assert "would approve 1 fix" in res.output
    assert _fix_count(cfg) == before


def test_an_edit_counts_only_for_its_language(proj, tmp_path):
    """Per-language status: editing only Belarusian approves nothing in Russian; approving
    Russian as it is approves nothing in Belarusian; 'needs work' keeps an edit out."""
    root, cfg, first = proj
    mt_of = {(r.seg_id, r.target): r.mt for r in first.rows}
    table = Table(root / "aligned" / f"{D1}.tsv")
    a, b, c = table.where("status_be", "mt")[:3]
    table.set(a, "be", "Выпраўлены толькі беларускі пераклад.")  # status_ru stays "mt"
    table.set(b, "status_ru", "approved")  # Russian MT approved as it is, Belarusian untouched
    table.set(c, "be", "Яшчэ не гатовы беларускі варыянт.")
    table.set(c, "status_be", "needs work")
    res = import_files(cfg, [table.save(tmp_path / "per-language.tsv")], "alice", dry_run=True)
    ids = [table.get(i, "id") for i in (a, b, c)]
    assert sorted((f.seg_id, f.target, f.text) for f in res.fixes) == sorted([
        (ids[0], "be", "Выпраўлены толькі беларускі пераклад."), (ids[1], "ru", mt_of[(ids[1], "ru")])])
    assert res.needs_work == [f"{tmp_path / 'per-language.tsv'}:{table.line(c)}: {ids[2]} (be)"]


def test_old_single_status_tsv_approves_only_the_edited_language(proj, tmp_path):
    """A TSV from before per-language statuses (one ``status`` column): ``approved`` applies
    to the languages edited in that row, or to every language when none was."""
    root, cfg, first = proj
    mt_of = {(r.seg_id, r.target): r.mt for r in first.rows}
    table = Table(root / "aligned" / f"{D1}.tsv")
    a, b = table.where("status_be", "mt")[:2]
    table.set(a, "be", "Выпраўлены беларускі пераклад у старым файле.")
    for i in (a, b):
        table.set(i, "status_be", "approved")
    old = table.copy()  # the old layout: id, status, en, be, ru, ...
    drop = old.col["status_ru"]
    old.header = [h if h != "status_be" else "status" for k, h in enumerate(old.header) if k != drop]
    old.rows = [[v for k, v in enumerate(r) if k != drop] for r in old.rows]
    res = import_files(cfg, [old.save(tmp_path / "old-format.tsv")], "alice", dry_run=True)
    ida, idb = table.get(a, "id"), table.get(b, "id")
    assert sorted((f.seg_id, f.target, f.text) for f in res.fixes) == sorted([
        (ida, "be", "Выпраўлены беларускі пераклад у старым файле."),  # edited: be only, the ru MT not approved
        (idb, "be", mt_of[(idb, "be")]), (idb, "ru", mt_of[(idb, "ru")])])  # nothing edited: the whole row


def test_review_loop_export_edit_import_rerun(proj, tmp_path):
    root, cfg, first = proj
    out = root / "aligned"
    mt_of = {(r.seg_id, r.target): r.mt for r in first.rows}
    en_of = {r.seg_id: r.en for r in first.rows}
    # --- a reviewer edits the TSV of document 1 in a spreadsheet
    table = Table(out / f"{D1}.tsv")
    mt_rows = table.where("status_be", "mt")
    fixes = {}
    for i, text in zip(mt_rows[:2], ["Выпраўлены пераклад нумар адзін.", "=Небяспечны пачатак & <тэг>"]):
        table.set(i, "be", text)
        fixes[(table.get(i, "id"), "be")] = text
    for t in ("be", "ru"):
        table.set(mt_rows[2], f"status_{t}", "approved")  # accept both machine translations as they are
    approved_as_is = table.get(mt_rows[2], "id")
    # the reviewer's copy (aligned/ is rewritten by every run)
    tsv_path = table.save(tmp_path / f"{D1}.reviewed.tsv")
    # --- another reviewer works on document 2 in CAT tools: XLIFF 2.1 (ru) and 1.2 (be)
    x21 = out / "xliff" / "2.1" / f"{D2}.ru.xlf"
    tree = etree.parse(str(x21))
    units = [u for u in tree.getroot().iter(f"{{{XLIFF2_NS}}}unit") if u.get("translate") != "no"]
    for u, text in zip(units[:2], ["Исправленный перевод один.", "Исправленный перевод два."]):
        seg = u.find(f"{{{XLIFF2_NS}}}segment")
        seg.find(f"{{{XLIFF2_NS}}}target").text = text
        seg.set("state", "reviewed")
        fixes[(u.get("id"), "ru")] = text
    tree.write(str(x21), xml_declaration=True, encoding="UTF-8")
    x12 = out / "xliff" / "1.2" / f"{D2}.be.xlf"
    tree = etree.parse(str(x12))
    tu = [t for t in tree.getroot().iter(f"{{{XLIFF12_NS}}}trans-unit") if t.get("translate") != "no"][2]
    tu.find(f"{{{XLIFF12_NS}}}target").text = "Выпраўлена ў OmegaT."
    fixes[(tu.get("id"), "be")] = "Выпраўлена ў OmegaT."
    tree.write(str(x12), xml_declaration=True, encoding="UTF-8")

    res = import_files(cfg, [tsv_path, x21, x12], "alice")
    assert res.written and len(res.fixes) == len(fixes) + 2
    with Store(cfg.resolve(cfg.store)) as store:
        stored = {(f.seg_id, f.target): f for f in Memory(store).all()}
    for key, text in fixes.items():
        assert stored[key].text == text and stored[key].reviewer == "alice"
        assert stored[key].mt_replaced == mt_of[key] and not stored[key].stale
    assert stored[(approved_as_is, "ru")].text == mt_of[(approved_as_is, "ru")]

    # --- rerun: fixes reused, MT never overwrites them, no model needed
    second = run_loop(cfg)
    assert second.models_loaded == 0
    by = {(r.seg_id, r.target): r for r in second.rows}
    for key, text in fixes.items():
        r = by[key]
        assert r.status == "reviewed" and r.approved == text and r.mt == mt_of[key]
        assert r.reviewer == "alice" and r.hter is not None and r.hter > 0 and r.chrf is not None
    assert by[(approved_as_is, "be")].hter == 0.0 and by[(approved_as_is, "be")].status == "reviewed"
    n_reviewed = len(fixes) + 2
    assert sum(r.status == "reviewed" for r in second.rows) == n_reviewed
    frame = pl.read_parquet(out / "segments.parquet")
    rev = frame.filter(pl.col("status") == "reviewed")
    assert rev.height == n_reviewed and rev["approved"].null_count() == 0 and rev["mt"].null_count() == 0
    # exports show them as reviewed
    x21_back = etree.parse(str(out / "xliff" / "2.1" / f"{D2}.ru.xlf")).getroot()
    seg = x21_back.find(f".//{{{XLIFF2_NS}}}unit[@id='{units[0].get('id')}']/{{{XLIFF2_NS}}}segment")
    assert seg.get("state") == "final" and seg.find(f"{{{XLIFF2_NS}}}target").text == "Исправленный перевод один."
    corpus_tmx = (out / "corpus.tmx").read_text(encoding="utf-8")
    assert "Выпраўлена ў OmegaT." in corpus_tmx and '<prop type="x-status">reviewed</prop>' in corpus_tmx
    assert "=Небяспечны пачатак &amp; &lt;тэг&gt;" in corpus_tmx
    page = (out / "review" / f"{D1}.html").read_text(encoding="utf-8")
    assert page.count('class="tgt reviewed') + page.count('class="tgt flagged reviewed') >= 3
    assert "=Небяспечны пачатак &amp; &lt;тэг&gt;" in page
    # the report counts them, with HTER
    md = (out / "report.md").read_text(encoding="utf-8")
    all_be = next(l for l in md.splitlines() if l.startswith("| (all) | be |"))
    be_reviewed = sum(1 for (_, t) in fixes if t == "be") + 1
    assert all_be.split(" | ")[6] == str(be_reviewed)
    assert all_be.split(" | ")[8] != "–"  # HTER
    assert "## Reference-based scores" in md and "BLEU" in md and "nrefs:1" in md
    assert (out / "report" / "weak_scores.svg").read_text().startswith("<svg")
    html_report = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html_report and "Flags by type" in html_report
    # a second import of the same files changes nothing (all unchanged now)
    again = import_files(cfg, [x21], "alice")
    assert again.fixes == [] and again.unchanged >= 2

    # --- the English of a reviewed segment changes: the fix is kept, stale, offered as fuzzy match
    key = next(k for k in fixes if k[0].startswith(D1))
    old_en = en_of[key[0]]
    src = root / "corpus" / f"{D1}.txt"
    text = src.read_text(encoding="utf-8")
    assert old_en in text
    src.write_text(text.replace(old_en, "Indeed, " + old_en, 1), encoding="utf-8")
    third = run_loop(cfg)
    row = next(r for r in third.rows if r.seg_id == key[0] and r.target == key[1])
    assert row.en == "Indeed, " + old_en and row.status == "mt" and row.approved is None
    assert row.fuzzy_match == fixes[key] and row.fuzzy_score >= 0.8
    with Store(cfg.resolve(cfg.store)) as store:
        mem = Memory(store)
        assert mem.count() == n_reviewed  # never deleted
        old = next(f for f in mem.all() if f.seg_id == key[0] and f.target == key[1])
        assert old.stale and old.text == fixes[key] and old.source == old_en
    assert sum(r.status == "reviewed" for r in third.rows) == n_reviewed - 1
    assert "earlier fix" in (out / "review" / f"{D1}.html").read_text(encoding="utf-8")
    # an import against the old export is refused for that row: its source changed
    with pytest.raises(ImportRejected, match="English source of"):
        import_files(cfg, [tsv_path], "alice")
    # the sentence comes back: the fix is live again
    src.write_text(text, encoding="utf-8")
    fourth = run_loop(cfg)
    back = next(r for r in fourth.rows if r.seg_id == key[0] and r.target == key[1])
    assert back.status == "reviewed" and back.approved == fixes[key]
