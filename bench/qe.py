"""Validate the weak-spot score on human judgement (bench for issue #5).

Reads ``../shared/data`` (never vendored: WMT data is research-only):

- ``wmt-qe2022-en-ru-mqm/train2021-news``: 527 WMT21 news sources x 16 systems (incl. the
  human references ref.A, ref.B), professional MQM error spans with severity. MQM penalty
  per segment: minor 1 (minor punctuation 0.1), major 5, critical 10 (WMT convention).
- ``wmt-qe2022-en-ru-mqm/dev2022``: 1,005 segments, MQM score and word-level OK/BAD tags.
- ``wmt22-en-ru``: official sacrebleu scores of 8 systems, to reproduce.

Honest protocol: weights and the flag threshold are fitted (logistic regression on the
checks' badness, then the lowest threshold reaching precision 0.8) on half of the
train2021 documents and measured on the other half, and vice versa (2-fold
cross-validation by document; figures are the pooled out-of-fold predictions). The
weights shipped as each check's default ``weight`` (``Params`` of the checks in
``workflow/scoring/checks/``, the ``[checks.<name>]`` tables of config.toml) are fitted on
all train2021 documents (``--calibrate`` prints them) and dev2022 is held out for them.

The learned weak-spot model (issue #13, ``workflow/scoring/weakspot.py``, trained by
``bench/train_weakspot.py``) is measured the same way: its shipped configuration
(model kind, hyper-parameters, TED and synthetic errors in the training data or not) is refitted per fold of a
document-grouped 4-fold split of train2021-news (TED, when used, is in every fold's
training data), giving out-of-fold figures; dev2022 is scored by the shipped artefact
(fitted on all of the training data, never on dev2022). The review budget is applied to
the whole data set as one run.

    python bench/qe.py            # everything, prints a table for bench/README.md
    python bench/qe.py --quick    # the learned model only; last line:
                                  # tau_dev=<x> capture20=<y> precision_any=<p> recall_major=<r>
    python bench/qe.py --checks   # the checks' weighted sum only (the fallback scorer)
    python bench/qe.py --calibrate  # print check weights/threshold fitted on all of train2021
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import os
import re
import sys
import time

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.metrics import roc_auc_score  # noqa: E402

from workflow.scoring.checks import CheckInput, REGISTRY, load_glossary, run_checks  # noqa: E402
from workflow.core.config import Checks  # noqa: E402
from workflow.scoring import encoder as enc_mod  # noqa: E402
from workflow.scoring import score as score_mod  # noqa: E402
from workflow.scoring import weakspot  # noqa: E402
from workflow.scoring.refit import fit_refit  # noqa: E402
from workflow.scoring.score import budget_flags  # noqa: E402
from workflow.scoring.weakspot import MODEL_PATH, load_model  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
MQM = DATA / "wmt-qe2022-en-ru-mqm"
WMT22 = DATA / "wmt22-en-ru"
SEVERITY_WEIGHT = {"minor": 1.0, "major": 5.0, "critical": 10.0}
CHECK_NAMES = list(REGISTRY)
TARGET_PRECISION = 0.8  # the issue's target
REVIEW_PRECISION = 0.5  # the operating point shipped as checks.flag_threshold (see README)


@dataclass
class Seg:
    system: str
    doc: str
    src: str
    mt: str
    penalty: float = 0.0  # MQM penalty (higher = worse)
    major: bool = False  # a major or critical error was annotated
    bad_spans: list[tuple[int, int]] = field(default_factory=list)  # char spans in mt
    tags: list[str] | None = None  # dev: OK/BAD per token of tok
    tok: list[str] | None = None


# ---------------------------------------------------------------- data


NEWS = MQM / "train2021-news" / "mqm-newstest2021_enru.tsv"
TED = MQM / "train2021-ted" / "mqm-ted_enru.tsv"


def load_train(path: Path = NEWS) -> list[Seg]:
    """One Seg per (system, document, segment) of a WMT21 MQM span file (news or TED)."""
    segs: dict[tuple[str, str, str], Seg] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            key = (row["system"], row["doc"], row["doc_id"])
            raw = row["target"]
            clean = raw.replace("<v>", "").replace("</v>", "")
            seg = segs.get(key)
            if seg is None:
                seg = segs[key] = Seg(row["system"], row["doc"], row["source"], clean)
            sev, cat = row["severity"], row["category"]
            if sev in SEVERITY_WEIGHT:
                w = SEVERITY_WEIGHT[sev]
                if sev == "minor" and cat == "Punctuation":
                    w = 0.1
                seg.penalty += w
                seg.major |= sev in ("major", "critical")
                m = re.search(r"<v>(.*?)</v>", raw, re.S)
                if m:
                    start = m.start()
                    seg.bad_spans.append((start, start + len(m.group(1))))
    return list(segs.values())


def load_dev() -> list[Seg]:
    d = MQM / "dev2022"
    rows = list(csv.DictReader((d / "en-ru-mqm.2022_dev.csv").open(encoding="utf-8", newline="")))
    toks = (d / "mqm_dev2022_enru.mt").read_text(encoding="utf-8").split("\n")
    tags = (d / "mqm_dev2022_enru.tags").read_text(encoding="utf-8").split("\n")
    out = []
    for r, t, g in zip(rows, toks, tags):
        s = Seg("dev", "dev", r["src"], r["mt"], penalty=-float(r["score"]))
        s.tok, s.tags = t.split(), g.split()
        out.append(s)
    return out


# ---------------------------------------------------------------- statistics


def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall tau-b (ties handled), O(n^2) in chunks; no scipy needed."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n = len(x)
    conc = disc = tx = ty = 0
    step = 1000
    for i in range(0, n, step):
        dx = np.sign(x[i:i + step, None] - x[None, :])
        dy = np.sign(y[i:i + step, None] - y[None, :])
        p = dx * dy
        conc += int((p > 0).sum())
        disc += int((p < 0).sum())
        tx += int(((dx == 0) & (dy != 0)).sum())
        ty += int(((dy == 0) & (dx != 0)).sum())
    # every unordered pair counted twice; the diagonal has dx=dy=0 and is ignored
    denom = np.sqrt((conc + disc + tx) * (conc + disc + ty))
    return float((conc - disc) / denom) if denom else 0.0


def mcc(pred: list[bool], gold: list[bool]) -> float:
    p = np.asarray(pred, bool)
    g = np.asarray(gold, bool)
    tp = float((p & g).sum()); tn = float((~p & ~g).sum())
    fp = float((p & ~g).sum()); fn = float((~p & g).sum())
    d = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return (tp * tn - fp * fn) / d if d else 0.0


def token_ranges(text: str, tokens: list[str]) -> list[tuple[int, int] | None]:
    """Character range of each token in ``text`` (greedy, in order); None when not found."""
    out = []
    pos = 0
    for t in tokens:
        i = text.find(t, pos)
        if i < 0 or i - pos > 40:
            out.append(None)
            continue
        out.append((i, i + len(t)))
        pos = i + len(t)
    return out


def overlaps(r: tuple[int, int] | None, spans) -> bool:
    return r is not None and any(s < r[1] and r[0] < e for s, e in spans)


# ---------------------------------------------------------------- scoring


def run_all(segs: list[Seg], settings: Checks) -> tuple[np.ndarray, list]:
    """Badness matrix (segments x checks) and the per-segment scores."""
    glossary = load_glossary(str(ROOT / "corpus" / "glossary.toml"))
    inputs = [CheckInput(str(i), s.src, s.mt) for i, s in enumerate(segs)]
    scores = run_checks(inputs, "ru", settings, glossary=glossary)
    X = np.zeros((len(segs), len(CHECK_NAMES)))
    for i, sc in enumerate(scores):
        for f in sc.findings:
            X[i, CHECK_NAMES.index(f.check)] = f.badness
    return X, scores


def fit_weights(X: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 3000) -> np.ndarray:
    """Logistic regression (gradient descent, L2), coefficients clipped at 0: a check can
    only make a segment look worse. Checks that never fire get weight 0."""
    n, k = X.shape
    w = np.zeros(k)
    b = 0.0
    lr = 0.5
    for _ in range(iters):
        z = X @ w + b
        p = 1 / (1 + np.exp(-z))
        g = X.T @ (p - y) / n + l2 * w / n
        w -= lr * g
        b -= lr * float((p - y).mean())
        w = np.maximum(w, 0.0)
    return w


def pick_threshold(score: np.ndarray, y: np.ndarray, target: float = 0.8, min_support: int = 30) -> float:
    """Lowest threshold whose flagged set has precision >= target (most recall)."""
    best = float(score.max()) + 1.0
    for t in sorted(set(np.round(score[score > 0], 6)), reverse=True):
        flagged = score >= t
        if flagged.sum() >= min_support and y[flagged].mean() >= target:
            best = float(t)
    return best


def doc_fold(doc: str) -> int:
    return int(hashlib.sha256(doc.encode()).hexdigest(), 16) % 2


def evaluate_train(segs, X, out: dict) -> None:
    y = np.array([s.major for s in segs], float)
    pen = np.array([s.penalty for s in segs])
    folds = np.array([doc_fold(s.doc) for s in segs])
    weak = np.zeros(len(segs))
    flag = np.zeros(len(segs), bool)
    fold_info = []
    flag_review = np.zeros(len(segs), bool)
    for k in (0, 1):
        tr, te = folds != k, folds == k
        w = fit_weights(X[tr], y[tr])
        thr = pick_threshold(X[tr] @ w, y[tr], TARGET_PRECISION)
        thr_review = pick_threshold(X[tr] @ w, y[tr], REVIEW_PRECISION)
        weak[te] = X[te] @ w
        flag[te] = weak[te] >= thr
        flag_review[te] = weak[te] >= thr_review
        fold_info.append((k, int(te.sum()), thr, thr_review, w))
    fr = flag_review
    out["review_precision"] = float(y[fr].mean()) if fr.any() else float("nan")
    out["review_recall_major"] = float(fr[y == 1].mean())
    out["review_flagged_share"] = float(fr.mean())
    out["review_rate_mt"] = float(fr[~np.array([s.system.startswith("ref.") for s in segs])].mean())
    out["review_rate_ref"] = float(fr[np.array([s.system.startswith("ref.") for s in segs])].mean())
    is_ref = np.array([s.system.startswith("ref.") for s in segs])
    mt = ~is_ref
    out["train_folds"] = fold_info
    out["flag_precision"] = float(y[flag].mean()) if flag.any() else float("nan")
    out["flag_recall_major"] = float(flag[y == 1].mean())
    out["flagged_share"] = float(flag.mean())
    out["kendall_tau"] = kendall_tau_b(weak, pen)
    out["flag_rate_mt"] = float(flag[mt].mean())
    out["flag_rate_ref"] = float(flag[is_ref].mean())
    out["major_rate_mt"] = float(y[mt].mean())
    out["major_rate_ref"] = float(y[is_ref].mean())
    out["n_train"] = len(segs)
    # per-check precision/firing on the whole train set (descriptive, not fitted)
    per = {}
    for j, name in enumerate(CHECK_NAMES):
        fired = X[:, j] > 0
        per[name] = (int(fired.sum()), float(y[fired].mean()) if fired.any() else float("nan"),
                     float(fired[mt].mean()), float(fired[is_ref].mean()))
    out["per_check"] = per
    out["oof_weak"] = weak
    out["oof_flag"] = flag


def word_mcc_train(segs, scores, out: dict) -> None:
    pred, gold = [], []
    for s, sc in zip(segs, scores):
        blamed = [(a, b) for a, b, _ in sc.spans if b - a < 0.5 * max(1, len(s.mt))]
        for m in re.finditer(r"\S+", s.mt):
            r = (m.start(), m.end())
            pred.append(overlaps(r, blamed))
            gold.append(overlaps(r, s.bad_spans))
    out["word_mcc"] = mcc(pred, gold)
    out["word_pred_bad"] = float(np.mean(pred))
    out["word_gold_bad"] = float(np.mean(gold))


def evaluate_dev(segs, X, scores, w, thr, out: dict) -> None:
    weak = X @ w
    pen = np.array([s.penalty for s in segs])
    out["dev_kendall_tau"] = kendall_tau_b(weak, pen)
    flag = weak >= thr
    out["dev_flagged_share"] = float(flag.mean())
    q = -pen
    out["dev_mqm_flagged"] = float(np.median(q[flag])) if flag.any() else float("nan")
    out["dev_mqm_unflagged"] = float(np.median(q[~flag]))
    bad = q < 50  # dev has no severities: "clearly bad" proxy, MQM score below 50 (of 100)
    out["dev_prec_mqm_below_50"] = float(bad[flag].mean()) if flag.any() else float("nan")
    out["dev_share_below_50"] = float(bad.mean())
    pred, gold = [], []
    for s, sc in zip(segs, scores):
        blamed = [(a, b) for a, b, _ in sc.spans if b - a < 0.5 * max(1, len(s.mt))]
        for tok, tag, r in zip(s.tok, s.tags, token_ranges(s.mt, s.tok)):
            if tok == "<EOS>":
                continue
            pred.append(overlaps(r, blamed))
            gold.append(tag == "BAD")
    out["dev_word_mcc"] = mcc(pred, gold)


# ---------------------------------------------------------------- WMT22 reproduction


def wmt22(out: dict) -> None:
    from workflow.scoring.metrics import corpus_scores

    official: dict[tuple[str, str], float] = {}
    for line in (WMT22 / "automatic-scores.en-ru.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        pair, system, _id, _c, metric, score = line.split("\t")
        official[(system, metric)] = float(score)
    ref = (WMT22 / "generaltest2022.en-ru.ref.A.ru").read_text(encoding="utf-8-sig").split("\n")[:-1]
    rows = []
    for hyp_path in sorted((WMT22 / "system-outputs").glob("*.ru")):
        system = hyp_path.name.split(".")[3] if hyp_path.name.count(".") >= 4 else hyp_path.stem
        system = hyp_path.name[len("generaltest2022.en-ru.hyp."):-len(".ru")]
        hyp = hyp_path.read_text(encoding="utf-8-sig").split("\n")[:-1]
        s = corpus_scores(hyp, [ref], metrics=("bleu", "chrf"), chrf_word_order=0)
        ob, oc = official.get((system, "bleu-A")), official.get((system, "chrf-A"))
        rows.append((system, s["bleu"].score, ob, s["chrf"].score, oc))
    out["wmt22"] = rows
    out["wmt22_signatures"] = (s["bleu"].signature, s["chrf"].signature)
    out["wmt22_reproduced"] = all(
        ob is not None and oc is not None and round(b, 2) == round(ob, 2) and round(c, 2) == round(oc, 2)
        for _, b, ob, c, oc in rows
    )


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the learned weak-spot model only")
    ap.add_argument("--checks", action="store_true", help="the checks' weighted sum only (train2021 cross-validation)")
    ap.add_argument("--calibrate", action="store_true", help="print weights fitted on all of train2021")
    ap.add_argument("--speed", type=int, metavar="N", help="time score_segments (model scorer) on N dev2022 segments")
    ap.add_argument("--refit", action="store_true", help="simulate a project's reviewer: refit on 200 revealed segments")
    args = ap.parse_args(argv)
    if not (MQM / "train2021-news").is_dir():
        print(f"shared data not found at {DATA}; this benchmark needs ../shared/data", file=sys.stderr)
        return 2
    if args.speed:
        return speed(args.speed)
    if args.refit:
        return refit_simulation()
    if args.quick:
        return evaluate_model()
    settings = Checks()
    out: dict = {}
    t0 = time.time()
    train = load_train()
    Xtr, sc_tr = run_all(train, settings)
    t_checks = time.time() - t0
    evaluate_train(train, Xtr, out)
    y = np.array([s.major for s in train], float)
    w_all = fit_weights(Xtr, y)
    thr_all = pick_threshold(Xtr @ w_all, y, REVIEW_PRECISION)
    if args.calibrate:
        print("weights fitted on all of train2021-news (clip >= 0), as config.toml tables:")
        for name, w in zip(CHECK_NAMES, w_all):
            print(f"    [checks.{name}] weight = {w:.2f}")
        print(f"flag_threshold = {thr_all:.2f}  (precision >= {REVIEW_PRECISION} on train2021; "
              f"p >= {TARGET_PRECISION}: {pick_threshold(Xtr @ w_all, y, TARGET_PRECISION):.2f})")
    print(f"train2021-news: {len(train)} segments, checks ran in {t_checks:.1f} s "
          f"({1000 * t_checks / len(train):.1f} ms/segment incl. dictionary loading)")
    for k, n, thr, thr_r, w in out["train_folds"]:
        ws = ", ".join(f"{c}={v:.2f}" for c, v in zip(CHECK_NAMES, w) if v > 0)
        print(f"  fold {k} (tested on {n} segments): thresholds {thr:.2f} (p>=0.8) / {thr_r:.2f} (p>=0.5); "
              f"weights fitted on the other fold: {ws}")
    print("per check on train2021 (fired, P(major|fired), fire rate MT, fire rate refs):")
    for name, (n, p, fm, fr) in out["per_check"].items():
        print(f"  {name:13s} fired {n:5d}  precision {p:.3f}  MT {fm:.3f}  refs {fr:.3f}")
    if not args.checks:
        word_mcc_train(train, sc_tr, out)
        dev = load_dev()
        Xdv, sc_dv = run_all(dev, settings)
        evaluate_dev(dev, Xdv, sc_dv, w_all, thr_all, out)
        wmt22(out)
        print(f"train2021 word-level MCC (blamed spans vs <v> spans): {out['word_mcc']:.3f} "
              f"(predicted BAD {out['word_pred_bad']:.3f} of words, gold BAD {out['word_gold_bad']:.3f})")
        print(f"dev2022 (held out; weights from all train2021): kendall_tau={out['dev_kendall_tau']:.3f} "
              f"flagged={out['dev_flagged_share']:.3f} precision(MQM<50)={out['dev_prec_mqm_below_50']:.3f} "
              f"(base rate {out['dev_share_below_50']:.3f}) median MQM flagged {out['dev_mqm_flagged']:.1f} "
              f"vs unflagged {out['dev_mqm_unflagged']:.1f} word_mcc={out['dev_word_mcc']:.3f}")
        print("WMT22 EN-RU reproduction (ours / official bleu-A, chrf-A):")
        for system, b, ob, c, oc in out["wmt22"]:
            print(f"  {system:18s} BLEU {b:6.2f} / {ob:6.2f}   chrF {c:6.2f} / {oc:6.2f}")
        print(f"  signatures: {out['wmt22_signatures'][0]} | {out['wmt22_signatures'][1]}")
        print(f"  reproduced to two decimals: {out['wmt22_reproduced']}")
    print(f"train2021 out-of-fold at the issue's target (threshold fitted for precision >= {TARGET_PRECISION}): "
          f"precision {out['flag_precision']:.3f}, flagged {out['flagged_share']:.3f} of segments; "
          f"recall of major-error segments {out['flag_recall_major']:.3f}; "
          f"flag rate MT {out['flag_rate_mt']:.3f} vs human refs {out['flag_rate_ref']:.3f} "
          f"(major-error rate MT {out['major_rate_mt']:.3f}, refs {out['major_rate_ref']:.3f})")
    print(f"train2021 out-of-fold at the review operating point (threshold fitted for precision "
          f">= {REVIEW_PRECISION}): precision {out['review_precision']:.3f}, recall of major-error segments "
          f"{out['review_recall_major']:.3f}, flagged {out['review_flagged_share']:.3f}; flag rate MT "
          f"{out['review_rate_mt']:.3f} vs human refs {out['review_rate_ref']:.3f}")
    print(f"checks' weighted sum: flag_precision={out['review_precision']:.3f} kendall_tau={out['kendall_tau']:.3f}")
    return 0 if args.checks else evaluate_model()


# ---------------------------------------------------------------- the learned model (issue #13)


def refit_simulation(reveal: int = 200, seeds: int = 5) -> int:
    """Item 4 of issue #13 on MQM data: a reviewer reveals the labels of ``reveal`` random
    segments of one data set (label "had an error": any annotated error, as a fix with
    HTER > 0), ``workflow.scoring.refit.fit_refit`` refits (or keeps the shipped model when
    the refit does not rank the revealed segments' held-out documents better), and both are
    measured on the rest of the set. TED (talks; the shipped model is trained on news) and
    dev2022 (news, 2022; never used for fitting the shipped model)."""
    import train_weakspot as tw  # the training script's data sets (same folder)

    model = weakspot.load_model(weakspot.MODEL_PATH)
    for name, segs in (("TED", load_train(TED)), ("dev2022", load_dev())):
        data = tw.build(segs, "ted" if name == "TED" else "dev")
        S = weakspot.refit_inputs(model, data.X, [None] * len(data.segs), [None] * len(data.segs))
        label = data.any_error.astype(float)
        # dev2022 has one document id: documents are its runs of consecutive segments (50 each)
        docs = data.docs if name == "TED" else np.array([f"dev-{i // 50}" for i in range(len(data.segs))])
        rows = []
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            shown = np.zeros(len(label), bool)
            shown[rng.choice(len(label), reveal, replace=False)] = True
            refit, fig = fit_refit(S[shown], label[shown], list(docs[shown]))
            rest = ~shown
            p0 = S[rest, 0]
            p1 = refit.probability(S[rest]) if refit is not None else p0
            y_rest, pen = label[rest], data.penalty[rest]
            major = data.y[rest] if name == "TED" else (-pen < 50).astype(float)
            rows.append((refit is not None, fig["shipped"], fig[fig["best"]], auc(p0, y_rest), auc(p1, y_rest),
                         kendall_tau_b(p0, pen), kendall_tau_b(p1, pen), tw.capture(p0, major, 0.2), tw.capture(p1, major, 0.2)))
        r = np.array(rows, float)
        print(f"{name}: reveal {reveal} of {len(label)} segments ({seeds} seeds): refit kept in {int(r[:, 0].sum())}/{seeds}; "
              f"revealed held-out AUC shipped {r[:, 1].mean():.3f} / refit {r[:, 2].mean():.3f}; on the rest: "
              f"AUC(any error) {r[:, 3].mean():.3f} -> {r[:, 4].mean():.3f}, tau-b vs MQM {r[:, 5].mean():.3f} -> "
              f"{r[:, 6].mean():.3f}, weakest 20 % hold {r[:, 7].mean():.3f} -> {r[:, 8].mean():.3f} of the "
              f"{'major-error' if name == 'TED' else 'MQM<50'} segments (min/max tau after: {r[:, 6].min():.3f}/{r[:, 6].max():.3f})")
    return 0


def auc(score: np.ndarray, y: np.ndarray) -> float:
    return float(roc_auc_score(y, score))


def speed(n: int) -> int:
    """Throughput of the one scoring function with the learned model, as a run calls it: one
    call per target language over the same English (the second target reuses the English's
    encoding). The encoder is loaded before timing (once per process in a run)."""
    dev = load_dev()[:n]
    settings = Checks(encoder_cache=str(ROOT / ".workflow" / "encoder"))
    t0 = time.perf_counter()
    enc_mod.get_encoder(settings.encoder_cache)
    t_load = time.perf_counter() - t0
    glossary = load_glossary(str(ROOT / "corpus" / "glossary.toml"))
    src, mt = [s.src for s in dev], [s.mt for s in dev]
    times = []
    for _ in range(2):  # two targets of one run (same MT text: its pair features are forgotten in between)
        score_mod._PAIRS.clear()
        t0 = time.perf_counter()
        score_mod.score_segments(src, mt, "ru", settings, glossary=glossary)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    score_mod.score_segments(src, mt, "ru", dataclasses.replace(settings, scorer="checks"), glossary=glossary)
    t_checks = time.perf_counter() - t0
    load = os.getloadavg()[0]
    print(f"score_segments, model scorer, {n} dev2022 segments, {os.cpu_count()} cores, load average {load:.1f}: "
          f"encoder load {t_load:.1f} s; first target {n / times[0]:.1f} segments/s ({1000 * times[0] / n:.1f} ms/segment), "
          f"second target (English remembered) {n / times[1]:.1f} segments/s ({1000 * times[1] / n:.1f} ms/segment); "
          f"the checks alone {n / t_checks:.1f} segments/s ({1000 * t_checks / n:.1f} ms/segment)")
    return 0


def evaluate_model() -> int:
    """Out-of-fold and dev2022 figures of the shipped weak-spot model; last line is the summary."""
    import train_weakspot as tw  # the training script's data sets and folds (same folder; it imports this one)

    t0 = time.time()
    model = load_model(MODEL_PATH)
    chosen = model.meta["chosen"]
    kind, params = tw.CANDIDATES[chosen.replace(" +synthetic", "").replace(" +TED", "")]
    news = tw.build(load_train(NEWS), "news")
    ted = tw.build(load_train(TED), "ted") if " +TED" in chosen else None
    synthetic = tw.build(tw.synthetic_errors(news.segs), "synthetic") if chosen.endswith("+synthetic") else None
    dev = tw.build(load_dev(), "dev")
    t_feat = time.time() - t0
    raw = tw.oof(news, kind, params, ted, synthetic)
    # calibrate the out-of-fold scores on the other folds' out-of-fold scores (nested: the
    # probabilities a threshold is applied to never saw the segment's own label)
    folds = tw.folds_of(news.docs)
    prob = np.zeros(len(raw))
    for k in range(tw.N_FOLDS):
        tr = folds != k
        a, b = tw.platt(raw[tr], news.y[tr])
        prob[~tr] = 1 / (1 + np.exp(-(a * raw[~tr] + b)))
    settings = Checks()
    flag = np.array(budget_flags(list(prob), settings.review_budget, settings.flag_probability))
    y, mt = news.y.astype(bool), ~news.is_ref
    r = {
        "tau": kendall_tau_b(raw, news.penalty), "capture": {s: tw.capture(raw, news.y, s) for s in (0.1, 0.2, 0.3)},
        "precision_any": float(news.any_error[flag].mean()), "precision_major": float(y[flag].mean()),
        "recall_major": float(flag[y].mean()), "flagged": float(flag.mean()),
        "rate_mt": float(flag[mt].mean()), "rate_ref": float(flag[~mt].mean()),
        "ece": float(np.mean([abs(prob[b].mean() - y[b].mean()) * b.mean()
                              for b in [(prob >= lo) & (prob < lo + 0.1) for lo in np.arange(0, 1, 0.1)] if b.any()]) * 10),
    }
    r["rules"] = []
    for budget, thr in ((0.1, 1.0), (0.2, 1.0), (0.3, 1.0), (0.0, 0.4), (0.0, 0.5), (0.0, 0.6), (0.0, 0.7)):
        f = np.array(budget_flags(list(prob), budget, thr))
        r["rules"].append((budget, thr, float(f.mean()), float(news.any_error[f].mean()) if f.any() else float("nan"),
                           float(y[f].mean()) if f.any() else float("nan"), float(f[y].mean()),
                           float(f[mt].mean()), float(f[~mt].mean())))
    wp = tw.oof_words(news, raw, ted)
    r["word_mcc"] = mcc(wp >= model.word_threshold, news.word_gold)
    # dev2022: the shipped artefact, trained without it
    dprob = model.probability(dev.X)
    dflag = np.array(budget_flags(list(dprob), settings.review_budget, settings.flag_probability))
    below50 = -dev.penalty < 50
    d = {"tau": kendall_tau_b(dprob, dev.penalty),
         "capture20_below50": tw.capture(model.raw(dev.X), below50.astype(float), 0.2),
         "precision_any": float(dev.any_error[dflag].mean()), "precision_below50": float(below50[dflag].mean()),
         "flagged": float(dflag.mean()), "base_any": float(dev.any_error.mean()), "base_below50": float(below50.mean()),
         "word_mcc": mcc(model.word_probability(dev.W) >= model.word_threshold, dev.word_gold)}
    t_all = time.time() - t0
    print(f"weak-spot model {chosen} ({model.meta['trained_on']}, {model.meta['segments']} segments; "
          f"features of {len(news.segs) + len(dev.segs) + (len(ted.segs) if ted else 0)} translations in {t_feat:.0f} s, "
          f"all in {t_all:.0f} s)")
    print("cross-validated candidates (train_weakspot.py, news out-of-fold tau-b / capture20):")
    for name, v in model.meta["cv_news"].items():
        print(f"  {name:34s} {v['tau']:.3f} / {v['capture20']:.3f}")
    c = r["capture"]
    print(f"train2021-news out-of-fold: tau-b {r['tau']:.3f}; major-error segments in the weakest 10/20/30 %: "
          f"{c[0.1]:.3f} / {c[0.2]:.3f} / {c[0.3]:.3f}; calibration error (ECE, 10 bins) {r['ece']:.3f}")
    print(f"  at the default (review_budget {settings.review_budget}, flag_probability {settings.flag_probability}): "
          f"flagged {r['flagged']:.3f}, P(any error | flagged) {r['precision_any']:.3f}, "
          f"P(major | flagged) {r['precision_major']:.3f}, recall of major-error segments {r['recall_major']:.3f}; "
          f"flag rate MT {r['rate_mt']:.3f} vs human refs {r['rate_ref']:.3f}; word-level MCC {r['word_mcc']:.3f}")
    print("  flag rules (out-of-fold): budget / probability threshold -> flagged, P(any|flagged), P(major|flagged), "
          "recall major, flag rate MT / refs")
    for budget, thr, fl, pa, pm, rec, fm, fr in r["rules"]:
        print(f"    budget {budget:.1f} / p >= {thr:.1f}: {fl:.3f}  {pa:.3f}  {pm:.3f}  {rec:.3f}  {fm:.3f} / {fr:.3f}")
    print(f"dev2022 (held out): tau-b {d['tau']:.3f}; weakest 20 % hold {d['capture20_below50']:.3f} of the "
          f"MQM<50 segments (base {d['base_below50']:.3f}); at the default: flagged {d['flagged']:.3f}, "
          f"P(any error | flagged) {d['precision_any']:.3f} (base {d['base_any']:.3f}), P(MQM<50 | flagged) "
          f"{d['precision_below50']:.3f}; word-level MCC {d['word_mcc']:.3f}")
    print(f"tau_dev={d['tau']:.3f} capture20={c[0.2]:.3f} precision_any={r['precision_any']:.3f} "
          f"recall_major={r['recall_major']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
