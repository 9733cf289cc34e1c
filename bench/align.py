"""Benchmark of workflow.align.aligner on real parallel text (../shared/data); see bench/README.md.

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

from workflow.align.aligner import Bead, align, align_paragraph_translation  # noqa: E402
from workflow.corpus.segment import split_sentences  # noqa: E402

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


def _lax_hit(bead, golds_by_src, gold_set) -> bool:
    """Lax match: shares a source and a target sentence with one reference bead
    (an insertion/deletion bead must match exactly)."""
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
            tpl = sum(1 for b in hyp if _lax_hit(b, by_src, ref_set))
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


# ------------------------------------------------------------------ data sets


def load_ntrex() -> tuple[list[str], list[list[tuple[str, str, str]]]]:
    """Documents as lists of (en, be, ru) sentence triples."""
    d = DATA / "ntrex128"
    en = read_lines(d / "newstest2019-src.eng.txt")
    be = read_lines(d / "newstest2019-ref.bel.txt")
    ru = read_lines(d / "newstest2019-ref.rus.txt")
    ids = read_lines(d / "DOCUMENT_IDS.tsv")
    docs: dict[str, list] = {}
    for doc, e, b, r in zip(ids, en, be, ru):
        docs.setdefault(doc, []).append((e.strip(), b.strip(), r.strip()))
    return list(docs), list(docs.values())


def ntrex_tests(lang: str, seed: int = SEED, rates=RATES, repeat: int = 1):
    """(src, tgt, bridge=None, gold) per perturbed NTREX document."""
    rng = random.Random(f"{seed}-{lang}")
    col = {"be": 1, "ru": 2}[lang]
    _, docs = load_ntrex()
    out = []
    for _ in range(repeat):
        for doc in docs:
            units = [([t[0]], [t[col]], [""]) for t in doc]
            src, tgt, _, gold = perturb(units, rng, rates)
            out.append((src, tgt, None, gold))
    return out


def udhr_tests(lang: str):
    d = DATA / "udhr"
    en = read_lines(d / "udhr.paragraphs.eng.txt")
    tg = read_lines(d / {"be": "udhr.paragraphs.bel.txt", "ru": "udhr.paragraphs.rus.txt"}[lang])
    src, tgt, gold = [], [], []
    for e, t in zip(en, tg):
        es, ts = split_sentences(e, "en"), split_sentences(t.replace("\u02bc", "'"), lang)
        gold.append((tuple(range(len(src), len(src) + len(es))), tuple(range(len(tgt), len(tgt) + len(ts)))))
        src += es
        tgt += ts
    return [(src, tgt, None, gold)]


def _wmt_docs(src_path, ref_path, hyp_path, doc_ids, skip_first=False):
    src, ref = read_lines(src_path), read_lines(ref_path)
    hyp = read_lines(hyp_path) if hyp_path else None
    start = 1 if skip_first else 0
    docs: dict[str, list] = {}
    for k in range(start, len(src)):
        docs.setdefault(doc_ids[k], []).append((src[k].strip(), ref[k].strip(), hyp[k].strip() if hyp else ""))
    return list(docs.values())


def _segment_units(doc, lang):
    """Split every segment; bridge per English sentence via paragraph alignment."""
    units = []
    for e, r, h in doc:
        es, rs = split_sentences(e, "en"), split_sentences(r, lang)
        if not es and not rs:
            continue
        if h and es:
            bs = align_paragraph_translation(es, h, lang) if len(es) > 1 else [h]
        else:
            bs = [""] * len(es)
        units.append((es, rs, bs))
    return units


def wmt24_tests(system: str | None):
    d = DATA / "wmt24-en-ru"
    ids = [line.split("\t")[-1] for line in read_lines(d / "en-ru.docs")]
    hyp = d / "system-outputs" / f"{system}.ru" if system else None
    tests = []
    for doc in _wmt_docs(d / "en-ru.src.en", d / "en-ru.refA.ru", hyp, ids, skip_first=True):
        src, tgt, bridge, gold = [], [], [], []
        for es, rs, bs in _segment_units(doc, "ru"):
            gold.append((tuple(range(len(src), len(src) + len(es))), tuple(range(len(tgt), len(tgt) + len(rs)))))
            src += es; tgt += rs; bridge += bs
        tests.append((src, tgt, bridge if system else None, gold))
    return tests


def wmt22_tests(system: str | None, seed: int = SEED):
    d = DATA / "wmt22-en-ru"
    ids = [line.split("\t")[0] for line in read_lines(d / "generaltest2022.en-ru.docids.tsv")]
    hyp = d / "system-outputs" / f"generaltest2022.en-ru.hyp.{system}.ru" if system else None
    rng = random.Random(f"{seed}-wmt22")
    tests = []
    for doc in _wmt_docs(d / "generaltest2022.en-ru.src.en", d / "generaltest2022.en-ru.ref.A.ru", hyp, ids):
        units = _segment_units(doc, "ru")
        src, tgt, bridge, gold = perturb(units, rng, RATES)
        tests.append((src, tgt, bridge if system else None, gold))
    return tests


def run(tests, src_lang, tgt_lang, coarse=False, use_bridge=True):
    golds, preds = [], []
    t0 = time.perf_counter()
    n_sent = 0
    for src, tgt, bridge, gold in tests:
        beads = align(src, tgt, src_lang, tgt_lang, bridge=bridge if use_bridge else None)
        pred = beads_to_gold(beads)
        if coarse:
            pred = coarsen(pred, gold)
        golds.append(gold)
        preds.append(pred)
        n_sent += len(src)
    secs = time.perf_counter() - t0
    res = prf(golds, preds)
    if coarse:  # after coarsening, lax overlap is trivially satisfied: not reported
        for k in ("lax_p", "lax_r", "lax_f1"):
            res[k] = None
    res["sentences"] = n_sent
    res["sec_per_1k"] = 1000 * secs / max(n_sent, 1)
    return res


def long_document(lang: str, n_sentences: int, seed: int = SEED):
    """One long EN-<lang> document: perturbed NTREX documents (several perturbation
    rounds) concatenated until it has at least ``n_sentences`` source sentences."""
    src, tgt, gold = [], [], []
    for s, t, _, g in ntrex_tests(lang, seed=seed, repeat=1 + n_sentences // 1800):
        gold += [(tuple(i + len(src) for i in a), tuple(j + len(tgt) for j in b)) for a, b in g]
        src += s
        tgt += t
        if len(src) >= n_sentences:
            break
    return src, tgt, None, gold


def timing(lang: str, sizes=(1000, 10000), repeats: int = 3):
    out = {}
    for n in sizes:
        doc = long_document(lang, n)
        secs, cpu = [], []
        for _ in range(repeats if n <= 2000 else 2):
            t0, c0 = time.perf_counter(), time.process_time()
            beads = align(doc[0], doc[1], "en", lang)
            secs.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        res = prf([doc[3]], [beads_to_gold(beads)])
        out[n] = dict(sentences=len(doc[0]), wall_s=round(min(secs), 3), cpu_s=round(min(cpu), 3),
                      cpu_s_per_1k=round(1000 * min(cpu) / len(doc[0]), 3), strict_f1=round(res["strict_f1"], 4))
    return out


def confidence_check(tests, lang):
    """How well low confidence finds wrong beads (weak spots)."""
    rows = []
    for src, tgt, bridge, gold in tests:
        gs = set(gold)
        for b in align(src, tgt, "en", lang, bridge=bridge):
            rows.append((b.score, (b.src, b.tgt) in gs))
    rows.sort()
    wrong = sum(1 for _, ok in rows if not ok)
    low = rows[: max(1, len(rows) // 10)]
    below = [ok for s, ok in rows if s < 0.5]
    return dict(beads=len(rows), wrong=wrong,
                wrong_in_lowest_10pct=sum(1 for _, ok in low if not ok),
                below_0_5=len(below), wrong_below_0_5=sum(1 for ok in below if not ok))


def fmt_row(name, r):
    f = lambda x: "–" if x is None else f"{x:.4f}"  # noqa: E731
    return (f"| {name} | {r['sentences']} | {f(r['strict_p'])} | {f(r['strict_r'])} | **{f(r['strict_f1'])}** | "
            f"{f(r['lax_p'])} | {f(r['lax_r'])} | {f(r['lax_f1'])} | {r['sec_per_1k']:.2f} |")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="NTREX EN-BE and EN-RU only, no bridge (< 1 min)")
    ap.add_argument("--json", type=Path, help="also write all results as JSON here")
    args = ap.parse_args(argv)
    if not (DATA / "ntrex128").is_dir():
        sys.exit(f"no data at {DATA}: the benchmark reads ../shared/data next to the project")
    results: dict[str, dict] = {}
    for lang in ("be", "ru"):
        results[f"ntrex en-{lang}"] = run(ntrex_tests(lang), "en", lang)
    if not args.quick:
        results["ntrex en-be, bridge = NTREX ru reference (not MT)"] = run(ntrex_pivot_tests(), "en", "be")
        for lang in ("be", "ru"):
            results[f"udhr en-{lang}"] = run(udhr_tests(lang), "en", lang, coarse=True)
        results["wmt24 en-ru"] = run(wmt24_tests(None), "en", "ru", coarse=True)
        for system in ("Claude-3.5", "ONLINE-B", "TSU-HITs"):
            results[f"wmt24 en-ru + bridge {system}"] = run(wmt24_tests(system), "en", "ru", coarse=True)
        results["wmt22 en-ru (perturbed)"] = run(wmt22_tests(None), "en", "ru", coarse=True)
        for system in ("Online-W", "PROMT", "eTranslation"):
            results[f"wmt22 en-ru (perturbed) + bridge {system}"] = run(wmt22_tests(system), "en", "ru", coarse=True)
    print("| test set | src sentences | strict P | strict R | strict F1 | lax P | lax R | lax F1 | s / 1k sent. |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(fmt_row(name, r))
    extra = {}
    if not args.quick:
        for lang in ("be", "ru"):
            extra[f"timing en-{lang}"] = timing(lang)
            extra[f"confidence ntrex en-{lang}"] = confidence_check(ntrex_tests(lang), lang)
        for k, v in extra.items():
            print(f"{k}: {json.dumps(v)}")
    if args.json:
        args.json.write_text(json.dumps(dict(results=results, extra=extra), indent=1), encoding="utf-8")
    print(f"strict_f1_be={results['ntrex en-be']['strict_f1']:.4f} strict_f1_ru={results['ntrex en-ru']['strict_f1']:.4f}")


def ntrex_pivot_tests(seed: int = SEED):
    """EN-BE NTREX documents with the Russian human reference as bridge. Same
    perturbations as ``ntrex_tests('be')`` (same seed), the bridge follows the source."""
    rng = random.Random(f"{seed}-be")
    _, docs = load_ntrex()
    out = []
    for doc in docs:
        units = [([t[0]], [t[1]], [t[2]]) for t in doc]
        src, tgt, bridge, gold = perturb(units, rng, RATES)
        out.append((src, tgt, bridge, gold))
    return out


if __name__ == "__main__":
    main()
