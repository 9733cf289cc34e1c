"""Translation speed: the workflow's CTranslate2 engine against raw CTranslate2 and
transformers, on random-weight models of the real shapes (see bench/README.md).

Contenders (same inputs, same 2 threads, output forced to exactly N tokens, greedy):
  a  naive transformers: generate() one sentence at a time (measured on a sample)
  b  transformers batched: 32 length-sorted sentences per generate() (on a sample)
  c  raw ctranslate2.Translator.translate_batch, int8, inter 2 x intra 1, pre-tokenised
     with sentencepiece (no workflow code, no transformers import); best of a few batch sizes
  d  the workflow, as ``workflow translate`` runs it: translate_cached() with a fresh store,
     CTranslate2 engine (compute type auto = int8, threads auto), model load included
  e  the same again on the filled store (fully cached: no model load)

Every contender runs in its own subprocess; its peak RSS is that process's VmHWM.
Throughput is sentences (and forced target tokens) per second of translation time; model
load times are reported separately, except for d and e which are timed end to end.

    python bench/translate.py            # full: transformer-big and base Marian shapes
    python bench/translate.py --quick    # small model, under a minute; last line = ratios
    BENCH_PROFILE=15 python bench/translate.py ...   # and d's 15 costliest functions (cProfile, tottime)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

THREADS = 2
SHAPES = {
    # opus-mt-tc-big-en-zle: transformer-big, vocabulary 61,017 (as in its sibling
    # opus-mt-tc-big-zle-en's config.json; the en-zle config was not retrievable offline)
    "big": dict(d_model=1024, layers=6, heads=16, ffn=4096, vocab_size_total=61017, targets=("bel", "rus")),
    # opus-mt-en-ru: transformer-base, vocabulary 62,518, single pair
    "base": dict(d_model=512, layers=6, heads=8, ffn=2048, vocab_size_total=62518, targets=()),
    # --quick: a small model of the same layout
    "small": dict(d_model=256, layers=3, heads=4, ffn=1024, vocab_size_total=8000, targets=("bel", "rus")),
}


def corpus_sentences() -> list[str]:
    lines = []
    for f in sorted((ROOT / "corpus").glob("*.txt")):
        lines.extend(x.strip() for x in f.read_text(encoding="utf-8").splitlines() if x.strip())
    return lines


def sentences(minimum: int) -> list[str]:
    """All lines of corpus/ split into sentences, repeated to at least ``minimum``."""
    from workflow.corpus.segment import split_sentences

    base = [s for line in corpus_sentences() for s in split_sentences(line, "en") if s.strip()]
    out = list(dict.fromkeys(base))
    copy = 1
    while len(out) < minimum:  # repeats are made unique: the workflow would translate a duplicate once
        copy += 1
        out.extend(f"{s} ({copy})" for s in base)
    return out


def build(shape: str) -> Path:
    folder = CACHE / f"model-{shape}"
    if (folder / ".complete").exists():
        return folder
    from workflow.testing.tinymodels import build_marian

    cyr = [x for lang in ("bel", "rus") for x in (ROOT / "tests" / "data" / f"tatoeba-sample.{lang}.txt").read_text(encoding="utf-8").splitlines()]
    build_marian(folder, corpus_sentences(), cyr, vocab_size=4000, **SHAPES[shape])
    (folder / ".complete").write_text("ok")
    return folder


def rss_peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- workers (one per process)


def worker(args) -> dict:
    texts = json.loads(Path(args.inputs).read_text(encoding="utf-8"))
    folder = Path(args.model)
    target = "be"
    n_tok = args.tokens
    multi = (folder / "vocab.json").exists() and '">>bel<<"' in (folder / "vocab.json").read_text(encoding="utf-8")[:200]
    src = [f">>bel<< {t}" if multi else t for t in texts]
    res: dict = {"sentences": len(texts)}
    if args.worker in ("a", "b"):
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        torch.set_num_threads(THREADS)
        t0 = time.perf_counter()
        tok = AutoTokenizer.from_pretrained(str(folder))
        net = AutoModelForSeq2SeqLM.from_pretrained(str(folder)).eval()
        res["load_s"] = time.perf_counter() - t0
        bs = 1 if args.worker == "a" else 32
        order = sorted(range(len(src)), key=lambda i: -len(src[i])) if bs > 1 else list(range(len(src)))
        out_tokens = 0
        t0 = time.perf_counter()
        with torch.inference_mode():
            for s in range(0, len(order), bs):
                batch = [src[i] for i in order[s : s + bs]]
                enc = tok(batch, return_tensors="pt", padding=True)
                seq = net.generate(**enc, num_beams=1, do_sample=False, min_new_tokens=n_tok, max_new_tokens=n_tok)
                tok.batch_decode(seq, skip_special_tokens=True)
                out_tokens += (seq.shape[1] - 1) * seq.shape[0]
        res["work_s"] = time.perf_counter() - t0
        res["target_tokens"] = out_tokens
    elif args.worker == "c":
        import ctranslate2
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_file=str(folder / "source.spm"))
        tokens = [([">>bel<<"] if multi else []) + sp.encode(t, out_type=str) + ["</s>"] for t in texts]
        t0 = time.perf_counter()
        tr = ctranslate2.Translator(args.ct2, device="cpu", compute_type="int8", inter_threads=2, intra_threads=1)
        res["load_s"] = time.perf_counter() - t0  # added to the best translate time below
        tr.translate_batch(tokens[:8], max_batch_size=8, beam_size=1, max_decoding_length=4)  # warm-up, not timed
        res["sweep"] = []
        for size, kind in json.loads(args.sweep):
            t0 = time.perf_counter()
            out = tr.translate_batch(tokens, max_batch_size=size, batch_type=kind, beam_size=1,
                                     min_decoding_length=n_tok, max_decoding_length=n_tok, return_scores=True)
            res["sweep"].append([size, kind, time.perf_counter() - t0])
        res["target_tokens"] = sum(len(x.hypotheses[0]) for x in out)
    elif args.worker in ("d", "e"):
        from workflow.core.config import load_config
        from workflow.core.store import Store
        from workflow.translation.cache import EnginePool, translate_cached
        from workflow.translation.engines.ctranslate2 import CT2Engine
        from workflow.translation.hub import resolve

        CT2Engine.fixed_output_tokens = n_tok  # bench only: every output exactly n_tok tokens
        loads = []

        class TimedPool(EnginePool):
            def get(self, model, decoding=None):
                t = time.perf_counter()
                engine = super().get(model, decoding)
                loads.append(time.perf_counter() - t)
                return engine

        cfg = load_config(args.config)
        t0 = time.perf_counter()
        model = resolve(cfg.model_for(target))
        res["resolve_s"] = time.perf_counter() - t0  # a local folder is fingerprinted (hashed) here
        profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
        with Store(cfg.resolve(cfg.store)) as store:
            pool = TimedPool(cfg.translation)
            if profile:
                profile.enable()
            out = translate_cached(texts, target, model, store, pool)
            if profile:
                profile.disable()
        res["work_s"] = time.perf_counter() - t0  # end to end, model load included
        if profile:
            text = io.StringIO()
            pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(int(os.environ["BENCH_PROFILE"]))
            res["profile"] = text.getvalue()
        res["load_s"] = sum(loads)  # of which: model load (tokenizer, transformers import, ct2 model)
        res["models_loaded"] = pool.loads
        res["cached"] = sum(out.cached)
        res["target_tokens"] = n_tok * len(texts)  # forced length (n_tokens also counts a forced </s>)
        if pool.engines:
            eng = next(iter(pool.engines.values()))
            res["settings"] = f"{eng.compute_type}, inter {eng.inter_threads} x intra {eng.intra_threads}, batches of {eng.batching[1]} {eng.batching[0]}"
    res["rss_mb"] = rss_peak_mb()
    return res


def run_worker(name: str, **kw) -> dict:
    cmd = [sys.executable, __file__, "--worker", name] + [f"--{k.replace('_', '-')}={v}" for k, v in kw.items()]
    env = {**os.environ, "OMP_NUM_THREADS": str(THREADS)}
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"contender {name} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- driver


def bench_shape(shape: str, n_sent: int, n_tok: int, naive_n: int, batched_n: int, sweep, rounds: int = 1,
                contenders: str = "abe", engine_settings: str = "", decoding_settings: str = "") -> dict:
    import tempfile

    from workflow.core.config import ModelRef, load_config
    from workflow.translation.engines.ctranslate2 import ensure_converted
    from workflow.translation.hub import resolve

    t0 = time.perf_counter()
    folder = build(shape)
    build_s = time.perf_counter() - t0
    texts = sentences(n_sent)
    work = Path(tempfile.mkdtemp(prefix=f"bench-{shape}-", dir=CACHE))
    cfg_path = work / "config.toml"
    cfg_path.write_text(
        f'store = "{work / "store.sqlite"}"\ntargets = ["be"]\nengine = "ctranslate2"\n'
        f'[models]\nbe = "{folder}"\nru = "{folder}"\n[decoding]\nbeam_size = 1\n{decoding_settings}\n'
        f'[ctranslate2]\ncache_dir = "{CACHE / "ct2"}"\n{engine_settings}\n',
        encoding="utf-8",
    )
    cfg = load_config(cfg_path)
    t0 = time.perf_counter()
    ct2_dir = ensure_converted(resolve(ModelRef(str(folder))), CACHE / "ct2", "int8")  # the engine's own cache
    convert_s = time.perf_counter() - t0

    def inputs(n):
        p = work / f"in-{n}.json"
        p.write_text(json.dumps(texts[:n], ensure_ascii=False), encoding="utf-8")
        return p

    common = dict(model=folder, tokens=n_tok)
    rows = {}
    if "a" in contenders:
        rows["a"] = run_worker("a", inputs=inputs(naive_n), **common)
    if "b" in contenders:
        rows["b"] = run_worker("b", inputs=inputs(batched_n), **common)
    # c and d alternate (the machine is shared: the load changes over minutes); each keeps its
    # best round, c per setting (the order rotated each round, so no setting is always first)
    best: dict[tuple, float] = {}
    for r in range(rounds):
        order = sweep[r % len(sweep):] + sweep[: r % len(sweep)]
        c = run_worker("c", inputs=inputs(len(texts)), ct2=ct2_dir, sweep=json.dumps(order), **common)
        for size, kind, dt in c["sweep"]:
            best[(size, kind)] = min(dt, best.get((size, kind), dt))
        c["sweep"] = [[size, kind, round(len(texts) / best[(size, kind)], 2)] for size, kind in map(tuple, sweep)]
        setting = min(best, key=best.get)
        c["settings"] = f"max_batch_size={setting[0]} batch_type={setting[1]}"
        c["work_s"] = best[setting] + c["load_s"]  # like d: load + translate
        rows["c"] = c
        cfg_r = work / f"config-{r}.toml"  # a fresh store for every round
        cfg_r.write_text(cfg_path.read_text(encoding="utf-8").replace("store.sqlite", f"store-{r}.sqlite"), encoding="utf-8")
        d = run_worker("d", inputs=inputs(len(texts)), config=cfg_r, **common)
        if "d" not in rows or d["work_s"] < rows["d"]["work_s"]:
            rows["d"], d_cfg = d, cfg_r
    if "e" in contenders:
        rows["e"] = run_worker("e", inputs=inputs(len(texts)), config=d_cfg, **common)
    for r in rows.values():
        r["sent_s"] = r["sentences"] / r["work_s"]
        r["tok_s"] = r["target_tokens"] / r["work_s"]
    # d and c without their model loads (translation throughput only)
    rows["d"]["sent_s_noload"] = rows["d"]["sentences"] / (rows["d"]["work_s"] - rows["d"]["load_s"])
    rows["c"]["sent_s_noload"] = rows["c"]["sentences"] / (rows["c"]["work_s"] - rows["c"]["load_s"])
    return {"shape": shape, "params": SHAPES[shape], "sentences": len(texts), "tokens": n_tok,
            "build_s": build_s, "convert_s": convert_s, "rows": rows, "cfg": str(cfg.ctranslate2)}


LABELS = {
    "a": "a. transformers, one sentence at a time",
    "b": "b. transformers, batch 32",
    "c": "c. raw ctranslate2 translate_batch",
    "d": "d. workflow translate (ct2 engine)",
    "e": "e. workflow translate, fully cached",
}


def table(result: dict) -> str:
    rows = result["rows"]
    lines = [f"### {result['shape']}: d_model {result['params']['d_model']}, {result['params']['layers']}+{result['params']['layers']} layers, "
             f"FFN {result['params']['ffn']}, vocab {result['params']['vocab_size_total']:,}; "
             f"{result['sentences']} sentences, output forced to {result['tokens']} tokens, greedy",
             "", "| contender | sentences | sent/s | target tok/s | of which load s | peak RSS MB | notes |", "|---|---|---|---|---|---|---|"]
    for k, r in rows.items():
        note = r.get("settings", "")
        if k in ("d", "e"):
            note += f"; includes {r['resolve_s']:.1f} s resolving the local model folder (content hash)"
        if k == "e":
            note = f"models loaded: {r['models_loaded']}, cached {r['cached']}/{r['sentences']}" + note
        if k in ("a", "b"):
            note = "load not in sent/s"
        if k in ("c", "d"):
            note += "; sent/s includes model load"
        lines.append(f"| {LABELS[k]} | {r['sentences']} | {r['sent_s']:.2f} | {r['tok_s']:.0f} | {r['load_s']:.1f} | {r['rss_mb']:.0f} | {note} |")
    rr = ratios(rows)
    e_nores = rows["e"]["sentences"] / max(1e-9, rows["e"]["work_s"] - rows["e"]["resolve_s"]) if "e" in rows else float("nan")
    lines += ["", f"Ratios (sentences/s): d/c = {rr['dc']:.2f} (target >= 0.9; {rr['dc_noload']:.2f} without either model load), d/a = {rr['da']:.1f} (>= 30), "
              f"d/b = {rr['db']:.1f} (>= 4), e/d = {rr['ed']:.0f} (>= 50; {e_nores / rows['d']['sent_s']:.0f} without hashing the local model folder); "
              f"peak RSS d/c = {rr['mem']:.2f} (<= 1.2).",
              f"Model build {result['build_s']:.0f} s (once), conversion to ct2 int8 {result['convert_s']:.1f} s (once, cached)."]
    if "sweep" in rows["c"]:
        lines.append("Raw ct2 sweep (max_batch_size, batch_type, sent/s): " + ", ".join(f"{a} {b} {c}" for a, b, c in rows["c"]["sweep"]))
    return "\n".join(lines)


def ratios(rows) -> dict:
    s = {k: rows[k]["sent_s"] if k in rows else float("nan") for k in "abcde"}  # --contenders may leave out a, b, e
    return {"dc": s["d"] / s["c"], "dc_noload": rows["d"]["sent_s_noload"] / rows["c"]["sent_s_noload"], "da": s["d"] / s["a"], "db": s["d"] / s["b"], "ed": s["e"] / s["d"],
            "mem": rows["d"]["rss_mb"] / rows["c"]["rss_mb"]}


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import ctranslate2
    import torch
    import transformers

    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__}, "
            f"transformers {transformers.__version__}, ctranslate2 {ctranslate2.__version__}, {THREADS} threads per contender")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small model, 64 sentences, under a minute")
    ap.add_argument("--shapes", default="big,base")
    ap.add_argument("--sentences", type=int, default=500)
    ap.add_argument("--tokens", type=int, default=40)
    ap.add_argument("--naive", type=int, default=16, help="sentences for contender a (a sample: it is slow)")
    ap.add_argument("--batched", type=int, default=96, help="sentences for contender b")
    ap.add_argument("--json", type=Path, help="also write the results here")
    # worker mode
    ap.add_argument("--worker")
    ap.add_argument("--inputs")
    ap.add_argument("--model")
    ap.add_argument("--ct2")
    ap.add_argument("--config")
    ap.add_argument("--sweep", default="[[32, \"examples\"]]")
    ap.add_argument("--rounds", type=int, default=1,
                    help="c and d alternate this many times (c's settings in a rotated order, d on a fresh store); best of each")
    ap.add_argument("--contenders", default="abe", help="which of a, b, e to run besides c and d")
    ap.add_argument("--engine-settings", default="", help='d: more [ctranslate2] lines, e.g. \'batch_type = "tokens"\' (default: auto)')
    ap.add_argument("--decoding-settings", default="", help="d: more [decoding] lines, e.g. 'chunk = 1024'")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    if args.quick:
        shapes, n, tok, naive, batched = ["small"], 64, 16, 8, 64
        sweep = [[32, "examples"]]
    else:
        shapes, n, tok, naive, batched = args.shapes.split(","), args.sentences, args.tokens, args.naive, args.batched
        sweep = [[16, "examples"], [32, "examples"], [64, "examples"], [1024, "tokens"], [2048, "tokens"], [4096, "tokens"]]
    print(machine(), flush=True)
    results = []
    for shape in shapes:
        res = bench_shape(shape, n, tok, naive, batched, sweep, args.rounds, args.contenders, args.engine_settings.replace("\\n", "\n"),
                          args.decoding_settings.replace("\\n", "\n"))
        results.append(res)
        print(table(res), "\n", flush=True)
        if res["rows"]["d"].get("profile"):
            print(f"profile of d ({shape}):\n{res['rows']['d']['profile']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "results": results}, indent=1, default=str), encoding="utf-8")
    rr = ratios(results[0]["rows"])
    print(f"ratio_workflow_vs_raw_ct2={rr['dc']:.2f} ratio_workflow_vs_naive_hf={rr['da']:.1f} ratio_workflow_vs_batched_hf={rr['db']:.1f}")


if __name__ == "__main__":
    main()
