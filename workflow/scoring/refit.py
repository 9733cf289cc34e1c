"""Refit the weak-spot model on a project's own reviews (``workflow score``).

The shipped model learned from professional annotations of WMT21 news; a project
has its own texts, engine and reviewers, and signals the training data has none of: the
engine's confidence (mean log-probability) and the round trip. Once ``checks.refit_min_reviews``
segments (default 200) of a project are reviewed, :func:`refit_on_reviews` (called by
``workflow score`` before it scores: the reviewed rows are scored first, as a run scores
them, which records their inputs in ``score.signals``) fits a logistic
layer (``weakspot.Refit``) over the shipped model's logit, those two signals and the segment
features, on labels from the reviews: a fix with HTER > 0 had an error, an approval of the
MT unchanged (HTER 0) is fine. It is kept only if it ranks held-out reviewed segments
better than the shipped model (AUC of out-of-fold probabilities, folds by document, so a
document is never scored by a layer fitted on it); it is then stored in
``checks.refit_weights`` (``.workflow/weakspot-refit.json``), which every later scoring of
the project (``workflow run``, ``workflow score``, ``workflow qe`` with the project's config)
uses; run.json records which weights are in force (:func:`in_force`). A refit that no
longer beats the shipped model is removed (it is derived data: the reviews stay in the store).
While a refit is in force, the weak-spot score is the chance that this project's reviewers
change the segment (its label), no longer that of a professional's major error.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from workflow.core.config import Checks
from workflow.core.files import write_atomic
from workflow.core.progress import Reporter
from workflow.core.records import Row
from workflow.scoring import weakspot
from workflow.scoring.checks import Glossary
from workflow.scoring.score import score_segments, signals

FOLDS = 5  # document-grouped folds of the held-out comparison
MIN_PER_CLASS = 10  # reviewed segments needed with and without an error
STRENGTHS = (0.03, 0.3)  # inverse L2 strengths tried (C of LogisticRegression on standardized inputs)


def reviewed(rows: Sequence[Row]) -> list[tuple[Row, bool]]:
    """(row, had an error) of every reviewed translation: HTER > 0 = the reviewer changed it."""
    return [(r, r.hter > 0) for r in rows
            if not r.is_skipped and r.approved is not None and r.mt and r.hter is not None]


def fit_layer(S: np.ndarray, y: np.ndarray, C: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(mean, scale, coef, intercept) of a logistic layer on standardized inputs (a constant
    input gets scale 1 and, by the L2 penalty, weight 0)."""
    mean, std = S.mean(axis=0), S.std(axis=0)
    scale = np.where(std > 1e-9, std, 1.0)
    lr = LogisticRegression(C=C, max_iter=2000).fit((S - mean) / scale, y)
    return mean, scale, lr.coef_[0], float(lr.intercept_[0])


def _probability(layer, S: np.ndarray) -> np.ndarray:
    mean, scale, coef, intercept = layer
    return 1.0 / (1.0 + np.exp(-(((S - mean) / scale) @ coef + intercept)))


def held_out(S: np.ndarray, y: np.ndarray, groups: Sequence[str]) -> dict:
    """AUC of the shipped model and of each refit strength on out-of-fold probabilities
    (folds by document), and the best strength."""
    folds = GroupKFold(n_splits=min(FOLDS, len(set(groups))))
    out = {"shipped": float(roc_auc_score(y, S[:, 0]))}
    for C in STRENGTHS:
        p = np.zeros(len(y))
        for tr, te in folds.split(S, y, groups):
            if len(set(y[tr])) < 2:  # a fold without both labels cannot be fitted: shipped scores it
                p[te] = 1 / (1 + np.exp(-S[te, 0]))
                continue
            p[te] = _probability(fit_layer(S[tr], y[tr], C), S[te])
        out[C] = float(roc_auc_score(y, p))
    out["best"] = max(STRENGTHS, key=lambda c: out[c])
    return out


def fit_refit(S: np.ndarray, y: np.ndarray, groups: Sequence[str]) -> tuple[weakspot.Refit | None, dict]:
    """The refit of all of ``S``/``y`` if it ranks held-out segments better than the shipped
    model, else None; and the held-out figures."""
    figures = held_out(S, y, groups)
    C = figures["best"]
    if figures[C] <= figures["shipped"]:
        return None, figures
    mean, scale, coef, intercept = fit_layer(S, y, C)
    meta = {"reviews": int(len(y)), "with_error": int(y.sum()), "documents": len(set(groups)), "C": C,
            "heldout_auc_shipped": round(figures["shipped"], 4), "heldout_auc_refit": round(figures[C], 4),
            "shipped_model": weakspot.shipped_model_id(), "fitted": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    return weakspot.Refit(mean, scale, coef, intercept, meta), figures


def refit_on_reviews(chunks: Iterable[Sequence[Row]], settings: Checks, *, glossary: Glossary | None = None,
                     backtranslate: Mapping[str, Callable] | None = None, reporter: Reporter | None = None) -> str:
    """Refit on the reviewed rows of ``chunks`` (a project's rows with the reviews applied),
    before the project is scored: store the refit when it is better, remove a stored one
    that no longer is. Returns the one line it reported (see the module doc)."""
    rep = reporter or Reporter()
    path = Path(settings.refit_weights)
    if settings.scorer != "model" or settings.refit_min_reviews == 0:
        return ""
    items = [(r, err) for rows in chunks for r, err in reviewed(rows)]
    if not items and weakspot.load_refit(path) is None:
        return ""  # nothing reviewed yet: nothing to say
    for target in dict.fromkeys(r.target for r, _ in items):  # scored as a run scores them: records their signals
        todo = [r for r, _ in items if r.target == target]
        score_segments([r.en for r in todo], [r.mt for r in todo], target, settings, glossary=glossary,
                       seg_ids=[r.seg_id for r in todo], logprobs=[r.logprob for r in todo],
                       backtranslate=(backtranslate or {}).get(target), reporter=rep)
    found = [(r, err, signals(r.target, r.en, r.mt)) for r, err in items]
    found = [(r, err, s) for r, err, s in found if s is not None]  # None: the learned model could not score
    y = np.array([err for _, err, _ in found], float)
    groups = [r.doc_id for r, _, _ in found]
    if (len(found) < settings.refit_min_reviews or min(y.sum(), len(y) - y.sum()) < MIN_PER_CLASS
            or len(set(groups)) < 2):
        note = (f"Weak-spot refit: {len(found)} reviewed segments in {len(set(groups))} documents; it needs "
                f"{settings.refit_min_reviews} (checks.refit_min_reviews) in at least 2 documents, at least "
                f"{MIN_PER_CLASS} of them fixed and {MIN_PER_CLASS} approved unchanged; "
                + ("the project's refit stays in force" if weakspot.load_refit(path) else "the shipped model scores"))
        rep.info(note)
        return note
    S = np.array([s for _, _, s in found])
    with rep.spinner(f"Weak-spot refit on {len(found)} reviewed segments"):
        refit, fig = fit_refit(S, y, groups)
    head = (f"Weak-spot refit on {len(found)} reviewed segments of {len(set(groups))} documents: held-out AUC "
            f"{fig[fig['best']]:.3f} vs the shipped model's {fig['shipped']:.3f}")
    if refit is None:
        if weakspot.load_refit(path) is not None:
            os.unlink(path)
        note = f"{head}: not better, the shipped model scores"
    else:
        write_atomic(path, refit.to_json() + "\n")
        note = f"{head}: in force ({path})"
    rep.info(note)
    return note


def in_force(settings: Checks) -> dict:
    """For run.json: which weak-spot weights score this project."""
    if settings.scorer != "model":
        return {"scorer": settings.scorer}
    try:
        refit = weakspot.load_refit(Path(settings.refit_weights))
    except ValueError as e:
        return {"scorer": "model", "weights": "shipped", "problem": str(e)}
    out = {"scorer": "model", "weights": "refit" if refit else "shipped", "shipped_model": weakspot.shipped_model_id()}
    if refit is not None:
        out["refit"] = {"path": str(settings.refit_weights), **refit.meta}
    return out
