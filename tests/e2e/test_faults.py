"""Hardening (issue #7), fast cases: bad input, a second run, a damaged store, a full
disk, formula cells, unsafe checkpoints. Issue #18's classes (hostile corpus files, a
busy or header-damaged store and its restore, publishing as a set, unusable paths,
configuration, models, glossaries, compare) are in test_hardening.py. The slow kill -9 /
Ctrl-C tests are in bench/faults.py (and the basic kill-and-resume case in test_run.py)."""

from __future__ import annotations

import codecs
import errno
import os
import re
import threading
import time
from pathlib import Path

import polars as pl
import pytest

from conftest import write_config
from workflow.cli.app import main
from workflow.core.config import Ingest, ModelRef, load_config
from workflow.core.errors import ModelNotAvailable
from workflow.corpus.ingest import read_document
from workflow.core.lock import ProjectBusy, project_lock
from workflow.translation.hub import ResolvedModel
from workflow.pipeline import run
from workflow.corpus.segment import segment_document
from workflow.core.store import CacheKey, Store
from workflow.core.tsv import read_tsv, tsv, tsv_cell, tsv_uncell

EN = [
    "The court sentenced three human rights defenders to long prison terms.",
    "Observers were not allowed into the hall during the trial.",
    "The families of political prisoners ask for international support.",
    "Independent journalists continue to report from exile.",
    "The report documents torture in detention centres across the country.",
    "Lawyers who defended the accused lost their licences.",
    "Peaceful protesters were detained and beaten by the police.",
    "The United Nations called for the release of all political prisoners.",
]
RU = ("Суд приговорил трёх правозащитников к длительным срокам заключения. Наблюдателей не пустили в зал "
      "во время процесса. Семьи политических заключённых просят о международной поддержке.")


def tiny(folder: Path, model: Path, corpus: Path) -> Path:
    write_config(folder, be=model, ru=model, corpus=corpus)
    return folder / "config.toml"


# ---------------------------------------------------------------- bad input


def test_bad_input_corpus_runs_the_good_documents_and_names_each_bad_file(tmp_path, tiny_marian):
    c = tmp_path / "corpus"
    c.mkdir()
    (c / "good.txt").write_text(EN[0] + "\n\n" + EN[1] + "\n", encoding="utf-8")
    (c / "empty.txt").write_bytes(b"")
    (c / "blank.txt").write_text("  \n\t\n   \n")
    (c / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (c / "bad-utf8.txt").write_bytes(EN[2].encode() + b"\nThe caf\xe9 owner paid a fine for cr\xe8me br\xfbl\xe9e.\n")  # Latin-1
    (c / "nul.txt").write_bytes(b"Lawyers were \x00\x00disbarred for defending\x00 protesters in court.\n")
    (c / "utf16.txt").write_bytes(codecs.BOM_UTF16_LE + (EN[3] + "\n").encode("utf-16-le"))
    (c / "invisible.txt").write_text("Hidden\u200b marks\u202e never\u2066 reach the translation model.\n")
    (c / "crlf.txt").write_bytes((EN[5] + "\r\n\r\n" + EN[6] + "\r\n").encode())
    (c / "lone-cr.txt").write_bytes((EN[7] + "\r\rThe end of the statement is here.\r").encode())
    (c / "cp1251.txt").write_bytes(RU.encode("cp1251"))
    (c / "koi8r.txt").write_bytes(RU.replace("Суд", "Городской суд").encode("koi8_r"))
    (c / "good_copy.txt").write_bytes((EN[0] + "\r\n\r\n" + EN[1] + "\r\n").encode())  # same text, CRLF
    (c / "name with spaces.txt").write_text(EN[4] + "\n")
    (c / "naïve café ü.txt").write_text("A café owner was fined for a poster.\n")
    (c / "a..b.txt").write_text("Dots in a name must not escape the output folder.\n")
    outside = tmp_path / "secret.txt"
    outside.write_text("This file lies outside the corpus folder and must not be read.\n")
    (c / "link.txt").symlink_to(outside)
    started = time.monotonic()
    result = run(load_config(tiny(tmp_path, tiny_marian, c)))
    assert time.monotonic() - started < 60
    problems = "\n".join(result.problems)

    def named(fname: str, pattern: str) -> None:
        lines = [p for p in result.problems if p.startswith(str(c / fname) + ":")]
        assert lines, f"{fname} not reported:\n{problems}"
        assert any(re.search(pattern, line) for line in lines), lines

    named("empty.txt", "no text")
    named("blank.txt", "no text")
    named("image.txt", "binary")
    named("nul.txt", r"nul.txt:1: 3 NUL bytes removed")
    named("bad-utf8.txt", r"bad-utf8.txt:2: not valid UTF-8")
    named("cp1251.txt", r"not English \(detected: ru\)")
    named("koi8r.txt", r"not English \(detected: ru\)")
    named("good_copy.txt", "same text as .*good.txt; duplicate not used")
    named("link.txt", "outside the corpus folder")
    assert "secret" not in " ".join(result.documents)

    df = pl.read_parquet(tmp_path / "aligned" / "segments.parquet")
    mt = df.filter(pl.col("status") == "mt")
    assert set(mt["en"]) >= {EN[0], EN[1], EN[3], EN[4], EN[5], EN[6], EN[7], "Hidden marks never reach the translation model."}
    assert not mt["en"].str.contains("[\u200b\u202e\u2066\r]").any()
    # the non-English documents are listed as skipped with the reason, never translated
    ru_rows = df.filter(pl.col("doc_id").is_in(["cp1251", "koi8r"]))
    assert ru_rows.height > 0 and (ru_rows["status"] == "skipped").all()
    assert ru_rows["skip_reason"].str.starts_with("not English (detected: ru)").all()
    assert "not English (detected: ru)" in (tmp_path / "aligned" / "skipped.tsv").read_text(encoding="utf-8")
    assert "good_copy" not in set(df["doc_id"])
    # odd names give safe file names inside aligned/
    names = {p.name for p in (tmp_path / "aligned").iterdir()}
    assert {"name-with-spaces.tsv", "naïve-café-ü.tsv", "good.tsv"} <= names
    assert all((tmp_path / "aligned") in p.resolve().parents for p in (tmp_path / "aligned").iterdir())
    assert not list((tmp_path / "aligned").glob("*.tmp")) and not list((tmp_path / "aligned").glob(".*"))


def test_huge_paragraph_and_5mb_document_ingest_and_segment_quickly(tmp_path):
    sentences = " ".join(f"Sentence number {i} reports on the trial of a human rights defender." for i in range(2900))
    big = tmp_path / "paragraph.txt"
    big.write_text(sentences[:200_000] + ".\n", encoding="utf-8")
    nopunct = tmp_path / "run-on.txt"
    nopunct.write_text(("word " * 40_000).strip() + "\n", encoding="utf-8")
    started = time.monotonic()
    for path in (big, nopunct):
        doc = read_document(path, Ingest())
        assert len(doc.paragraphs) == 1 and len(doc.paragraphs[0].text) >= 199_000
        segs = segment_document(doc)
        assert "".join(s.text for s in segs).replace(" ", "") == doc.paragraphs[0].text.replace(" ", "")
    assert len(segment_document(read_document(big, Ingest()))) > 2000
    huge = tmp_path / "five-mb.txt"
    para = " ".join(EN) + "\n\n"
    huge.write_text(para * (5_000_000 // len(para) + 1), encoding="utf-8")
    assert huge.stat().st_size >= 5_000_000
    doc = read_document(huge, Ingest(duplicate_paragraphs=False))
    segs = segment_document(doc)
    assert len(segs) >= 8 * (5_000_000 // len(para))
    assert time.monotonic() - started < 60


# ---------------------------------------------------------------- two runs at once


def test_second_run_waits_then_refuses_clearly(tmp_path, tiny_marian, monkeypatch, capsys):
    c = tmp_path / "corpus"
    c.mkdir()
    (c / "one.txt").write_text(EN[0] + "\n")
    cfg = tiny(tmp_path, tiny_marian, c)
    store = tmp_path / "store.sqlite"
    monkeypatch.setenv("WORKFLOW_LOCK_WAIT", "0.5")
    with project_lock(store):
        started = time.monotonic()
        with pytest.raises(ProjectBusy) as info:
            run(load_config(cfg))
        assert time.monotonic() - started >= 0.4
        assert "another workflow run" in info.value.message and f"process {os.getpid()}" in info.value.message
        with pytest.raises(SystemExit) as exit_info:
            main(["run", "--config", str(cfg)])
        assert exit_info.value.code == 5
        assert "another workflow run" in capsys.readouterr().err
    assert not (tmp_path / "aligned").exists()  # the refused run wrote nothing
    run(load_config(cfg))  # the lock is free again
    assert (tmp_path / "aligned" / "one.tsv").exists()


def test_lock_waits_for_the_first_run_to_finish(tmp_path):
    store = tmp_path / "s.sqlite"
    held = threading.Event()

    def first():
        with project_lock(store):
            held.set()
            time.sleep(0.6)

    t = threading.Thread(target=first)
    t.start()
    held.wait(5)
    started = time.monotonic()
    with project_lock(store, wait=10):
        waited = time.monotonic() - started
    t.join()
    assert 0.3 < waited < 5


# ---------------------------------------------------------------- damaged store


def _filled_store(path: Path, n: int = 2000) -> None:
    from workflow.review.memory import SCHEMA as MEMORY_SCHEMA

    with Store(path) as s:
        s.db.executescript(MEMORY_SCHEMA)
        s.db.execute("INSERT INTO approved (doc_id, target, source_hash, seg_id, source, text, reviewer, created, origin) "
                     "VALUES ('d', 'be', 'h1', 'd:p1:s1', 'Hello.', 'Прывітанне.', 'anna', 1.0, 'fix.tsv:2')")
        key = CacheKey.make("m", "r", "e", {}, "be")
        s.put_translations(key, [(f"source {i} " + "x" * 300, f"target {i}", -0.5, 4, False) for i in range(n)])


@pytest.mark.parametrize("damage", ["truncate", "pages", "garbage"])
def test_damaged_store_is_backed_up_reported_and_rebuilt(tmp_path, damage):
    path = tmp_path / "store.sqlite"
    _filled_store(path)
    data = path.read_bytes()
    if damage == "truncate":
        bad = data[: len(data) // 3]
    elif damage == "pages":
        bad = data[: len(data) // 2] + b"\xff" * 8192 + data[len(data) // 2 + 8192 :]
    else:
        bad = b"not a database at all " * 200
    path.write_bytes(bad)
    with Store(path) as s:
        assert len(s.warnings) == 1 and "the store was damaged" in s.warnings[0] and str(s.backup) in s.warnings[0]
        assert s.backup.read_bytes() == bad  # the damaged original is kept, untouched
        assert s.db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        n = s.count_translations()
        if damage != "garbage":
            assert n > 300  # what could be read was kept
            approved = s.db.execute("SELECT text FROM approved").fetchall()
            assert approved == [("Прывітанне.",)]  # reviewers' fixes survive
        s.put_translations(CacheKey.make("m", "r", "e", {}, "ru"), [("a", "b", None, 1, False)])
    with Store(path) as s:  # repaired for good
        assert s.warnings == [] and s.count_translations() == n + 1
    assert len(list(tmp_path.glob("store.sqlite.corrupt-*"))) == 1


def test_run_on_truncated_store_reports_and_ends_like_a_clean_run(tmp_path, tiny_marian):
    c = tmp_path / "corpus"
    c.mkdir()
    (c / "doc.txt").write_text("\n\n".join(EN[:4]) + "\n")
    cfg = load_config(tiny(tmp_path, tiny_marian, c))
    run(cfg)
    before = pl.read_parquet(tmp_path / "aligned" / "segments.parquet").drop("cached")
    store = tmp_path / "store.sqlite"
    store.write_bytes(store.read_bytes()[:5000])
    result = run(cfg)
    assert any("the store was damaged" in p and "corrupt-" in p for p in result.problems)
    assert list(tmp_path.glob("store.sqlite.corrupt-*"))
    assert pl.read_parquet(tmp_path / "aligned" / "segments.parquet").drop("cached").equals(before)


# ---------------------------------------------------------------- disk full


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fail_at", [1, 3])
def test_disk_full_while_writing_keeps_previous_outputs(tmp_path, tiny_marian, monkeypatch, capsys, fail_at):
    c = tmp_path / "corpus"
    c.mkdir()
    (c / "doc.txt").write_text(EN[0] + "\n")
    cfg_path = tiny(tmp_path, tiny_marian, c)
    run(load_config(cfg_path))
    out = tmp_path / "aligned"
    old = _snapshot(out)
    (c / "doc.txt").write_text(EN[0] + "\n\n" + EN[1] + "\n")  # the new outputs would differ
    (c / "second.txt").write_text(EN[2] + "\n")
    calls = {"n": 0}
    real_fsync = os.fsync

    def full_disk(fd):
        calls["n"] += 1
        if calls["n"] >= fail_at:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr("workflow.core.files.os.fsync", full_disk)
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--config", str(cfg_path)])
    assert exit_info.value.code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "No space left on device" in err and "previous version is left intact" in err and "Traceback" not in err
    now = _snapshot(out)
    assert not [n for n in now if n.endswith(".tmp") or Path(n).name.startswith(".")]  # no half-written files
    assert now == old  # all outputs are staged first: a failure part-way replaces nothing
    pl.read_parquet(out / "segments.parquet")


# ---------------------------------------------------------------- hostile text in TSV


HOSTILE_CELLS = ["=HYPERLINK(\"http://x\",\"y\")", "+7 (017) 123", "-5 degrees", "@SUM(A1:A9)", "'quoted",
                 "\tleading tab", "line\nbreak", "back\\slash\\n", "<script>alert(1)</script>", "a]]>b & <c>"]


@pytest.mark.parametrize("text", HOSTILE_CELLS)
def test_formula_cells_are_neutralised_and_round_trip(text):
    cell = tsv_cell(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert "\t" not in cell and "\n" not in cell
    assert tsv_uncell(cell) == text
    table = tsv(["id", "en"], [("d:p1:s1", text)])
    line = [cells for _, cells in read_tsv(table, len(table) + 1)][1]  # RFC 4180 quotes (the " in a formula)
    assert tsv_uncell(line[1]) == text


# ---------------------------------------------------------------- unsafe models
# (the static scan for remote code and unpickling: tests/unit/core/test_security_scan.py)


def test_pickle_checkpoint_is_refused_unless_allowed(tmp_path):
    (tmp_path / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    model = ResolvedModel(ModelRef(str(tmp_path)), tmp_path, "local-x", True)
    with pytest.raises(ModelNotAvailable, match="pickle"):
        model.weights()
    assert model.weights(allow_pickle=True).name == "pytorch_model.bin"
    (tmp_path / "model.safetensors").write_bytes(b"{}")
    assert model.weights().name == "model.safetensors"  # safetensors preferred
