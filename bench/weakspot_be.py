"""The weak-spot model on Belarusian (issue #13, item 5): no Belarusian MQM labels exist, so
errors are injected into human Belarusian translations and the scorer has to find them.

Data (read from ``../shared/data/ntrex128``, never vendored): NTREX-128's English news
sentences with their human Belarusian (and Russian) translations. A fixed, seeded set of
segments (``--share``, default 30 %) gets one synthetic error each, in turn one of:

- ``drop``: a clause left out (the longest comma-separated part, else the last 40 % of words);
- ``number``: a number changed (a digit +1..8), else a name swapped for another document's name;
- ``english``: the last third of the words left in English (the English source's last third);
- ``repeat``: a phrase of 3-5 words said twice;
- ``russian``: a third of the words (at least 2) replaced by words of the human Russian translation.

Everything is scored as one run of the one scoring function (``score_segments``, target
``be``, default settings: the learned model, review budget 20 %), and with the checks'
weighted sum for comparison. Reported: detection AUC (corrupted vs clean), per error type,
and the false-flag rate on the clean segments at the default flag rule.

    python bench/weakspot_be.py           # all 1,997 segments
    python bench/weakspot_be.py --quick   # the first 600; last line: auc=<a> false_flag_clean=<f>
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workflow.core.config import Checks  # noqa: E402
from workflow.scoring.checks import load_glossary  # noqa: E402
from workflow.scoring.score import score_segments  # noqa: E402

NTREX = ROOT.parent / "shared" / "data" / "ntrex128"
KINDS = ("drop", "number", "english", "repeat", "russian")
NAME = re.compile(r"(?<!^)(?<![.!?] )\b[А-ЯЁІЎ][а-яёіў]{3,}")
DIGIT = re.compile(r"\d")


def lines(name: str) -> list[str]:
    return (NTREX / name).read_text(encoding="utf-8-sig").replace("\r\n", "\n").split("\n")[:1997]


def corrupt(kind: str, en: str, be: str, ru: str, names: list[str], rng: np.random.Generator) -> str | None:
    """``be`` with one error of ``kind``; None when this sentence cannot take it."""
    words = be.split()
    if kind == "drop":
        parts = be.split(", ")
        if len(parts) > 1:
            longest = max(range(len(parts)), key=lambda i: len(parts[i]))
            return ", ".join(p for i, p in enumerate(parts) if i != longest)
        keep = max(1, int(round(len(words) * 0.6)))
        return " ".join(words[:keep]) if keep < len(words) else None
    if kind == "number":
        digits = [m.start() for m in DIGIT.finditer(be)]
        if digits:
            i = digits[int(rng.integers(len(digits)))]
            return be[:i] + str((int(be[i]) + int(rng.integers(1, 9))) % 10) + be[i + 1:]
        found = NAME.findall(be)
        if found:
            other = [n for n in names if n not in found]
            return be.replace(found[0], other[int(rng.integers(len(other)))], 1) if other else None
        return None
    if kind == "english":
        en_words = en.split()
        k, j = max(1, len(words) // 3), max(1, len(en_words) // 3)
        return " ".join(words[:-k] + en_words[-j:]) if len(words) >= 3 else None
    if kind == "repeat":
        if len(words) < 6:
            return None
        n = int(rng.integers(3, 6))
        i = int(rng.integers(0, len(words) - n))
        return " ".join(words[:i + n] + words[i:i + n] + words[i + n:])
    if kind == "russian":
        ru_words = ru.split()
        if len(words) < 4 or len(ru_words) < 2:
            return None
        k = max(2, len(words) // 3)
        at = sorted(rng.choice(len(words), min(k, len(words)), replace=False))
        out = list(words)
        for i in at:
            out[i] = ru_words[min(len(ru_words) - 1, int(round(i * len(ru_words) / len(words))))]
        return " ".join(out)
    raise ValueError(kind)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the first 600 segments")
    ap.add_argument("--share", type=float, default=0.3, help="share of segments that get an error")
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)
    if not NTREX.is_dir():
        print(f"shared data not found at {NTREX}; this benchmark needs ../shared/data", file=sys.stderr)
        return 2
    en, be, ru = lines("newstest2019-src.eng.txt"), lines("newstest2019-ref.bel.txt"), lines("newstest2019-ref.rus.txt")
    n = 600 if args.quick else len(en)
    en, be, ru = en[:n], be[:n], ru[:n]
    rng = np.random.default_rng(args.seed)
    names = sorted({m for s in be for m in NAME.findall(s)})
    chosen = rng.choice(n, int(round(args.share * n)), replace=False)
    kind_of: dict[int, str] = {}
    mt = list(be)
    for j, i in enumerate(sorted(chosen)):
        for step in range(len(KINDS)):  # this segment's kind in turn, else the next one it can take
            kind = KINDS[(j + step) % len(KINDS)]
            bad = corrupt(kind, en[i], be[i], ru[i], names, rng)
            if bad is not None and bad != be[i]:
                mt[i], kind_of[i] = bad, kind
                break
    y = np.array([i in kind_of for i in range(n)])
    glossary = load_glossary(str(ROOT / "corpus" / "glossary.toml"))
    print(f"NTREX-128 EN->BE human translations: {n} segments, {int(y.sum())} with one injected error "
          f"({', '.join(f'{k} {sum(v == k for v in kind_of.values())}' for k in KINDS)})")
    summary = {}
    for scorer in ("model", "checks"):
        settings = Checks(scorer=scorer, encoder_cache=str(ROOT / ".workflow" / "encoder"))
        t0 = time.perf_counter()
        v = score_segments(en, mt, "be", settings, glossary=glossary)
        took = time.perf_counter() - t0
        score = np.array([x.weak_score for x in v])
        flag = np.array([x.flagged for x in v])
        per = {k: roc_auc_score(np.r_[np.ones(sum(1 for t in kind_of.values() if t == k)), np.zeros((~y).sum())],
                                np.r_[score[[i for i, t in kind_of.items() if t == k]], score[~y]]) for k in KINDS}
        a = roc_auc_score(y, score)
        summary[scorer] = (a, float(flag[~y].mean()))
        print(f"  scorer {scorer} ({v[0].scorer}; {n / took:.0f} segments/s): detection AUC {a:.3f} "
              f"({', '.join(f'{k} {per[k]:.3f}' for k in KINDS)}); at the default flag rule: flagged {flag.mean():.3f}, "
              f"false flags on clean segments {flag[~y].mean():.3f}, corrupted segments flagged {flag[y].mean():.3f}, "
              f"P(corrupted | flagged) {y[flag].mean():.3f}")
    a, f = summary["model"]
    print(f"auc={a:.3f} false_flag_clean={f:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
