"""Review import as a hostile or careless user drives it (issue 18, "review import trusts
labels it should check"): every case is refused with the file, the row and the reason,
or read correctly; nothing is ever stored under the wrong segment or language.

One export per module (tiny model, two short documents); the cases import with
``dry_run`` or check that the memory did not change, so they do not depend on each other.
The table of cases is in bench/README.md ("Review import hardening").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from conftest import CORPUS, DATA, ROOT, write_config
from review_edit import Table

from workflow.core.config import load_config
from workflow.core.lock import ProjectBusy, project_lock
from workflow.core.store import Store
from workflow.outputs.xliff import XLIFF2_NS
from workflow.pipeline import run
from workflow.review.content import MIN_LETTERS, cyrillic_letters
from workflow.review.importer import MAX_FILE_BYTES, ImportRejected, import_files
from workflow.review.memory import Memory

D1 = "amnesty-belarus-police-must-be-held-accountable"
D2 = "amnesty-urges-investigation-of-torture-in-belarus"
BE = [s for s in (DATA / "tatoeba-sample.bel.txt").read_text(encoding="utf-8").splitlines()
      if len(s.split()) >= 5 and s[0] in "АБВГДЕЁЖЗІЙКЛМНОПРСТУЎФХЦЧШЫЬЭЮЯ"]
RU = [s for s in (DATA / "tatoeba-sample.rus.txt").read_text(encoding="utf-8").splitlines() if len(s.split()) >= 5]
# wrong-language fixes that give themselves away by letters (и щ ъ are never Belarusian, ў і never
# Russian); those without are left to lingua, measured in bench/README.md
RU_TELL = [s for s in RU if any(c in s for c in "ищъ")]
BE_TELL = [s for s in BE if any(c in s for c in "ўі")]
EN = ["The police must be held accountable for the violence.", "Amnesty International urges an investigation now."]


@pytest.fixture(scope="module")
def proj(tmp_path_factory, tiny_marian):
    root = tmp_path_factory.mktemp("hardening")
    (root / "corpus").mkdir()
    shutil.copy(CORPUS / f"{D1}.txt", root / "corpus" / f"{D1}.txt")
    head = (CORPUS / f"{D2}.txt").read_text(encoding="utf-8").split("\n")[:10]
    (root / "corpus" / f"{D2}.txt").write_text("\n".join(head) + "\n", encoding="utf-8")
    cfg = load_config(write_config(root, be=tiny_marian, ru=tiny_marian, corpus=root / "corpus"))
    result = run(cfg)
    return root, cfg, {(r.seg_id, r.target): r for r in result.rows}


def _memory(cfg):
    with Store(cfg.resolve(cfg.store)) as store:
        return {f.key: f for f in Memory(store).all()}


def _refused(cfg, paths) -> list[str]:
    before = _memory(cfg)
    with pytest.raises(ImportRejected) as err:
        import_files(cfg, paths, "mallory")
    assert _memory(cfg) == before  # nothing written
    return [str(p) for p in err.value.problems]


def _mt_rows(table: Table) -> list[int]:
    return [i for i in range(len(table.rows)) if table.get(i, "status_be") == "mt"]


# ---------------------------------------------------------------- the language of every fix


def test_swapped_language_columns_are_refused_with_the_row(proj, tmp_path):
    root, cfg, rows = proj
    table = Table(root / "aligned" / f"{D1}.tsv")
    be, ru = table.col["be"], table.col["ru"]
    table.header[be], table.header[ru] = "ru", "be"  # the headers swapped: each column holds the other language
    mt = _mt_rows(table)
    for i in mt:
        table.set(i, "status_be", "approved")  # and the reviewer approved every untouched MT
        table.set(i, "status_ru", "approved")
    msgs = _refused(cfg, [table.save(tmp_path / "swapped.tsv")])
    # every row whose two MTs differ and are long enough to be told apart (a short text, a
    # name, may be the same in both languages: content.MIN_LETTERS Cyrillic letters)
    differ = [i for i in mt
              if rows[(table.get(i, "id"), "be")].mt.strip() != rows[(table.get(i, "id"), "ru")].mt.strip()
              and cyrillic_letters(rows[(table.get(i, "id"), "ru")].mt) >= MIN_LETTERS]
    assert len(differ) >= 3  # the tiny model translates the two languages differently
    for i in differ:
        sid = table.get(i, "id")
        assert f"{tmp_path / 'swapped.tsv'}:{table.line(i)}: this be text is the ru machine translation of {sid}" \
               in "\n".join(msgs)


def test_xliff_relabelled_to_the_other_language_is_refused(proj, tmp_path):
    root, cfg, rows = proj
    data = (root / "aligned" / "xliff" / "2.1" / f"{D2}.ru.xlf").read_bytes()
    tree = etree.fromstring(data)
    tree.set("trgLang", "be")  # a Russian file that says it is Belarusian
    units = [u for u in tree.iter(f"{{{XLIFF2_NS}}}unit") if u.get("translate") != "no"]
    edited = units[0].find(f"{{{XLIFF2_NS}}}segment")
    edited.find(f"{{{XLIFF2_NS}}}target").text = RU[0]
    for u in units:
        u.find(f"{{{XLIFF2_NS}}}segment").set("state", "reviewed")
    path = tmp_path / "relabelled.xlf"
    path.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
    text = "\n".join(_refused(cfg, [path]))
    assert f"this be text is in Russian (detected: ru)" in text
    told_apart = [u for u in units[1:] if rows[(u.get("id"), "be")].mt.strip() != rows[(u.get("id"), "ru")].mt.strip()
                  and cyrillic_letters(rows[(u.get("id"), "ru")].mt) >= MIN_LETTERS]
    assert told_apart and text.count("is the ru machine translation of") >= len(told_apart)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_fix_in_the_wrong_language_is_refused_and_in_the_right_one_taken(proj, tmp_path_factory, data):
    root, cfg, rows = proj
    table = Table(root / "aligned" / f"{D1}.tsv")
    i = data.draw(st.sampled_from(_mt_rows(table)), label="row")
    target = data.draw(st.sampled_from(["be", "ru"]), label="target")
    wrong = data.draw(st.sampled_from((RU_TELL if target == "be" else BE_TELL) + EN), label="wrong text")
    right = data.draw(st.sampled_from(BE if target == "be" else RU), label="right text")
    folder = tmp_path_factory.mktemp("lang")
    bad = table.copy()
    bad.set(i, target, wrong)
    msgs = _refused(cfg, [bad.save(folder / "wrong.tsv")])
    detected = "en" if wrong in EN else "ru" if target == "be" else "be"
    assert len(msgs) == 1 and msgs[0].startswith(f"{folder / 'wrong.tsv'}:{table.line(i)}: this {target} text is in ")
    assert f"(detected: {detected})" in msgs[0]
    good = table.copy()
    good.set(i, target, right)
    res = import_files(cfg, [good.save(folder / "right.tsv")], "alice", dry_run=True)
    assert [(f.seg_id, f.target, f.text) for f in res.fixes] == [(table.get(i, "id"), target, right)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_fix_text_is_stored_exactly_or_refused_on_its_line(proj, tmp_path_factory, data):
    """Fuzz: whatever a reviewer types (formula starts, apostrophes, quotes, tabs, line
    ends, backslashes, control characters), in any line-end style and encoding, the import
    either stores exactly that text for that segment and language, or refuses naming the
    file and that line; never another segment or language."""
    root, cfg, rows = proj
    table = Table(root / "aligned" / f"{D1}.tsv")
    i = data.draw(st.sampled_from(_mt_rows(table)), label="row")
    target = data.draw(st.sampled_from(["be", "ru"]), label="target")
    noise = st.text(alphabet=st.sampled_from(list("=+-@'\"\t\n\r\\ ;,«»\x00\x07\u200b\ufeff")), max_size=6)
    words = "Выпраўлены пераклад і слова ў сказе" if target == "be" else "Исправленный перевод и слово в предложении"
    fix = data.draw(noise, label="before") + words + data.draw(noise, label="after")
    newline = data.draw(st.sampled_from(["\n", "\r\n", "\r"]), label="newline")
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]), label="encoding")
    table.set(i, target, fix)
    path = table.save(tmp_path_factory.mktemp("fuzz") / "fuzz.tsv", newline, encoding)
    try:
        res = import_files(cfg, [path], "fuzzer", dry_run=True)
    except ImportRejected as e:
        assert {(p.file, p.line) for p in e.problems} == {(str(path), table.line(i))}, e.problems
    else:
        assert [(f.seg_id, f.target, f.text) for f in res.fixes] == [(table.get(i, "id"), target, fix.strip())]


# ---------------------------------------------------------------- XML: no DOCTYPE at all


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE xliff [<!ENTITY name "Подмена">]>',
    '<!DOCTYPE xliff [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>',
    '<!DOCTYPE xliff SYSTEM "file:///etc/passwd">',
    '<!DOCTYPE xliff>',
])
def test_xliff_with_any_doctype_is_refused_and_the_earlier_fix_stays(proj, tmp_path, doctype):
    root, cfg, rows = proj
    src = (root / "aligned" / "xliff" / "2.1" / f"{D2}.ru.xlf").read_text(encoding="utf-8")
    first_target = src.index(">", src.index("<target")) + 1
    earlier = tmp_path / "earlier.xlf"
    earlier.write_text(src[:first_target] + "Более ранняя правка рецензента." + src[src.index("</target>"):],
                       encoding="utf-8")
    import_files(cfg, [earlier], "alice")  # the reviewer's earlier fix (again: same text, kept)
    fixes = _memory(cfg)
    body = src[:first_target] + "&name;" + src[src.index("</target>"):]
    decl_end = body.index("?>") + 2
    hostile = tmp_path / "doctype.xlf"
    hostile.write_text(body[:decl_end] + "\n" + doctype + body[decl_end:], encoding="utf-8")
    t0 = time.monotonic()
    msgs = _refused(cfg, [hostile])
    assert time.monotonic() - t0 < 30
    assert msgs == [f"{hostile}:2: the file has a DOCTYPE declaration: XLIFF needs none, and a DTD here can only "
                    "declare entities, which are never expanded; remove the <!DOCTYPE ...> (export again)"]
    assert _memory(cfg) == fixes
    assert "Более ранняя правка рецензента." in {f.text for f in fixes.values()}


# ---------------------------------------------------------------- line ends, encodings, sizes


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR-only"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_line_ends_and_byte_order_marks_read_the_same(proj, tmp_path, newline, encoding):
    root, cfg, rows = proj
    table = Table(root / "aligned" / f"{D1}.tsv")
    mt = _mt_rows(table)
    table.set(mt[0], "be", "Першы выпраўлены сказ з «цытатай» і \"двукоссем\".")
    table.set(mt[-1], "ru", "Последнее исправленное предложение.")
    res = import_files(cfg, [table.save(tmp_path / "edited.tsv", newline, encoding)], "alice", dry_run=True)
    assert sorted((f.seg_id, f.target, f.text) for f in res.fixes) == sorted([
        (table.get(mt[0], "id"), "be", "Першы выпраўлены сказ з «цытатай» і \"двукоссем\"."),
        (table.get(mt[-1], "id"), "ru", "Последнее исправленное предложение.")])
    assert res.unchanged == sum(1 for i in mt for t in ("be", "ru") if table.get(i, t).strip()) - 2


def test_a_10_mb_cell_is_refused_quickly_with_the_limit(proj, tmp_path):
    root, cfg, rows = proj
    table = Table(root / "aligned" / f"{D1}.tsv")
    i = _mt_rows(table)[0]
    table.set(i, "be", "Вельмі доўгі сказ. " * 550_000)  # 10.4 MB
    path = table.save(tmp_path / "huge-cell.tsv")
    t0 = time.monotonic()
    msgs = _refused(cfg, [path])
    assert time.monotonic() - t0 < 20
    en = table.get(i, "en")
    assert len(msgs) == 1 and msgs[0].startswith(f"{path}:{table.line(i)}: the be text of {table.get(i, 'id')} has ")
    assert f"more than the {6 * len(en) + 200:,} a translation of its {len(en):,}-character English may have" in msgs[0]


def test_a_file_over_the_size_limit_is_refused_before_reading(proj, tmp_path):
    root, cfg, rows = proj
    path = tmp_path / "big.tsv"
    with path.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: the size is refused from the file's metadata
    assert _refused(cfg, [path]) == [f"{path}:0: is 32.0 MB; a review file may be at most 32 MB "
                                     "(export one document per file)"]


def test_an_unclosed_quote_is_refused(proj, tmp_path):
    root, cfg, rows = proj
    table = Table(root / "aligned" / f"{D1}.tsv")
    i = _mt_rows(table)[0]
    table.set(i, "be", "Незакрытая цытата")
    path = tmp_path / "sloppy.tsv"  # typed in a text editor: a quote opened, never closed
    path.write_text(table.text().replace("\tНезакрытая цытата\t", '\t"Незакрытая цытата\t'), encoding="utf-8")
    assert _refused(cfg, [path]) == [f"{path}:{table.line(i)}: a field opened with a double quote here is never "
                                     "closed: it swallows the rows after it (close the quote, or remove it)"]


def test_an_unknown_status_is_refused(proj, tmp_path):
    root, cfg, rows = proj
    table = Table(root / "aligned" / f"{D1}.tsv")
    i = _mt_rows(table)[1]
    table.set(i, "status_ru", "aproved")
    assert _refused(cfg, [table.save(tmp_path / "typo.tsv")]) == [
        f"{tmp_path / 'typo.tsv'}:{table.line(i)}: unknown status 'aproved' in column status_ru: "
        "use approved, needs work, or leave it as exported"]


# ---------------------------------------------------------------- special files


def test_special_files_are_refused_by_type_without_reading_or_a_traceback(proj, tmp_path):
    root, cfg, rows = proj
    fifo = tmp_path / "pipe.tsv"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.tsv"
    folder.mkdir()
    missing = tmp_path / "missing.tsv"
    cmd = [sys.executable, "-m", "workflow.cli", "review", "import", str(fifo), "/dev/zero", str(folder), str(missing),
           "--config", str(cfg.path)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert res.returncode == 2, res.stderr
    err = res.stdout + res.stderr
    assert "Traceback" not in err
    for path, what in [(fifo, "is a named pipe (FIFO), not a review file"), ("/dev/zero", "is a character device"),
                       (folder, "is a folder"), (missing, "no such file")]:
        assert err.count(f"{path}:0: {what}") == 1, err


# ---------------------------------------------------------------- the project lock


def test_review_import_waits_for_the_project_lock(proj, tmp_path, monkeypatch):
    root, cfg, rows = proj
    monkeypatch.setenv("WORKFLOW_LOCK_WAIT", "0.5")
    with project_lock(cfg.resolve(cfg.store), wait=0):
        t0 = time.monotonic()
        with pytest.raises(ProjectBusy):
            import_files(cfg, [root / "aligned" / f"{D1}.tsv"], "alice", dry_run=True)
        assert 0.4 < time.monotonic() - t0 < 10


# ---------------------------------------------------------------- an inserted paragraph


def test_an_older_export_still_matches_after_a_paragraph_is_inserted(proj, tmp_path, tiny_marian):
    root, cfg, rows = proj
    copy = tmp_path / "project"
    shutil.copytree(root / "corpus", copy / "corpus")
    shutil.copy(cfg.resolve(cfg.store), copy / "store.sqlite")
    cfg2 = load_config(write_config(copy, be=tiny_marian, ru=tiny_marian, corpus=copy / "corpus"))
    run(cfg2)
    old = Table(copy / "aligned" / f"{D1}.tsv")  # the export a reviewer took away
    mt = _mt_rows(old)
    edits = {old.get(mt[k], "en"): f"Выпраўлены сказ нумар {k}, які застаўся на месцы." for k in (0, 3, -1)}
    for k, i in zip((0, 3, -1), (mt[0], mt[3], mt[-1])):
        old.set(i, "be", edits[old.get(i, "en")])
    src = copy / "corpus" / f"{D1}.txt"
    src.write_text("A new opening paragraph was inserted by the editors.\n\n" + src.read_text(encoding="utf-8"),
                   encoding="utf-8")
    after = run(cfg2)  # ids are positional: every later sentence now has a new id
    new_id = {r.en: r.seg_id for r in after.rows if r.doc_id == D1}
    res = import_files(cfg2, [old.save(tmp_path / "old-export.tsv")], "alice")
    assert sorted((f.seg_id, f.text) for f in res.fixes) == sorted((new_id[en], text) for en, text in edits.items())
    assert all(f.source == en for f in res.fixes for en in [next(e for e, t in edits.items() if t == f.text)])
    moved = [m for m in res.moved if m.startswith(f"{tmp_path / 'old-export.tsv'}:")]
    assert len(moved) == len(old.rows) - sum(old.get(i, "id") == new_id.get(old.get(i, "en")) for i in
                                             range(len(old.rows)))
    assert f"{old.get(mt[0], 'id')} -> {new_id[old.get(mt[0], 'en')]}" in "\n".join(moved)
    assert any("matched by their English" in n for n in res.notes())
    third = run(cfg2)
    shown = {(r.seg_id, r.target): r for r in third.rows}
    for en, text in edits.items():
        assert shown[(new_id[en], "be")].approved == text and shown[(new_id[en], "be")].status == "reviewed"
