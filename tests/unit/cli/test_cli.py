"""Command-line conventions: usage errors are one line and exit code 2, ``--version``,
results on stdout and progress/notes on stderr, ``translate -`` reads standard input,
``--target`` is honoured, help texts show what they say, and progress bars count
sentences (never past their total)."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from rich.console import Console

from conftest import CORPUS, ROOT, write_config
from workflow.cli.app import main
from workflow.core.config import load_config
from workflow.core.progress import Reporter, RichReporter
from workflow.core.store import Store
from workflow.translation.cache import EnginePool, translate_cached
from workflow.translation.hub import resolve_models

WORKFLOW = [sys.executable, "-m", "workflow.cli"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1", "COLUMNS": "200"}
DOC = "amnesty-urges-investigation-of-torture-in-belarus"  # the smallest corpus document


@pytest.fixture
def small(tmp_path, tiny_marian) -> Path:
    """A project with one corpus document and the tiny model; returns its config."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / f"{DOC}.txt", corpus)
    return write_config(tmp_path, be=tiny_marian, ru=tiny_marian, corpus=corpus)


def _cli(capsys, *argv) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``workflow argv`` through ``main``."""
    try:
        main(list(argv))
        code = 0
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


def _run(*argv, cwd=None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*WORKFLOW, *argv], capture_output=True, text=True, input=stdin, env=ENV,
                          cwd=cwd or ROOT, timeout=300)


@pytest.mark.parametrize("argv,command", [
    (["run", "--bogus"], "workflow run"),
    (["qe"], "workflow qe"),
    (["qe", "--src"], "workflow qe"),
    (["review"], "workflow review"),
    (["review", "import"], "workflow review import"),
    ([], "workflow"),
    (["runn"], "workflow"),
    (["compare", "--samples", "many", "a.txt", "b.txt"], "workflow compare"),
    (["qe", "--src", "a", "--mt", "b", "--tgt-lang", "be", "-o", "o.tsv", "--order", "best"], "workflow qe"),
    (["compare", "a.txt", "b.txt", "--test", "t"], "workflow compare"),
    (["align", "a.txt", "b.txt", "--format", "xml"], "workflow align"),
    (["align", "a.txt", "b.txt", "--tgt-lang", "uk"], "workflow align"),
])
def test_usage_errors_are_one_line_and_exit_2(capsys, argv, command):
    code, out, err = _cli(capsys, *argv)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and lines[0].endswith(f"Try '{command} --help'.")
    assert "Traceback" not in err


def test_missing_command_names_the_commands(capsys):
    _, _, err = _cli(capsys, "review")
    assert "(one of: import, serve)" in err
    _, _, err = _cli(capsys)
    assert "run, score, translate, models, align, qe, compare, review" in err


@pytest.mark.slow  # over ~2 s: make test, not make test-fast
def test_usage_error_from_the_installed_command_has_no_traceback():
    res = _run("align", "only-one-file.txt")
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr == "error: Missing argument 'TGT'. Try 'workflow align --help'.\n"


def test_version(capsys):
    code, out, err = _cli(capsys, "--version")
    assert code == 0 and err == ""
    assert out == f"workflow {metadata.version('workflow')}\n"


def test_help_shows_square_brackets_and_goes_to_stdout(capsys):
    """typer's rich markup mode took "[checks]" for markup and showed "(, )"."""
    code, out, err = _cli(capsys, "qe", "--help")
    assert code == 0 and err == ""
    assert "[checks] section" in out and "(, )" not in out
    for command in (["run"], ["score"], ["translate"], ["models"], ["align"], ["compare"], ["review", "import"]):
        code, out, _ = _cli(capsys, *command, "--help")
        assert code == 0 and out.startswith(f"Usage: workflow {' '.join(command)} ")
        assert "(, )" not in out and "()" not in out
    # the command lists show each command's whole first sentence, not one cut short with "..."
    for group in ([], ["review"]):
        _, out, _ = _cli(capsys, *group, "--help")
        listed = out.split("Commands:\n")[1].splitlines()
        assert listed and all(line.rstrip().endswith(".") and not line.rstrip().endswith("...") for line in listed)


@pytest.mark.slow  # over ~2 s: make test, not make test-fast
def test_results_on_stdout_notes_on_stderr(small):
    """``workflow models`` prints its table on stdout, so ``workflow models | grep`` works."""
    res = _run("models", "--config", str(small))
    assert res.returncode == 0, res.stderr
    assert "Configured models" in res.stdout and "build_marian" in res.stdout
    assert res.stderr == ""


@pytest.mark.slow  # a whole run in a fresh interpreter (~10 s)
def test_run_summary_on_stdout_progress_on_stderr(small):
    res = _run("run", "--config", str(small))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "workflow run:" in res.stdout and "Weakest segments:" in res.stdout and "skipped as boilerplate" in res.stdout
    assert "Translating EN->BE" in res.stderr and "Translating EN->RU" in res.stderr
    assert "Translating" not in res.stdout and "Loading model" not in res.stdout
    # every bar ended at its total, never past it
    counts = re.findall(r"Translating EN->\w\w .*? (\d+)/(\d+)", res.stderr)
    assert counts and all(a == b for a, b in counts), res.stderr


@pytest.mark.slow  # three fresh interpreters (~8 s)
def test_translate_reads_stdin_and_honours_target(small, tmp_path):
    lines = ["The court sentenced him to five years.", "", "Human rights defenders were detained."]
    src = tmp_path / "in.txt"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    from_stdin = _run("translate", "-", "--target", "ru", "--config", str(small), stdin=src.read_text(encoding="utf-8"))
    assert from_stdin.returncode == 0, from_stdin.stderr
    out = from_stdin.stdout.split("\n")
    assert len(out) == len(lines) + 1 and out[1] == "" and out[-1] == ""  # one line per input line
    assert "Translating EN->RU" in from_stdin.stderr and "EN->BE" not in from_stdin.stderr
    # the same lines from a file: the same Russian, all from the cache (no model loaded)
    from_file = _run("translate", str(src), "--target", "ru", "--config", str(small))
    assert from_file.stdout == from_stdin.stdout and "Loading model" not in from_file.stderr
    # Belarusian was not in the cache
    be = _run("translate", str(src), "--target", "be", "--config", str(small))
    assert be.returncode == 0 and "Translating EN->BE" in be.stderr and len(be.stdout.split("\n")) == len(lines) + 1


@pytest.mark.slow  # over ~2 s: make test, not make test-fast
def test_translate_without_file_fills_only_the_given_target(capsys, small):
    code, out, _ = _cli(capsys, "translate", "--target", "ru", "--config", str(small))
    assert code == 0
    ((target, cached, new),) = re.findall(r"^(\w\w): (\d+) cached, (\d+) translated now$", out, re.M)
    assert target == "ru" and cached == "0" and int(new) > 0
    # Belarusian was not translated: all of it is new now, and Russian is all cached
    _, out, _ = _cli(capsys, "translate", "--config", str(small))
    assert re.findall(r"^(\w\w): (\d+) cached, (\d+) translated now$", out, re.M) == [
        ("be", "0", new), ("ru", new, "0")]


def test_unknown_target_is_a_usage_error(capsys, small, tmp_path):
    store = Path(load_config(small).resolve(load_config(small).store))
    for argv in (["translate", "--target", "xx"], ["translate", str(small), "--target", "en"]):
        code, out, err = _cli(capsys, *argv, "--config", str(small))
        assert code == 2 and out == ""
        assert err.startswith("error: --target ") and "is not a configured target (configured: be, ru)" in err
        assert len(err.splitlines()) == 1
    assert not store.exists()  # refused before anything was opened


class _Recorder(Reporter):
    """Every bar's total and the steps it advanced by."""

    def __init__(self):
        self.bars: list[tuple[int, list[int]]] = []

    def bar(self, description, total):
        steps: list[int] = []
        self.bars.append((total, steps))

        class _Bar:
            def advance(self, n=1):
                steps.append(n)

        return _NoContext(_Bar())


class _NoContext:
    def __init__(self, value):
        self.value = value

    def __enter__(self):
        return self.value

    def __exit__(self, *exc):
        return False


def test_progress_counts_sentences_as_their_batches_finish(small, tmp_path):
    """A sentence longer than the model's limit is split into pieces that land in
    different batches: it is counted once, when its last piece is done (the bar once
    showed 14/9), and the bar moves with every batch, not once per chunk."""
    cfg = load_config(small)
    lines = [line for line in (CORPUS / f"{DOC}.txt").read_text(encoding="utf-8").splitlines() if len(line) > 40]
    long = ", ".join(lines[:6] * 3)  # far over the tiny model's 512 tokens
    texts = [long] + lines
    decoding = dataclasses.replace(cfg.decoding, batch_tokens=300, chunk=8)  # pieces in batches of their own
    pool = EnginePool(dataclasses.replace(cfg.translation, decoding=decoding))
    model = resolve_models(cfg.models, ["be"], base=cfg.base_dir, offline=True)["be"]
    recorder = _Recorder()
    with Store(tmp_path / "progress.sqlite") as store:
        res = translate_cached(texts, "be", model, store, pool, recorder)
    assert res.translations[0].split, "the long sentence was not split: the test does not test splitting"
    ((total, steps),) = recorder.bars
    assert total == len(set(texts))
    assert sum(steps) == total and all(s > 0 for s in steps)
    assert len(steps) > total // 8  # more than one step per chunk of 8


def test_notes_and_bars_show_text_as_written():
    """A file name or model id with square brackets is not rich markup (a lone "[/]" used
    to stop the run with a MarkupError)."""
    buf = io.StringIO()
    reporter = RichReporter(Console(file=buf, width=200))
    reporter.info("corpus/[draft] notes.txt: decoded as cp1251 [/]")
    with reporter.spinner("Loading model /models/[old]"):
        pass
    with reporter.bar("Translating [EN]->BE", 3) as bar:
        bar.advance(3)
    out = buf.getvalue()
    assert "corpus/[draft] notes.txt: decoded as cp1251 [/]" in out
    assert "Loading model /models/[old] done" in out and "Translating [EN]->BE" in out and "3/3" in out
