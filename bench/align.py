"""Benchmark of workflow.align on real parallel text (../shared/data); see bench/README.md.

Data sets (all read at run time, nothing vendored):
  ntrex     NTREX-128 news, 123 documents, EN/BE/RU sentence-parallel. Test documents are
            made by perturbing the 1:1 gold with a fixed seed: merging adjacent target
            sentences (2:1), adjacent source sentences (1:2), a crossing pair of merges
            (2:2), and deleting a target (1:0) or source (0:1) sentence. Gold by construction.
  udhr      UDHR, 58 paragraph units in EN/RU/BE, sentences split by the workflow splitter;
            the gold is the paragraph unit (n:m sentences).
  wmt24     WMT24 EN-RU, 171 documents of paragraph segments; gold = segment units.
            Bridge: a system's output for each segment, aligned back to the English
            sentences of the segment (``align_paragraph_translation``).
  wmt22     WMT22 EN-RU, 181 documents (segments are mostly single sentences), perturbed
            like NTREX; bridge: a system output per segment.

Scores: strict and lax precision/recall/F1 as defined for Vecalign (Thompson & Koehn 2019)
and reused by Bertalign (Liu & Zhu 2023): precision over all predicted beads, recall over
gold beads without insertions/deletions; strict = identical bead, lax = the predicted bead
shares at least one source and one target sentence with a gold bead. For udhr/wmt24, whose
gold units may hold several sentences, predicted beads are first coarsened to the gold
unit boundaries they respect (see ``coarsen``) so that a correct finer alignment is not
counted wrong.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workflow.align import Bead, align, align_paragraph_translation  # noqa: E402
from workflow.segment import split_sentences  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SEED = 20240601

Gold = list[tuple[tuple[int, ...], tuple[int, ...]]]


def read_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# ------------------------------------------------------------------ perturbation


def perturb(units: list[tuple[list[str], list[str], list[str]]], rng: random.Random, rates: dict[str, float]):
    """units: (src sentences, tgt sentences, bridge per src sentence), gold 1:1-ish.
    Returns src, tgt, bridge lists and the gold beads."""
    src: list[str] = []
    tgt: list[str] = []
    bridge: list[str] = []
    gold: Gold = []

    def emit(s_texts, t_texts, b_texts):
        si = tuple(range(len(src), len(src) + len(s_texts)))
        ti = tuple(range(len(tgt), len(tgt) + len(t_texts)))
        src.extend(s_texts)
        tgt.extend(t_texts)
        bridge.extend(b_texts)
        gold.append((si, ti))

    k = 0
    while k < len(units):
        s, t, b = units[k]
        r = rng.random()
        left = len(units) - k
        simple = len(s) == 1 and len(t) == 1
        if simple and left >= 2 and r < rates["2:1"]:
            s2, t2, b2 = units[k + 1]
            emit(s + s2, [" ".join(t + t2)], b + b2)
            k += 2
            continue
        r -= rates["2:1"]
        if simple and left >= 2 and r < rates["1:2"]:
            s2, t2, b2 = units[k + 1]
            emit([" ".join(s + s2)], t + t2, [" ".join(b + b2)])
            k += 2
            continue
        r -= rates["1:2"]
        if simple and left >= 3 and r < rates["2:2"]:
            (s2, t2, b2), (s3, t3, b3) = units[k + 1], units[k + 2]
            emit([" ".join(s + s2)] + s3, t + [" ".join(t2 + t3)], [" ".join(b + b2)] + b3)
            k += 3
            continue
        r -= rates["2:2"]
        if r < rates["1:0"]:
            emit(s, [], b)
        elif r < rates["1:0"] + rates["0:1"]:
            emit([], t, [])
        else:
            emit(s, t, b)
        k += 1
    return src, tgt, bridge, gold


RATES = {"2:1": 0.05, "1:2": 0.05, "2:2": 0.02, "1:0": 0.02, "0:1": 0.02}


# ------------------------------------------------------------------ scoring


def _lax_hit(bead, golds_by_src, golds_by_tgt, gold_set) -> bool:
    s, t = bead
    if not s or not t:
        return bead in gold_set
    cands = set().union(*(golds_by_src.get(i, set()) for i in s))
    return any(g for g in cands if set(g[1]) & set(t))


def prf(golds: list[Gold], tests: list[Gold]) -> dict[str, float]:
    """Strict and lax P/R/F1 summed over documents (Vecalign definitions)."""
    c = dict(tp_s=0, tp_l=0, n_test=0, rtp_s=0, rtp_l=0, n_gold=0)
    for gold, test in zip(golds, tests):
        gold = [(tuple(s), tuple(t)) for s, t in gold if s or t]
        test = [(tuple(s), tuple(t)) for s, t in test if s or t]
        for direction in ("p", "r"):
            ref, hyp = (gold, test) if direction == "p" else (
                [b for b in test if b[0] and b[1]], [b for b in gold if b[0] and b[1]])
            ref_set = set(ref)
            by_src: dict[int, set] = {}
            for g in ref:
                for i in g[0]:
                    by_src.setdefault(i, set()).add(g)
            tps = sum(1 for b in hyp if b in ref_set)
            tpl = sum(1 for b in hyp if _lax_hit(b, by_src, None, ref_set))
            if direction == "p":
                c["tp_s"] += tps; c["tp_l"] += tpl; c["n_test"] += len(hyp)
            else:
                c["rtp_s"] += tps; c["rtp_l"] += tpl; c["n_gold"] += len(hyp)
    out = {}
    for kind, tp, rtp in (("strict", "tp_s", "rtp_s"), ("lax", "tp_l", "rtp_l")):
        p = c[tp] / max(c["n_test"], 1)
        r = c[rtp] / max(c["n_gold"], 1)
        out[f"{kind}_p"], out[f"{kind}_r"] = p, r
        out[f"{kind}_f1"] = 2 * p * r / (p + r) if p + r else 0.0
    return out


def coarsen(test: Gold, gold: Gold) -> Gold:
    """Merge consecutive predicted beads until each group ends where a gold unit ends
    on both sides (or cannot, at the end). A prediction that puts every gold boundary in the
    right place becomes exactly the gold; one that misplaces a boundary fuses gold units
    into a wrong, larger group and is counted wrong."""
    cuts = set()
    si = ti = 0
    for s, t in gold:
        si += len(s); ti += len(t)
        cuts.add((si, ti))
    out: Gold = []
    cur_s: list[int] = []
    cur_t: list[int] = []
    si = ti = 0
    for s, t in test:
        cur_s += s; cur_t += t
        si += len(s); ti += len(t)
        if (si, ti) in cuts:
            out.append((tuple(cur_s), tuple(cur_t)))
            cur_s, cur_t = [], []
    if cur_s or cur_t:
        out.append((tuple(cur_s), tuple(cur_t)))
    return out


def beads_to_gold(beads: list[Bead]) -> Gold:
    return [(b.src, b.tgt) for b in beads]
