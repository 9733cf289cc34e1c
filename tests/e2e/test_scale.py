"""A run in many chunks ends exactly like a run in one (issue #16): the same rows, scores
and flags (the learned scorer's review budget is drawn over the whole run, not per
chunk), the same review files; ``workflow score`` chunk by chunk too."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from conftest import CORPUS, write_config
from workflow.core.config import load_config
from workflow.pipeline import rescore, run

DOCS = ("amnesty-belarus-police-must-be-held-accountable.txt", "belarus-interior-ministry-to-un-we-are-honest.txt",
        "moscow-times-belarus-rights-abuses-under-fire-at-un.txt")


def _project(folder: Path, model: Path, chunk: int, extra: str) -> Path:
    """A project of three documents with its own store: each run translates everything
    itself, and a sentence's translation does not depend on which others share its batch
    (the engines' length limit is the sentence's own), so other chunks give the same MT."""
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    for name in DOCS:
        shutil.copy(CORPUS / name, corpus)
    shutil.copy(CORPUS / "glossary.toml", corpus)
    return write_config(folder, be=model, ru=model, corpus=corpus, scorer="model",
                        extra=f"\n[scale]\nchunk_segments = {chunk}\n" + extra)


def _frame(folder: Path) -> pl.DataFrame:
    return pl.read_parquet(folder / "aligned" / "segments.parquet").drop("cached").sort(["seg_id", "target"])


def _texts(folder: Path) -> dict[str, str]:
    """The files whose bytes do not carry a time: tables, review pages, XLIFF, PO, report."""
    out = folder / "aligned"
    keep = (".tsv", ".html", ".xlf", ".po", ".md", ".svg")
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*"))
            if p.suffix in keep}


@pytest.mark.parametrize("budget", [0.2, 0.5])
def test_many_chunks_give_the_same_outputs_as_one(tmp_path, tiny_marian, budget):
    # every check included: a verdict must not depend on which segments share its chunk
    extra = f"\n[checks]\nreview_budget = {budget}\n"
    one = _project(tmp_path / "one", tiny_marian, 100_000, extra)
    many = _project(tmp_path / "many", tiny_marian, 1, extra)  # a chunk per document
    a = run(load_config(one))
    b = run(load_config(many))
    assert not any(a.cached.values()) and not any(b.cached.values())  # each translated everything itself
    assert (a.segments, a.scored, a.flagged) == (b.segments, b.scored, b.flagged)
    fa, fb = _frame(tmp_path / "one"), _frame(tmp_path / "many")
    assert fa.equals(fb)
    assert fa.filter(pl.col("status") != "skipped")["flagged"].mean() >= budget  # the budget flagged the run's share
    # per document, the budget would have flagged other segments: it is the run's
    per_doc = fa.filter(pl.col("status") != "skipped").group_by("doc_id", "target").agg(pl.col("flagged").mean())
    assert per_doc["flagged"].min() < budget or per_doc["flagged"].max() > budget + 0.2
    assert _texts(tmp_path / "one") == _texts(tmp_path / "many")
    stages = set(b.stage_seconds)
    assert {"ingest", "segment", "translate", "score", "review", "write"} <= stages

    # workflow score, one chunk per document, gives what it gives in one chunk
    rescore(load_config(one))
    rescore(load_config(many))
    assert _frame(tmp_path / "one").equals(_frame(tmp_path / "many"))
    assert _frame(tmp_path / "many").equals(fb)  # nothing changed since the run: the same rows again
