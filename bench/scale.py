"""Scale: does a run cost time, memory and disk in proportion to its corpus? (issue #16)

Corpora of about 1k, 10k and 50k English sentences are built at run time from the English
sources in ``../shared/data`` (NTREX-128, WMT22 general test, WMT21/22 MQM sources; never
copied into the repository): documents of 30 one-sentence paragraphs, in a fixed shuffled
order. The pool holds about 4,000 distinct sentences; a sentence used again gets a short
English lead-in (``In update 3, ...``) so every segment is a new text for the translation
cache. Each corpus is translated into be and ru by the tests' tiny random Marian model
(``workflow.testing.tinymodels``: translation is cheap, everything else shows) with
``workflow run`` in a fresh subprocess; its wall time, CPU time and peak RSS come from
``os.wait4`` (the rusage of that one child), its per-stage times from ``run.json``
(``stage_seconds``), and the output bytes from ``aligned/``.

    .venv/bin/python bench/scale.py [--quick] [--sizes 1000,10000,50000] [--scorer checks|model]
                                    [--executor local|ray] [--ray ADDRESS] [--batch-size N]

``--quick``: 1k and 10k only (under 10 minutes on 2 cores with the checks' scorer). The
last line is ``time_ratio_10x=<x> rss_ratio_10x=<y> out_per_in=<z>`` (10k over 1k; output
bytes over corpus bytes, the largest corpus). ``--scorer model`` scores with the learned
weak-spot model (its encoder costs about 0.2 s per segment on 2 cores: use small sizes).
``--executor``: where translation and scoring run (``[scale] executor``); ``ray`` runs a
pool of two actors on a Ray each run starts, or on the cluster given by ``--ray ADDRESS``,
``--batch-size`` parts per actor call. For Ray, peak RSS is that of the largest single
process the run waited for (not the sum of the driver's and the actors'), and CPU time may
miss the actors' (they are the raylet's children): compare wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
DATA = ROOT.parent / "shared" / "data"
SENTENCES_PER_DOC = 30
EXECUTORS = ("local", "ray")


def english_pool() -> list[str]:
    """Distinct English sentences of the shared data, in a fixed order."""
    files = [DATA / "ntrex128" / "newstest2019-src.eng.txt", DATA / "wmt22-en-ru" / "generaltest2022.en-ru.src.en",
             DATA / "wmt-qe2022-en-ru-mqm" / "train2021-news" / "mqm_enru_updated.src",
             DATA / "wmt-qe2022-en-ru-mqm" / "dev2022" / "mqm_dev2022_enru.src"]
    lines = []
    for f in files:
        lines += [" ".join(line.split()) for line in f.read_text(encoding="utf-8-sig").splitlines()]
    return [s for s in dict.fromkeys(lines) if len(s) > 20 and s[-1:] in ".!?\"'”’)"]


def build_corpus(folder: Path, n: int, pool: list[str], seed: int = 16) -> int:
    """``n`` sentences in documents of SENTENCES_PER_DOC; returns the corpus bytes."""
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    order = list(range(len(pool)))
    sents: list[str] = []
    rounds = 0
    while len(sents) < n:
        rng.shuffle(order)
        for i in order[: n - len(sents)]:
            s = pool[i]
            sents.append(s if rounds == 0 else f"In update {rounds}, {s[0].lower()}{s[1:]}")
        rounds += 1
    size = 0
    for d in range(0, n, SENTENCES_PER_DOC):
        text = "\n\n".join(sents[d:d + SENTENCES_PER_DOC]) + "\n"
        (folder / f"report-{d // SENTENCES_PER_DOC:05d}.txt").write_text(text, encoding="utf-8")
        size += len(text.encode("utf-8"))
    return size


def tiny_model() -> Path:
    from conftest import RECIPES  # the tests' tiny model, built once into the shared disk cache

    from workflow.testing.cache import cached_model
    return cached_model(RECIPES["tiny_marian"])


def write_config(folder: Path, model: Path, corpus: Path, scorer: str, executor: str, address: str = "local",
                 batch_size: int = 1) -> Path:
    from conftest import write_config as tests_config

    # ray: a pool of two actors (one CPU each), on the cluster at ``address`` ("local": a Ray the run starts),
    # ``batch_size`` parts (of the tests' 16 sentences) per actor call
    top = (f'\n[scale]\nexecutor = "{executor}"\naddress = "{address}"\nconcurrency = 2\nbatch_size = {batch_size}\n'
           if executor != "local" else "")
    # formats=None: the project's default [outputs] formats (the tests' config writes every format)
    return tests_config(folder, be=model, ru=model, corpus=corpus, scorer=scorer, extra=top, formats=None)


def measure(cfg: Path) -> dict:
    """Run ``workflow run`` in a child process: wall, CPU, peak RSS of that child."""
    # Ray starts its workers at a niceness 15 above the driver's (its `worker_niceness`); on a
    # machine shared with other work that starves the actors, so here they run as the driver
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1", "RAY_worker_niceness": "0"}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "workflow.cli", "run", "--config", str(cfg)], cwd=cfg.parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"workflow run failed ({proc.returncode}):\n{err.decode(errors='replace')[-3000:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def bytes_by_kind(out: Path) -> dict[str, int]:
    """Output bytes per format: a folder of aligned/ (review, xliff, omegat, tmx) or a suffix."""
    kinds: dict[str, int] = {}
    for p in out.rglob("*"):
        if p.is_file():
            rel = p.relative_to(out)
            kind = rel.parts[0] if len(rel.parts) > 1 else (p.name if p.name in ("corpus.tmx", "segments.parquet")
                                                             else f"*{p.suffix}")
            kinds[kind] = kinds.get(kind, 0) + p.stat().st_size
    return dict(sorted(kinds.items(), key=lambda kv: -kv[1]))


def run_size(n: int, pool: list[str], model: Path, scorer: str, executor: str, keep: Path | None,
             address: str = "local", batch_size: int = 1) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"scale-{n}-", dir=keep) as tmp:
        tmp = Path(tmp)
        in_bytes = build_corpus(tmp / "corpus", n, pool)
        cfg = write_config(tmp, model, tmp / "corpus", scorer, executor, address, batch_size)
        res = measure(cfg)
        summary = json.loads((tmp / "aligned" / "run.json").read_text(encoding="utf-8"))
        out = tmp / "aligned"
        res.update(n=n, segments=summary["segments"], in_bytes=in_bytes, out_bytes=folder_bytes(out),
                   stages=summary.get("stage_seconds", {}), kinds=bytes_by_kind(out))
        if keep is not None:
            shutil.copytree(out, keep / f"aligned-{n}")
        return res


def report(results: list[dict], targets: int = 2) -> None:
    print(f"{'sentences':>9} {'segments':>8} {'wall s':>8} {'cpu s':>8} {'RSS MB':>8} {'in MB':>7} {'out MB':>8} "
          f"{'out/in':>6} {'ms/seg/target':>13}")
    for r in results:
        per = 1000 * r["wall_s"] / max(1, r["segments"] * targets)
        print(f"{r['n']:>9} {r['segments']:>8} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} {r['rss_mb']:>8.0f} "
              f"{r['in_bytes'] / 1e6:>7.2f} {r['out_bytes'] / 1e6:>8.1f} {r['out_bytes'] / r['in_bytes']:>6.1f} {per:>13.1f}")
    print("\noutput bytes per corpus byte, by format:")
    for r in results:
        print(f"{r['n']:>9} " + ", ".join(f"{k} {v / r['in_bytes']:.1f}" for k, v in r["kinds"].items()))
    stages = list(dict.fromkeys(k for r in results for k in r["stages"]))
    if stages:
        print("\nms per segment per target, by stage:")
        print(f"{'sentences':>9} " + " ".join(f"{s:>10}" for s in stages))
        for r in results:
            d = max(1, r["segments"] * targets)
            print(f"{r['n']:>9} " + " ".join(f"{1000 * r['stages'].get(s, 0) / d:>10.2f}" for s in stages))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1k and 10k sentences only")
    ap.add_argument("--sizes", default="1000,10000,50000", help="comma-separated sentence counts")
    ap.add_argument("--scorer", choices=("checks", "model"), default="checks")
    ap.add_argument("--executor", choices=EXECUTORS, default="local")
    ap.add_argument("--ray", metavar="ADDRESS", help='executor ray on this cluster ("auto", "ray://HOST:10001"); '
                                                      'default with --executor ray: "local", a Ray started by each run')
    ap.add_argument("--batch-size", type=int, default=1, help="ray: parts per actor call ([scale] batch_size)")
    ap.add_argument("--keep", type=Path, help="keep the corpora and outputs under this folder")
    args = ap.parse_args()
    if args.ray:
        args.executor = "ray"
    sizes = [1000, 10000] if args.quick else [int(x) for x in args.sizes.split(",")]
    pool = english_pool()
    model = tiny_model()
    print(f"pool: {len(pool)} distinct English sentences; model {model}; scorer {args.scorer}; "
          f"executor {args.executor}; {os.cpu_count()} CPUs", flush=True)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    results = []
    for n in sizes:
        results.append(run_size(n, pool, model, args.scorer, args.executor, args.keep, args.ray or "local", args.batch_size))
        r = results[-1]
        print(f"{n} sentences: {r['wall_s']:.1f} s wall, {r['rss_mb']:.0f} MB peak RSS, "
              f"{r['out_bytes'] / 1e6:.1f} MB out", flush=True)
    print()
    report(results)
    if len(results) > 1:
        by_n = {r["n"]: r for r in results}
        small = results[0]
        big = by_n.get(10 * small["n"], results[-1])  # the 10x pair when there is one
        largest = results[-1]
        print(f"\n{big['n']} over {small['n']} sentences: {big['segments'] / small['segments']:.1f}x the segments; "
              f"largest corpus {largest['n']}: peak RSS {largest['rss_mb']:.0f} MB")
        print(f"time_ratio_10x={big['wall_s'] / small['wall_s']:.2f} rss_ratio_10x={big['rss_mb'] / small['rss_mb']:.2f} "
              f"out_per_in={largest['out_bytes'] / largest['in_bytes']:.1f}")


if __name__ == "__main__":
    main()
