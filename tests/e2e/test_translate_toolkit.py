"""translate-toolkit end to end: a fix made with its Python reader and writer (what Virtaal and
other tools built on it use) in ``aligned/xliff/1.2/`` comes back through ``workflow review
import`` to its segment and language under the reviewer's name, and nothing else changes,
though the same English (with the same MT) is in the file twice."""

from __future__ import annotations

import shutil

import polars as pl
import pytest
from translate.storage import factory

from conftest import CORPUS, write_config

from workflow import pipeline
from workflow.core.config import load_config
from workflow.review.importer import import_files

SHARED = "Belarusians are peacefully demanding accountability to prevent this dangerous culture of impunity."
FIX = "Беларусы мірна патрабуюць адказнасці, каб спыніць гэтую небяспечную культуру беспакаранасці."
DOC = "police-accountable"


@pytest.fixture(scope="module")
def proj(tmp_path_factory, tiny_marian):
    root = tmp_path_factory.mktemp("ttk")
    corpus = root / "corpus"
    corpus.mkdir()
    head = (CORPUS / "amnesty-belarus-police-must-be-held-accountable.txt").read_text(encoding="utf-8").split("\n")[:7]
    assert SHARED in head[6]
    (corpus / f"{DOC}.txt").write_text("\n".join(head) + "\n", encoding="utf-8")
    (corpus / "echo.txt").write_text(f"Protests go on in Minsk. {SHARED}\n", encoding="utf-8")
    cfg = load_config(write_config(root, be=tiny_marian, ru=tiny_marian, corpus=corpus))
    pipeline.run(cfg)
    return root, cfg


def _rows(cfg):
    df = pl.read_parquet(cfg.resolve(cfg.out) / "segments.parquet")
    return {(r["seg_id"], r["target"]): r for r in df.iter_rows(named=True)}


def test_a_fix_saved_by_translate_toolkit_comes_back_to_its_segment_only(proj, tmp_path):
    root, cfg = proj
    before = _rows(cfg)
    shared = sorted(sid for (sid, t), r in before.items() if t == "be" and r["en"] == SHARED)
    assert len(shared) == 2 and len({before[s, "be"]["mt"] for s in shared}) == 1  # same English, same MT
    mine = next(s for s in shared if s.startswith(f"{DOC}:"))
    edited = tmp_path / f"{DOC}.be.xlf"  # the reviewer's copy (aligned/ is rewritten by every run)
    shutil.copy(cfg.resolve(cfg.out) / "xliff" / "1.2" / f"{DOC}.be.xlf", edited)
    store = factory.getobject(str(edited))
    units = {u.getlocations()[0]: u for u in store.units if u.getlocations()}  # the segment id, as tools show it
    assert set(units) == {sid for (sid, t), r in before.items() if t == "be" and r["doc_id"] == DOC}
    units[mine].target = FIX
    units[mine].markapproved(True)
    store.save()
    result = import_files(cfg, [edited], "carol")
    assert [(f.seg_id, f.target, f.text, f.reviewer) for f in result.fixes] == [(mine, "be", FIX, "carol")]
    pipeline.run(cfg)
    after = _rows(cfg)
    fields = ("approved", "reviewer", "mt", "status")
    assert {k for k in before if [before[k][f] for f in fields] != [after[k][f] for f in fields]} == {(mine, "be")}
    assert (after[mine, "be"]["approved"], after[mine, "be"]["reviewer"]) == (FIX, "carol")
