"""Belarusian checks on real data (bench for issue #17): Russian leakage, the two
orthographies, the BE<->RU cross-check, the inflection-aware glossary.

Reads ``../shared/data/ntrex128`` (NTREX-128, CC BY-SA 4.0: 1,997 news sentences, human
EN/BE/RU, document ids); nothing is vendored.

**Split by document** (fixed): NTREX's 123 documents in file order (DOCUMENT_IDS.tsv),
alternating: the 1st, 3rd, 5th ... document form the **tuning** half (the only data the
checks' rules and thresholds may be tuned on), the 2nd, 4th ... the **held-out** half
(what the figures are). Every measure below is reported per half, held-out first.

- **clean**: the human Belarusian and Russian of NTREX, each document one batch (the
  cross-check compares the two references): the share of segments each new check fails
  (every failure flags the segment: the checks are not features of the learned model).
- **leakage**: in each sampled Belarusian sentence, ``--words`` Belarusian words are
  replaced by Russian words of the aligned NTREX Russian sentence (Russian words that are
  not in the Belarusian NTREX vocabulary, so they are not also Belarusian). Per word:
  precision (blamed words that were injected) and recall (injected words blamed), for the
  ``leakage`` check and for it together with the letter tells of the ``language`` check.
- **orthography**: every fifth segment of each document converted to the classical norm by
  belorthography (soft-sign assimilation and «зь»); per segment precision/recall of the
  ``orthography`` check with ``be_orthography`` "any" (mixed use) and "official".
- **cross**: three-way EN/BE/RU; into one target of each sampled segment (alternating)
  one fault is injected: an omission (the longest clause, or the last 40% of the words,
  removed), a changed number, or a name swapped for a name of another sentence. Per
  (segment, target): precision and recall of the ``crosscheck`` failures over the
  injected segments' two targets and as many clean segments.
- **latin** (``--latin-pair FILE``): agreement of the Łacinka converters with a human or
  publisher's Łacinka text: FILE is a TSV of paragraphs, Cyrillic<TAB>Łacinka (``#`` lines
  are comments); per converter, paragraphs exactly right (whitespace runs made one space)
  and the character error rate (Levenshtein distance / reference length, rapidfuzz).
  The texts found (bench/README.md cites them) are not freely licensed, so no FILE is
  vendored.
- **glossary**: ``corpus/glossary.toml`` names whose English is in an NTREX source: share
  found in the BE/RU reference by exact form, by the stem rule, by lemmas, by both; and
  how often each rule matches a name in a reference whose English does not have it.

    python bench/belarusian.py            # both halves of NTREX (--latin-pair FILE adds the Łacinka measure)
    python bench/belarusian.py --quick    # 300 held-out segments; last line:
        # leak_precision=<p> leak_recall=<r> clean_flag_rate=<c> cross_precision=<a> cross_recall=<b>
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

from belorthography import Orthography, convert
from rapidfuzz.distance import Levenshtein

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workflow.core.config import Checks  # noqa: E402
from workflow.core.text import is_cyrillic, words  # noqa: E402
from workflow.outputs.latin import to_latin  # noqa: E402
from workflow.scoring.belarusian import apertium  # noqa: E402
from workflow.scoring.checks import REGISTRY, CheckInput, load_glossary, run_checks  # noqa: E402
from workflow.scoring.checks.names import form_pattern  # noqa: E402
from workflow.scoring.checks.lemmas import common_word  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "ntrex128"
NEW = [name for name, c in REGISTRY.items() if not c.in_model]  # the Belarusian checks of issue #17
NUMBER = re.compile(r"\d+")


def load() -> tuple[list[str], list[str], list[str], list[str]]:
    def lines(name: str) -> list[str]:
        return (DATA / name).read_text(encoding="utf-8-sig").replace("\r\n", "\n").rstrip("\n").split("\n")

    en, be, ru = lines("newstest2019-src.eng.txt"), lines("newstest2019-ref.bel.txt"), lines("newstest2019-ref.rus.txt")
    docs = lines("DOCUMENT_IDS.tsv")
    assert len(en) == len(be) == len(ru) == len(docs), "NTREX files differ in length"
    return en, be, ru, [d.split("\t")[0] for d in docs]


def split(docs: list[str]) -> dict[str, list[int]]:
    """{"held-out": [...], "tuning": [...]}: segment indices by alternating documents in file order."""
    order = {d: n for n, d in enumerate(dict.fromkeys(docs))}
    halves: dict[str, list[int]] = {"held-out": [], "tuning": []}
    for i, d in enumerate(docs):
        halves["tuning" if order[d] % 2 == 0 else "held-out"].append(i)
    return halves


def seg_ids(docs: list[str], idx: list[int]) -> list[str]:
    return [f"{docs[i]}:p1:s{i}" for i in idx]


def score(idx, en, be, ru, docs, settings=None):
    """{target: [SegmentScore]} for segments ``idx`` (texts given per index)."""
    settings = settings or Checks()
    ids = seg_ids(docs, idx)
    out = {}
    for target, mine, theirs in (("be", be, ru), ("ru", ru, be)):
        other = "ru" if target == "be" else "be"
        inputs = [CheckInput(s, en[i], mine[i], other={other: theirs[i]}) for s, i in zip(ids, idx)]
        out[target] = run_checks(inputs, target, settings)
    return out


def failed(res, check: str) -> bool:
    return any(f.check == check and not f.accepted for f in res.findings)


def clean(idx, en, be, ru, docs) -> dict:
    res = score(idx, en, be, ru, docs)
    rates = {}
    for target in ("be", "ru"):
        for check in NEW:
            if REGISTRY[check].languages is None or target in REGISTRY[check].languages:
                rates[f"{check}/{target}"] = sum(failed(r, check) for r in res[target]) / len(idx)
        rates[f"any/{target}"] = sum(any(failed(r, c) for c in NEW) for r in res[target]) / len(idx)
    examples = [(target, r.seg_id, [s for s in r.spans if s[2].split(":")[0] in NEW][:3])
                for target in ("be", "ru") for r in res[target] if any(failed(r, c) for c in NEW)]
    return {"rates": rates, "examples": examples, "flag_rate": (rates["any/be"] + rates["any/ru"]) / 2}


def inject_russian(be: str, ru: str, be_vocab: set[str], k: int, rng: random.Random):
    """``be`` with up to ``k`` lower-case words replaced by Russian-only words of ``ru``;
    (text, injected spans)."""
    cands = [w for _, _, w in words(ru) if w.islower() and len(w) >= 3 and w not in be_vocab]
    slots = [(s, e) for s, e, w in words(be) if w.islower() and len(w) >= 3]
    if not cands or not slots:
        return be, []
    picks = sorted(rng.sample(slots, min(k, len(slots))))
    out, spans, pos = [], [], 0
    for s, e in picks:
        word = rng.choice(cands)
        out.append(be[pos:s])
        start = sum(len(x) for x in out)
        out.append(word)
        spans.append((start, start + len(word)))
        pos = e
    out.append(be[pos:])
    return "".join(out), spans


def leakage(idx, en, be, ru, docs, k: int, rng: random.Random) -> dict:
    be_vocab = {w.lower() for t in be for _, _, w in words(t)}
    texts, injected = {}, {}
    for i in idx:
        texts[i], injected[i] = inject_russian(be[i], ru[i], be_vocab, k, rng)
    inputs = [CheckInput(s, en[i], texts[i]) for s, i in zip(seg_ids(docs, idx), idx)]
    res = run_checks(inputs, "be", Checks())
    out = {}
    for name, checks in (("leakage", {"leakage"}), ("leakage+language", {"leakage", "language"})):
        tp = fp = found = total = 0
        for i, r in zip(idx, res):
            blamed = {(s.start, s.end) for f in r.findings if f.check in checks and not f.accepted for s in f.spans
                      if s.end - s.start < len(texts[i])}  # a whole-text span (lingua) blames no word
            inj = set(injected[i])
            tp += len(blamed & inj)
            fp += len(blamed - inj)
            found += len(inj & blamed)
            total += len(inj)
        out[name] = (tp / max(1, tp + fp), found / max(1, total), tp, fp, total)
    return out


def orthography(idx, en, be, docs) -> dict:
    """Every fifth segment of each document converted to the classical norm by belorthography
    (soft-sign assimilation and «зь»: what it converts); per segment, the ``orthography``
    check's precision and recall with ``be_orthography = "any"`` (mixed use in a document)
    and ``"official"``."""
    mixed = {i: (convert(be[i], Orthography.OFFICIAL, Orthography.CLASSICAL) if n % 5 == 4 else be[i])
             for n, i in enumerate(idx)}
    changed = {i for i in idx if mixed[i] != be[i]}
    ids = seg_ids(docs, idx)
    out = {}
    for norm in ("any", "official"):
        settings = Checks(params={"orthography": {"be_orthography": norm}})
        res = run_checks([CheckInput(s, en[i], mixed[i]) for s, i in zip(ids, idx)], "be", settings)
        hit = {i for i, r in zip(idx, res) if failed(r, "orthography")}
        out[norm] = (len(hit & changed) / max(1, len(hit)), len(hit & changed) / max(1, len(changed)), len(changed))
    return out


def _omit(text: str, rng: random.Random) -> str | None:
    parts = re.split(r"(?<=[,;:—–])\s+", text)
    if len(parts) >= 2:
        j = max(range(len(parts)), key=lambda x: len(parts[x]))
        if len(parts[j]) < 0.7 * len(text):
            return " ".join(p for x, p in enumerate(parts) if x != j)
    ws = text.split()
    if len(ws) < 6:
        return None
    cut = max(1, round(len(ws) * 0.6))
    return " ".join(ws[:cut]) + "."


def _change_number(text: str, rng: random.Random) -> str | None:
    ms = list(NUMBER.finditer(text))
    if not ms:
        return None
    m = rng.choice(ms)
    return text[:m.start()] + str(int(m.group()) + rng.choice([1, 2, 10])) + text[m.end():]


def _swap_name(text: str, names: set[str], rng: random.Random) -> str | None:
    ws = [(s, e, w) for s, e, w in words(text) if w in names]
    if not ws:
        return None
    s, e, w = rng.choice(ws)
    new = rng.choice(sorted(n for n in names if n[:2] != w[:2]))
    return text[:s] + new + text[e:]


def cross(idx, en, be, ru, docs, rng: random.Random) -> dict:
    # names: capitalised words inside a sentence that hunspell does not know in lower case (not Вярхоўны, Штаты)
    names = {t: sorted({w for text in texts for s, e, w in words(text)
                        if w[0].isupper() and s > 0 and len(w) > 4 and is_cyrillic(w) and not common_word(w, t)})
             for t, texts in (("be", be), ("ru", ru))}
    be2, ru2 = list(be), list(ru)
    injected: dict[int, tuple[str, str]] = {}
    kinds = ("omission", "number", "name")
    for n, i in enumerate(idx[: len(idx) // 2]):
        target = "be" if n % 2 == 0 else "ru"
        texts = be2 if target == "be" else ru2
        for kind in kinds[n % 3:] + kinds[:n % 3]:  # first the kind in turn, else the next that applies
            new = {"omission": lambda: _omit(texts[i], rng), "number": lambda: _change_number(texts[i], rng),
                   "name": lambda: _swap_name(texts[i], set(names[target]), rng)}[kind]()
            if new and new != texts[i]:
                texts[i] = new
                injected[i] = (target, kind)
                break
    res = score(idx, en, be2, ru2, docs)
    tp = fp = 0
    false: list = []
    by_kind: Counter = Counter()
    kind_total: Counter = Counter(k for _, k in injected.values())
    for target in ("be", "ru"):
        for i, r in zip(idx, res[target]):
            hit = failed(r, "crosscheck")
            truth = injected.get(i, (None,))[0] == target
            if hit and truth:
                tp += 1
                by_kind[injected[i][1]] += 1
            elif hit:
                fp += 1
                false.append((target, r.seg_id, [sp for sp in r.spans if sp[2].startswith("crosscheck")][:2]))
    total = len(injected)
    return {"precision": tp / max(1, tp + fp), "recall": tp / max(1, total), "tp": tp, "fp": fp, "total": total,
            "by_kind": {k: (by_kind[k], kind_total[k]) for k in kind_total}, "false": false}


def glossary(en, be, ru) -> dict:
    g = load_glossary(str(ROOT / "corpus" / "glossary.toml"))
    out = {}
    for lang, refs in (("be", be), ("ru", ru)):
        counts: Counter = Counter()
        for src, ref in zip(en, refs):
            here = set(g.in_source(src))
            for i, t in enumerate(g.terms):  # matched where the English does not have the name
                if i not in here and t.forms.get(lang):
                    counts["false stem"] += any(form_pattern(f).search(ref) for f in t.forms[lang])
                    counts["false lemma"] += g.lemma_match(i, lang, ref)
            for i in here:
                forms = g.terms[i].forms.get(lang, ())
                if not forms:
                    continue
                counts["total"] += 1
                exact = any(re.search(r"(?<!\w)" + re.escape(f) + r"(?!\w)", ref, re.I) for f in forms)
                stem = any(form_pattern(f).search(ref) for f in forms)
                lemma = g.lemma_match(i, lang, ref)
                counts["exact"] += exact
                counts["stem"] += stem
                counts["lemma"] += lemma
                counts["stem+lemma"] += stem or lemma
        out[lang] = counts
    return out


def measure(name: str, idx, en, be, ru, docs, args, rng: random.Random) -> dict:
    """Every measure on the segments ``idx`` of one half, printed under ``name``."""
    t0 = time.time()
    c = clean(idx, en, be, ru, docs)
    print(f"[{name}] clean NTREX ({len(idx)} segments per target, {time.time() - t0:.1f} s): share failing")
    for k, v in c["rates"].items():
        print(f"  {k:16s} {v:.3f}")
    for target, sid, spans in c["examples"][: args.examples]:
        print(f"  e.g. {target} {sid}: {spans}")
    leak = leakage(idx, en, be, ru, docs, args.words, rng)
    print(f"[{name}] leakage, {args.words} Russian words injected per Belarusian sentence (per word):")
    for label, (p, r, tp, fp, total) in leak.items():
        print(f"  {label:18s} precision {p:.3f} recall {r:.3f} (tp {tp}, fp {fp}, injected {total})")
    for norm, (p, r, n_changed) in orthography(idx, en, be, docs).items():
        print(f"[{name}] orthography ({norm}), every fifth segment made classical by belorthography "
              f"({n_changed} changed): precision {p:.3f} recall {r:.3f}")
    t0 = time.time()
    x = cross(idx, en, be, ru, docs, rng)
    print(f"[{name}] cross-check, one fault in one target of {x['total']} segments ({time.time() - t0:.1f} s): "
          f"precision {x['precision']:.3f} recall {x['recall']:.3f} (tp {x['tp']}, fp {x['fp']})")
    for k, (hit, tot) in sorted(x["by_kind"].items()):
        print(f"  {k:9s} recall {hit / max(1, tot):.3f} ({hit}/{tot})")
    for target, sid, spans in x["false"][: args.examples]:
        print(f"  false flag {target} {sid}: {spans}")
    return {"clean": c, "leak": leak, "cross": x}


def converters() -> dict:
    """The Łacinka converters to compare: the one the outputs use (belorthography, official
    Cyrillic in), belorthography taking the text as classical, and latynkatar when installed
    (``pip install -e '.[bench]'``)."""
    out = {"belorthography (outputs.latin)": to_latin,
           "belorthography, classical in": lambda t: convert(t, Orthography.CLASSICAL, Orthography.LATIN)}
    try:
        import latynkatar  # optional: only this comparison needs it
    except ImportError:
        print("note: latynkatar not installed; `pip install -e '.[bench]'` adds it to the comparison")
    else:
        def _latynkatar(text: str) -> str:
            with warnings.catch_warnings():  # its convert() warns that it is deprecated
                warnings.simplefilter("ignore", DeprecationWarning)
                return latynkatar.convert(text)
        out["latynkatar"] = _latynkatar
    return out


def latin(paths: list[str]) -> dict:
    """{converter: (paragraphs exactly right, paragraphs, character error rate)} over the
    Cyrillic/Łacinka paragraph pairs of ``paths``."""
    pairs = []
    for path in paths:
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() and not line.startswith("#"):
                parts = line.split("\t")
                if len(parts) != 2:
                    raise SystemExit(f"{path}:{n}: expected Cyrillic<TAB>Łacinka, got {len(parts)} fields")
                pairs.append(tuple(" ".join(p.split()) for p in parts))
    out = {}
    for name, fn in converters().items():
        got = [" ".join(fn(cyr).split()) for cyr, _ in pairs]
        exact = sum(g == lat for g, (_, lat) in zip(got, pairs))
        errors = sum(Levenshtein.distance(g, lat) for g, (_, lat) in zip(got, pairs))
        out[name] = (exact, len(pairs), errors / max(1, sum(len(lat) for _, lat in pairs)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="300 held-out segments (last line: the five figures)")
    ap.add_argument("--n", type=int, default=None, help="segments to sample per half (default: all, 300 with --quick)")
    ap.add_argument("--half", choices=("held-out", "tuning", "both"), default=None,
                    help="which half of the document split (default: both, held-out with --quick)")
    ap.add_argument("--words", type=int, default=2, help="Russian words injected per Belarusian sentence")
    ap.add_argument("--examples", type=int, default=8, help="false flags to print per half")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--latin-pair", action="append", default=[], metavar="FILE",
                    help="TSV of Cyrillic<TAB>Łacinka paragraphs: measure the converters on it (repeatable)")
    ap.add_argument("--latin-only", action="store_true", help="only the --latin-pair measure")
    args = ap.parse_args()
    if args.latin_pair:
        for name, (exact, total, cer) in latin(args.latin_pair).items():
            print(f"latin {name:32s} {exact}/{total} paragraphs exactly right, character error rate {cer:.4f}")
        if args.latin_only:
            return 0
    why = apertium.available("bel-rus") or apertium.available("rus-bel")
    if why:
        print(f"note: {why}; the cross-check is skipped (cross figures are 0)")
    en, be, ru, docs = load()
    halves = split(docs)
    which = args.half or ("held-out" if args.quick else "both")
    results = {}
    for name in ("held-out", "tuning"):
        if which not in (name, "both"):
            continue
        rng = random.Random(args.seed)
        pool = halves[name]
        n = args.n or (300 if args.quick else len(pool))
        idx = sorted(rng.sample(pool, min(n, len(pool))))
        results[name] = measure(name, idx, en, be, ru, docs, args, rng)
    if not args.quick:
        gl = glossary(en, be, ru)
        for lang, cnt in gl.items():
            tot = max(1, cnt["total"])
            print(f"glossary {lang}: {cnt['total']} names in the sources; found by "
                  + ", ".join(f"{k} {cnt[k] / tot:.3f}" for k in ("exact", "stem", "lemma", "stem+lemma"))
                  + f"; matched where the English lacks the name: stem {cnt['false stem']}, lemma {cnt['false lemma']}")
    r = results.get("held-out") or next(iter(results.values()))
    lp, lr = r["leak"]["leakage"][0], r["leak"]["leakage"][1]
    print(f"leak_precision={lp:.3f} leak_recall={lr:.3f} clean_flag_rate={r['clean']['flag_rate']:.3f} "
          f"cross_precision={r['cross']['precision']:.3f} cross_recall={r['cross']['recall']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
