"""`workflow score`: re-score aligned/ after a config change, new references or imported
fixes, without translating anything (no model is loaded)."""

from __future__ import annotations

import shutil

import polars as pl
import pytest

from conftest import CORPUS, write_config
from workflow.cli.app import main
from workflow.core.config import load_config
from workflow.pipeline import run

DOC = "amnesty-belarus-police-must-be-held-accountable"


@pytest.fixture
def scored(tmp_path, tiny_marian):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / f"{DOC}.txt", corpus)
    cfg = write_config(tmp_path, be=tiny_marian, ru=tiny_marian, corpus=corpus, top='targets = ["be"]')
    run(load_config(cfg))
    return tmp_path


def _frame(project):
    return pl.read_parquet(project / "aligned" / "segments.parquet").filter(pl.col("status") != "skipped")


def _no_model(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("workflow score loaded a model")

    monkeypatch.setattr("workflow.translation.cache.load_engine", refuse)


def test_score_applies_a_config_change_without_a_model(scored, monkeypatch):
    before = _frame(scored)
    assert before["flagged"].sum() > 0 and any("repetition" in f for f in before["flags"].to_list())
    cfg = scored / "config.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("[checks]\n", '[checks]\nflag_threshold = 1000.0\ndisabled = ["repetition"]\n'),
                   encoding="utf-8")
    _no_model(monkeypatch)
    main(["score", "--config", str(cfg)])
    after = _frame(scored)
    structural = {"empty", "identical_to_source", "wrong_script"}  # always flagged, whatever the threshold
    assert after["flagged"].to_list() == [bool(structural & set(f)) for f in after["flags"].to_list()]
    assert after["flagged"].sum() < before["flagged"].sum()
    assert not any("repetition" in f for f in after["flags"].to_list())
    assert after["mt"].to_list() == before["mt"].to_list()  # nothing retranslated
    # the per-document TSV was rewritten too
    tsv = (scored / "aligned" / f"{DOC}.tsv").read_text(encoding="utf-8")
    assert "repetition" not in tsv


def test_score_reads_new_and_removed_reference_files(scored, monkeypatch):
    assert _frame(scored)["reference"].null_count() == _frame(scored).height
    en = _frame(scored)["en"].to_list()
    ref = scored / "corpus" / f"{DOC}.be.txt"
    # a stand-in Belarusian "reference": one line per English sentence, numbered so the
    # aligner can anchor them (the test is about score picking the file up)
    ref.write_text("\n\n".join(f"Сказ {i + 1}: " + " ".join(["слова"] * len(s.split())) + "." for i, s in enumerate(en)),
                   encoding="utf-8")
    _no_model(monkeypatch)
    main(["score", "--config", str(scored / "config.toml")])
    df = _frame(scored)
    assert df["reference"].null_count() == 0
    assert df["reference"][0].startswith("Сказ 1:")
    assert "Reference-based scores" in (scored / "aligned" / "report.md").read_text(encoding="utf-8")
    ref.unlink()
    main(["score", "--config", str(scored / "config.toml")])
    assert _frame(scored)["reference"].null_count() == _frame(scored).height


def test_score_takes_in_fixes_imported_since_the_run(scored, monkeypatch):
    from workflow.review.importer import import_files

    tsv = scored / "aligned" / f"{DOC}.tsv"
    lines = tsv.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    cells = lines[1].split("\t")
    cells[header.index("be")] = "Беларусь: міліцыя павінна адказаць за гвалт"
    edited = scored / "edited.tsv"
    edited.write_text("\n".join([lines[0], "\t".join(cells)]) + "\n", encoding="utf-8")
    import_files(load_config(scored / "config.toml"), [edited], "tester")
    _no_model(monkeypatch)
    main(["score", "--config", str(scored / "config.toml")])
    df = _frame(scored)
    row = df.filter(pl.col("seg_id") == cells[0]).row(0, named=True)
    assert row["status"] == "reviewed" and row["approved"] == "Беларусь: міліцыя павінна адказаць за гвалт"
    assert row["hter"] is not None and row["reviewer"] == "tester"
