"""End to end: `workflow run` over the real corpus with tiny local models."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from conftest import CORPUS, write_config
from workflow.cli.app import main
from workflow.core.config import load_config
from workflow.pipeline import run

WORKFLOW = [sys.executable, "-m", "workflow.cli"]


def frame(folder: Path) -> pl.DataFrame:
    return pl.read_parquet(folder / "aligned" / "segments.parquet").drop("cached").sort(["seg_id", "target"])


def test_run_writes_aligned_for_every_document(project):
    result = run(load_config(project / "config.toml"))
    out = project / "aligned"
    tsvs = sorted(p.name for p in out.glob("*.tsv") if p.name != "skipped.tsv")
    assert tsvs == sorted(p.stem + ".tsv" for p in CORPUS.glob("*.txt"))
    df = pl.read_parquet(out / "segments.parquet")
    assert df.height == 2 * result.segments
    assert set(df["target"]) == {"be", "ru"}
    mt = df.filter(pl.col("status") == "mt")
    assert mt["mt"].null_count() == 0 and (mt["mt"].str.len_chars() > 0).all()
    assert mt["logprob"].null_count() == 0 and (mt["logprob"] < 0).all()
    skipped = df.filter(pl.col("status") == "skipped")
    assert skipped["mt"].null_count() == skipped.height  # boilerplate is listed, not translated
    listed = (out / "skipped.tsv").read_text(encoding="utf-8")
    assert "Support The Moscow Times!" in listed and "donation appeal" in listed
    # the three-way TSV: one row per English segment, in document order
    tsv = (out / "amnesty-belarus-police-must-be-held-accountable.tsv").read_text(encoding="utf-8").splitlines()
    header = tsv[0].split("\t")
    assert header[:6] == ["id", "status_be", "status_ru", "en", "be", "ru"]
    assert tsv[1].split("\t")[3] == "Belarus: Police must be held accountable for violence"
    assert all(len(line.split("\t")) == len(header) for line in tsv)
    assert result.models_loaded == 1  # both targets share the one multi-target model


def test_rerun_uses_the_cache_without_loading_a_model(project, monkeypatch):
    cfg = load_config(project / "config.toml")
    run(cfg)
    first = frame(project)

    def refuse(*a, **k):
        raise AssertionError("a model was loaded on a fully cached rerun")

    monkeypatch.setattr("workflow.translation.cache.load_engine", refuse)
    again = run(cfg)
    assert again.models_loaded == 0
    assert sum(again.translated.values()) == 0
    assert frame(project).equals(first)


def test_nllb_and_multi_target_marian_in_one_run(tmp_path, tiny_marian, tiny_nllb):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "joint-statement-belarusian-human-rights-community-2023.txt", corpus)
    write_config(tmp_path, be=tiny_nllb, ru=tiny_marian, corpus=corpus)
    result = run(load_config(tmp_path / "config.toml"))
    assert result.models_loaded == 2
    df = pl.read_parquet(tmp_path / "aligned" / "segments.parquet")
    assert set(df.filter(pl.col("target") == "be")["model"]) == {str(tiny_nllb)}
    lengths = df.filter(pl.col("status") == "mt")["mt"].str.len_chars()
    assert (lengths > 0).mean() > 0.8  # a random model may stop at once; such rows are flagged "empty"
    empty = df.filter((pl.col("status") == "mt") & (pl.col("mt") == ""))
    assert all("empty" in f for f in empty["flags"].to_list())


def test_missing_model_fails_fast_with_one_clear_message(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'corpus = "{CORPUS}"\nout = "{tmp_path / "aligned"}"\nstore = "{tmp_path / "s.sqlite"}"\n')
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--config", str(cfg)])
    assert exit_info.value.code == 3
    err = capsys.readouterr().err
    assert "Helsinki-NLP/opus-mt-tc-big-en-zle" in err and "not available" in err
    assert "network access" in err and "local folder" in err and "Hugging Face cache" in err
    assert "Traceback" not in err
    assert not (tmp_path / "aligned").exists()


def test_missing_model_from_a_real_process_without_network(tmp_path):
    """The default config, a fresh HF cache and no network: one message, non-zero exit."""
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9"}
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'corpus = "{CORPUS}"\nout = "{tmp_path / "aligned"}"\nstore = "{tmp_path / "s.sqlite"}"\n')
    started = time.monotonic()
    proc = subprocess.run(WORKFLOW + ["run", "--config", str(cfg)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3
    assert "cannot be reached" in proc.stderr and "Traceback" not in proc.stderr
    assert time.monotonic() - started < 60
    assert not (tmp_path / "aligned").exists()


@pytest.mark.parametrize(
    "body, expected",
    [
        ("[decoding]\nbeem_size = 2\n", "unknown key 'decoding.beem_size'.*Did you mean 'decoding.beam_size'"),
        ("[decoding]\nbeam_size = \"four\"\n", "key 'decoding.beam_size' must be int"),
        ('targets = ["be", "uk"]\n', "unknown target language 'uk'"),
        ('engine = "marianmt"\n', "key 'engine' is 'marianmt'; choose one of"),
        ("[decoding\n", "invalid TOML"),
        ('[checks]\nglossary = "nowhere/glossary.toml"\n', "key 'checks.glossary': file .*nowhere/glossary.toml not found"),
        ("[models]\nbe = 3\n", "key 'models.be.id' must be str|key 'models.be' must be a table"),
    ],
)
def test_config_errors_name_the_file_and_key(tmp_path, capsys, body, expected):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(body)
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--config", str(cfg)])
    assert exit_info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert str(cfg) in err
    import re

    assert re.search(expected, err), err


def test_translate_command_with_single_pair_marian(tmp_path, tiny_marian_single):
    write_config(tmp_path, be=tiny_marian_single, ru=tiny_marian_single)
    src = tmp_path / "in.txt"
    src.write_text("Impunity and crimes must end.\nWe ask for solidarity with the people of Belarus!\n")
    out = tmp_path / "out.ru.txt"
    main_args = ["translate", str(src), "--target", "ru", "-o", str(out), "--config", str(tmp_path / "config.toml")]
    proc = subprocess.run(WORKFLOW + main_args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and all(lines)


def _translated_rows(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(store, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
    except sqlite3.DatabaseError:
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_run_resumes_to_identical_outputs(tmp_path, tiny_marian, sig):
    corpus = tmp_path / "corpus"  # two real documents, 50 segments: enough to kill mid-way
    corpus.mkdir()
    for name in ("amnesty-belarus-police-must-be-held-accountable.txt", "joint-statement-belarusian-human-rights-community-2023.txt"):
        shutil.copy(CORPUS / name, corpus)
    reference = tmp_path / "reference"
    reference.mkdir()
    slow = 'engine = "transformers"'  # the slower reference engine leaves time to interrupt it
    write_config(reference, be=tiny_marian, ru=tiny_marian, corpus=corpus, top=slow)
    # every run in a fresh process, as a user runs it: in this test process an earlier
    # CTranslate2 engine has changed OpenMP's thread count, which changes torch's float
    # sums in the last bits (log-probabilities differ by ~1e-7 between processes)
    subprocess.run(WORKFLOW + ["run", "--config", str(reference / "config.toml")], check=True, capture_output=True)

    victim = tmp_path / "victim"
    victim.mkdir()
    write_config(victim, be=tiny_marian, ru=tiny_marian, corpus=corpus, top=slow)
    proc = subprocess.Popen(WORKFLOW + ["run", "--config", str(victim / "config.toml")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _translated_rows(victim / "store.sqlite") < 16 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    if sig == signal.SIGINT:
        assert "interrupted" in err and "Traceback" not in err
    done_before = _translated_rows(victim / "store.sqlite")
    assert 0 < done_before < 2 * 39  # 39 segments per target in these two documents
    assert not (victim / "aligned" / "segments.parquet").exists()

    subprocess.run(WORKFLOW + ["run", "--config", str(victim / "config.toml")], check=True, capture_output=True)
    summary = json.loads((victim / "aligned" / "run.json").read_text(encoding="utf-8"))
    assert sum(summary["cached"].values()) >= done_before  # finished work was not redone
    assert sum(summary["translated"].values()) == 2 * 39 - sum(summary["cached"].values())
    assert frame(victim).drop("model", "revision").equals(frame(reference).drop("model", "revision"))


def test_paragraph_mode_translates_paragraphs_and_aligns_back(tmp_path, tiny_marian):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "amnesty-belarus-police-must-be-held-accountable.txt", corpus)
    write_config(tmp_path, be=tiny_marian, ru=tiny_marian, corpus=corpus, top='unit = "paragraph"\ntargets = ["be"]')
    result = run(load_config(tmp_path / "config.toml"))
    df = pl.read_parquet(tmp_path / "aligned" / "segments.parquet")
    # one row per English sentence, as in sentence mode
    assert df.height == result.segments
    # the store holds one translation per paragraph, not per sentence
    with sqlite3.connect(tmp_path / "store.sqlite") as db:
        sources = [r[0] for r in db.execute("SELECT source FROM translations")]
    assert any("Yet, dozens of criminal cases" in s and "Belarusians are peacefully" in s for s in sources)
    assert len(sources) < (df["status"] == "mt").sum()


def test_reference_files_are_recognised_aligned_and_scored(tmp_path, tiny_marian):
    """A human Belarusian reference beside a document: not a source, aligned sentence by
    sentence to the English (here: the opening of UDHR Article 1-3, OHCHR, free reproduction)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "udhr.txt").write_text(
        "All human beings are born free and equal in dignity and rights. They are endowed with reason and conscience "
        "and should act towards one another in a spirit of brotherhood.\n\nEveryone has the right to life, liberty and "
        "security of person.\n", encoding="utf-8")
    (corpus / "udhr.be.txt").write_text(
        "Усе людзі нараджаюцца свабоднымі і роўнымі ў сваёй годнасці і правах. Яны надзелены розумам і сумленнем "
        "і павінны ставіцца адзін да аднаго ў духу брацтва.\n\nКожны чалавек мае права на жыццё, на свабоду і на "
        "асабістую недатыкальнасць.\n", encoding="utf-8")
    write_config(tmp_path, be=tiny_marian, ru=tiny_marian, corpus=corpus, top='targets = ["be"]')
    result = run(load_config(tmp_path / "config.toml"))
    assert result.documents == ["udhr"]  # the reference is not an English source
    refs = {r.en[:20]: r.reference for r in result.rows}
    assert refs["All human beings are"].startswith("Усе людзі нараджаюцца")
    assert refs["They are endowed wit"].startswith("Яны надзелены")
    assert refs["Everyone has the rig"].startswith("Кожны чалавек")
    report = (tmp_path / "aligned" / "report.md").read_text(encoding="utf-8")
    assert "chrF2++" in report or "chrF" in report


def test_engine_that_is_not_installed_is_a_config_error(tmp_path, tiny_marian, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ct2(name, *args, **kwargs):
        if name == "ctranslate2" or name.endswith(".engines.ctranslate2") or (name == "workflow.translation.engines" and args and args[2] and "ctranslate2" in args[2]):
            raise ImportError("No module named 'ctranslate2'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ct2)
    # engine_class() imports the engine's module on demand: forgetting it makes the next
    # import run the module again, and its `import ctranslate2` fail
    monkeypatch.delitem(sys.modules, "workflow.translation.engines.ctranslate2", raising=False)
    cfg = write_config(tmp_path, be=tiny_marian, ru=tiny_marian, top='engine = "ctranslate2"')
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--config", str(cfg)])
    assert exit_info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "engine 'ctranslate2' is not installed" in err and "pip install ctranslate2" in err
