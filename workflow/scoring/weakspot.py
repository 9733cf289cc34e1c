"""The learned weak-spot model: the chance that a professional reviewer finds a major error
in a translation, from the checks' findings and the cross-lingual encoder
(:mod:`workflow.scoring.encoder`).

Per segment, :func:`features` gives every check's badness, the sentence cosine of source
and translation, word-alignment features (each word's best match on the other side, the
share of words that are each other's best match: a source word with no good match is
omission evidence, a translated word with none addition or mistranslation evidence) and
length features. The shipped model (``weakspot_model.json``, written by
``bench/train_weakspot.py``: a LightGBM text model or logistic coefficients, an isotonic
calibration (Platt: a logistic curve fitted on out-of-fold scores, so the probability keeps the
model's ranking without ties), and a word-level logistic layer) turns them into a calibrated
probability, and blames the translated words the word layer finds weakest, each with its
reason. A project's refit (:class:`Refit`, fitted by :mod:`workflow.scoring.refit` on its
reviews) is a logistic layer over the shipped model's logit, the engine's confidence, the
round trip and the same features. JSON and LightGBM's own text format only: nothing is unpickled.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workflow.core.text import LATIN
from workflow.scoring.checks import REGISTRY, Finding
from workflow.scoring.encoder import LAYERS, Encoded

MODEL_PATH = Path(__file__).with_name("weakspot_model.json")
ENCODER_RECIPE = f"ct2-int8-first{LAYERS}-v1"  # changes when what the features read from the encoder changes
CHECK_NAMES = tuple(name for name, check in REGISTRY.items() if check.in_model)  # see Check.in_model
DIGIT = re.compile(r"\d")

SEGMENT_FEATURES = CHECK_NAMES + (
    "cosine", "src_words", "mt_words", "char_ratio",
    "src_best_mean", "src_best_min", "src_best_p10", "src_mutual", "src_weak",
    "mt_best_mean", "mt_best_min", "mt_best_p10", "mt_mutual", "mt_weak",
    "src_digits", "mt_digits", "mt_latin_words",
)
WORD_FEATURES = ("best", "best_rel", "mutual", "distortion", "latin", "digit", "chars", "cosine")
WEAK_MATCH = 0.80  # a word whose best match on the other side is below this counts as weak (src_weak, mt_weak)


@dataclass(frozen=True)
class Alignment:
    """Word-to-word similarity of a source and its translation (each side's best matches)."""

    src_best: np.ndarray  # (n_src,) best cosine of each source word with any translated word
    mt_best: np.ndarray  # (n_mt,)
    mt_arg: np.ndarray  # (n_mt,) index of that best source word
    src_mutual: np.ndarray  # (n_src,) bool: the two words are each other's best match
    mt_mutual: np.ndarray  # (n_mt,) bool


def align(src: Encoded, mt: Encoded) -> Alignment:
    ns, nm = len(src.words), len(mt.words)
    if ns == 0 or nm == 0:
        return Alignment(np.zeros(ns), np.zeros(nm), np.zeros(nm, int), np.zeros(ns, bool), np.zeros(nm, bool))
    sim = src.word_vecs @ mt.word_vecs.T
    s_arg, m_arg = sim.argmax(axis=1), sim.argmax(axis=0)
    return Alignment(sim.max(axis=1), sim.max(axis=0), m_arg,
                     m_arg[s_arg] == np.arange(ns), s_arg[m_arg] == np.arange(nm))


def _stats(best: np.ndarray, mutual: np.ndarray) -> list[float]:
    if len(best) == 0:
        return [0.0, 0.0, 0.0, 0.0, 1.0]
    return [float(best.mean()), float(best.min()), float(np.percentile(best, 10)), float(mutual.mean()),
            float((best < WEAK_MATCH).mean())]


def features(source: str, mt: str, src: Encoded, tgt: Encoded, findings: Sequence[Finding], al: Alignment) -> list[float]:
    """The segment's feature vector, in the order of SEGMENT_FEATURES."""
    return check_features(findings) + pair_features(source, mt, src, tgt, al)


def check_features(findings: Sequence[Finding]) -> list[float]:
    """The checks' part of the feature vector (each check's badness)."""
    bad = {f.check: f.badness for f in findings}
    return [bad.get(name, 0.0) for name in CHECK_NAMES]


def pair_features(source: str, mt: str, src: Encoded, tgt: Encoded, al: Alignment) -> list[float]:
    """The encoder's and the texts' part (it depends on the two texts only)."""
    mt_words = [mt[a:b] for a, b in tgt.words]
    return [
        float(src.sentence @ tgt.sentence), float(np.log1p(len(src.words))), float(np.log1p(len(tgt.words))),
        float(np.log((len(mt) + 1) / (len(source) + 1))),
        *_stats(al.src_best, al.src_mutual), *_stats(al.mt_best, al.mt_mutual),
        float(len(DIGIT.findall(source))), float(len(DIGIT.findall(mt))),
        float(np.mean([bool(LATIN.search(w)) for w in mt_words])) if mt_words else 0.0,
    ]


def word_features(mt: str, src: Encoded, tgt: Encoded, al: Alignment) -> np.ndarray:
    """(n_mt_words, len(WORD_FEATURES)): the evidence for each translated word."""
    nm, ns = len(tgt.words), max(1, len(src.words))
    if nm == 0:
        return np.zeros((0, len(WORD_FEATURES)))
    words = [mt[a:b] for a, b in tgt.words]
    pos_mt = np.arange(nm) / max(1, nm - 1)
    pos_src = al.mt_arg / max(1, ns - 1)
    cos = float(src.sentence @ tgt.sentence)
    return np.column_stack([
        al.mt_best, al.mt_best - al.mt_best.mean(), al.mt_mutual.astype(float), np.abs(pos_mt - pos_src),
        [float(bool(LATIN.search(w))) for w in words], [float(bool(DIGIT.search(w))) for w in words],
        [np.log1p(len(w)) for w in words], np.full(nm, cos),
    ])


@dataclass(frozen=True)
class WeakSpotModel:
    """The shipped artefact: segment model, calibration, word layer and the default flag rule."""

    kind: str  # "lightgbm" | "logistic"
    booster: object | None  # lightgbm.Booster for kind "lightgbm"
    mean: np.ndarray | None  # logistic: standardization and coefficients
    scale: np.ndarray | None
    coef: np.ndarray | None
    intercept: float
    cal_a: float  # Platt calibration: probability = 1 / (1 + exp(-(a * raw + b)))
    cal_b: float
    word_mean: np.ndarray
    word_scale: np.ndarray
    word_coef: np.ndarray
    word_intercept: float
    word_threshold: float  # word-level probability at or above which a translated word is blamed
    meta: dict  # training data, cross-validated figures, chosen hyper-parameters

    def raw(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, float).reshape(-1, len(SEGMENT_FEATURES))
        if self.kind == "lightgbm":
            return np.asarray(self.booster.predict(X, raw_score=True), float)
        return ((X - self.mean) / self.scale) @ self.coef + self.intercept

    def probability(self, X: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.cal_a * self.raw(X) + self.cal_b)))

    def word_probability(self, W: np.ndarray) -> np.ndarray:
        z = ((np.asarray(W, float) - self.word_mean) / self.word_scale) @ self.word_coef + self.word_intercept
        return 1.0 / (1.0 + np.exp(-z))


def blamed_words(model: WeakSpotModel, mt: str, src: Encoded, tgt: Encoded, al: Alignment) -> list[tuple[int, int, str]]:
    """The translated words the word layer blames: (start, end, reason) into ``mt``."""
    if not tgt.words:
        return []
    p = model.word_probability(word_features(mt, src, tgt, al))
    out = []
    for (a, b), prob, best in zip(tgt.words, p, al.mt_best):
        if prob >= model.word_threshold:
            why = "no close match in the English" if best < WEAK_MATCH else "weakly matched to the English"
            out.append((a, b, f"model: {why} (similarity {best:.2f}; error chance {prob:.0%})"))
    return out


def model_to_json(model: dict) -> str:
    return json.dumps(model, indent=1, sort_keys=True)


def load_model(path: Path = MODEL_PATH) -> WeakSpotModel:
    """Read the artefact (JSON; a LightGBM model is embedded in its own text format)."""
    d = json.loads(Path(path).read_text(encoding="utf-8"))
    names = d.get("segment_features") or []
    same_set = sorted(names) == sorted(SEGMENT_FEATURES) and (d["kind"] == "logistic" or names == list(SEGMENT_FEATURES))
    if not same_set or d.get("word_features") != list(WORD_FEATURES):
        raise ValueError(f"{path}: trained on other features; rerun bench/train_weakspot.py")
    booster = None
    if d["kind"] == "lightgbm":
        import lightgbm  # optional heavy dependency, only for a LightGBM artefact
        booster = lightgbm.Booster(model_str=d["lightgbm"])
    lg, w = d.get("logistic") or {}, d["word"]
    order = [names.index(f) for f in SEGMENT_FEATURES]  # the checks' registry order may differ from training's
    arr = (lambda k, src=lg: np.asarray(src[k], float)[order] if k in src else None)
    return WeakSpotModel(
        d["kind"], booster, arr("mean"), arr("scale"), arr("coef"), float(lg.get("intercept", 0.0)),
        float(d["calibration"]["a"]), float(d["calibration"]["b"]),
        np.asarray(w["mean"], float), np.asarray(w["scale"], float), np.asarray(w["coef"], float),
        float(w["intercept"]), float(w["threshold"]), d.get("meta", {}),
    )


@functools.cache
def shipped_model() -> WeakSpotModel:
    return load_model(MODEL_PATH)


def expected_catch(rows, shares: Sequence[float] = (0.1, 0.2, 0.3)) -> dict[float, tuple[float, float]]:
    """For the report: {share: (major errors a reviewer is expected to find in the weakest
    ``share`` of the segments, expected in all of them)}, from rows scored by the model
    (``weak_score`` is then the calibrated probability of a major error; skipped rows and
    rows without a translation are left out). Expected counts: sums of probabilities."""
    probs = sorted((float(r.weak_score) for r in rows if not r.is_skipped and r.mt is not None), reverse=True)
    total = float(sum(probs))
    return {s: (float(sum(probs[:round(s * len(probs))])), total) for s in shares}


# ---------------------------------------------------------------- a project's own refit (workflow.scoring.refit)

# what the refit layer reads per segment: the shipped model's logit, the engine's confidence
# and the round trip (signals the MQM training data has none of), and the segment features
REFIT_INPUTS = ("shipped_logit", "logprob", "has_logprob", "roundtrip_chrf", "has_roundtrip") + SEGMENT_FEATURES


@functools.cache
def shipped_model_id() -> str:
    """The shipped artefact's identity (a refit is only valid on the model it was fitted on)."""
    return hashlib.sha256(MODEL_PATH.read_bytes()).hexdigest()[:16]


def refit_inputs(model: WeakSpotModel, X: np.ndarray, logprobs: Sequence[float | None],
                 roundtrips: Sequence[float | None]) -> np.ndarray:
    """(n, len(REFIT_INPUTS)): the refit layer's inputs of segments with features ``X``."""
    X = np.asarray(X, float).reshape(-1, len(SEGMENT_FEATURES))
    logit = model.cal_a * model.raw(X) + model.cal_b
    lp = np.array([0.0 if v is None else float(v) for v in logprobs])
    rt = np.array([0.0 if v is None else float(v) / 100.0 for v in roundtrips])
    has_lp = np.array([v is not None for v in logprobs], float)
    has_rt = np.array([v is not None for v in roundtrips], float)
    return np.column_stack([logit, lp, has_lp, rt, has_rt, X])


@dataclass(frozen=True)
class Refit:
    """A logistic layer over REFIT_INPUTS, fitted on one project's reviews."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    meta: dict  # reviews, documents, held-out ranking before/after, when, on which shipped model

    def probability(self, S: np.ndarray) -> np.ndarray:
        z = ((np.asarray(S, float) - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def to_json(self) -> str:
        return json.dumps({"inputs": list(REFIT_INPUTS), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                           "coef": self.coef.tolist(), "intercept": self.intercept, "meta": self.meta},
                          indent=1, sort_keys=True)


def load_refit(path: Path) -> Refit | None:
    """The refit stored at ``path``; None when there is none, or it is for other inputs or
    another shipped model (then the shipped model scores)."""
    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: unreadable weak-spot refit ({e}); delete it to score with the shipped model") from None
    if d.get("inputs") != list(REFIT_INPUTS) or d.get("meta", {}).get("shipped_model") != shipped_model_id():
        return None
    return Refit(np.asarray(d["mean"], float), np.asarray(d["scale"], float), np.asarray(d["coef"], float),
                 float(d["intercept"]), d["meta"])
