"""Publishing keeps what a reviewer's OmegaT wrote into its project, and only that, across a
rerun; ``[outputs] formats`` chooses the review files, the rest is always written."""

from __future__ import annotations

import pytest

from review_rows import sample_rows
from workflow.core.config import OUTPUT_FORMATS, load_config
from workflow.core.errors import ConfigError
from workflow.outputs.omegat import written_by_omegat
from workflow.outputs.publish import REMOVED, WRITERS, write_outputs

TARGETS = ["be", "ru"]


def test_a_rerun_keeps_omegat_project_memory_and_targets_in_place(tmp_path):
    out = tmp_path / "aligned"
    rows = sample_rows()
    write_outputs(out, rows, TARGETS, {"documents": 1})
    memory = out / "omegat" / "be" / "omegat" / "project_save.tmx"
    translated = out / "omegat" / "be" / "target" / "doc-1.po"
    stray = out / "old-document.tsv"  # an output of a document no longer in the corpus
    for path, text in ((memory, "<tmx>reviewer's work</tmx>"), (translated, "msgid \"\""), (stray, "id\ten\n")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    notes = write_outputs(out, rows, TARGETS, {"documents": 1})
    assert memory.read_text(encoding="utf-8") == "<tmx>reviewer's work</tmx>"
    assert translated.read_text(encoding="utf-8") == "msgid \"\""
    assert not stray.exists()
    moved = list((out / REMOVED).rglob("old-document.tsv"))
    assert len(moved) == 1 and moved[0].read_text(encoding="utf-8") == "id\ten\n"
    assert len(notes) == 1 and "old-document.tsv" in notes[0] and "project_save" not in notes[0]


ALWAYS = {"segments.parquet", "skipped.tsv", "run.json", "report.md", "report.html"}


def _names(out):
    """The files of the set (not the plots in report/, what was moved aside, or what OmegaT's own folders keep)."""
    rels = [p.relative_to(out) for p in out.rglob("*") if p.is_file()]
    return {r.as_posix() for r in rels if r.parts[0] not in ("report", REMOVED) and not written_by_omegat(r)}


def test_formats_choose_the_review_files(tmp_path):
    rows = sample_rows()
    out = tmp_path / "aligned"
    write_outputs(out, rows, TARGETS, {"documents": 1})  # the default: a browser, a spreadsheet and OmegaT
    names = _names(out)
    assert ALWAYS <= names and {"review/doc-1.html", "doc-1.xlsx", "omegat/be/omegat.project"} <= names
    assert not {n for n in names if n.startswith(("xliff/", "tmx/")) or n in ("corpus.tmx", "doc-1.tsv")}
    assert 'href="review/doc-1.html"' in (out / "report.html").read_text(encoding="utf-8")
    write_outputs(out, rows, TARGETS, {"documents": 1}, formats=["xlsx"])
    assert _names(out) == ALWAYS | {"doc-1.xlsx"}
    assert "review/" not in (out / "report.html").read_text(encoding="utf-8")  # no link to a page not written
    assert list((out / REMOVED).rglob("doc-1.html"))  # the page of the previous set: moved aside, not deleted
    write_outputs(out, rows, TARGETS, {"documents": 1}, formats=OUTPUT_FORMATS)
    names = _names(out)
    assert {"doc-1.tsv", "corpus.tmx", "tmx/doc-1.tmx", "xliff/2.1/doc-1.be.xlf", "xliff/1.2/doc-1.ru.xlf"} <= names


def test_every_format_writes_its_own_files(tmp_path):
    assert {f for _, wanted in WRITERS for f in wanted} <= set(OUTPUT_FORMATS)
    seen: dict[str, set[str]] = {}
    for f in OUTPUT_FORMATS:
        out = tmp_path / f
        write_outputs(out, sample_rows(), TARGETS, {"documents": 1}, formats=[f])
        seen[f] = _names(out) - ALWAYS
    assert all(seen.values()) and sum(map(len, seen.values())) == len(set().union(*seen.values())), seen  # each its own


def test_an_unknown_format_is_a_config_error_naming_the_key(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[outputs]\nformats = ["review", "pdf"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert "outputs.formats[1]" in str(err.value) and "'pdf'" in str(err.value) and err.value.exit_code == 2
    cfg.write_text('[outputs]\nformats = "review"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="outputs.formats' must be a list"):
        load_config(cfg)
