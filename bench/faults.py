"""Slow fault injection: kill real `workflow run` processes at chosen points, rerun, and
check the outputs equal an uninterrupted run's and that aligned/ never holds a
half-written file.

    .venv/bin/python bench/faults.py [--quick] [--model DIR]

The child is the real CLI (`workflow.cli.app.main(["run", ...])`) with test hooks installed
by this script only (no hooks in the package): at each point it prints
``FAULT-POINT <name>`` to stderr and pauses 1 s, and the parent sends SIGKILL or SIGINT.
Points: load (model loading), translate (after the first committed chunk), score (before
scoring), write (after the first output file was replaced). Without --model a tiny
random model is built (workflow/tinymodels.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

CHILD = r"""
import sys, time
def point(name):
    sys.stderr.write(f"FAULT-POINT {name}\n"); sys.stderr.flush(); time.sleep(1.0)
import workflow.translation.cache as cached, workflow.pipeline as pipeline, workflow.outputs.publish as export, workflow.core.store as store
real_load, real_put, real_rows, real_write = cached.load_engine, store.Store.put_translations, pipeline.score_rows, export.write_atomic
def load_engine(*a, **k):
    point("load"); return real_load(*a, **k)
done = {"put": 0, "write": 0}
def put(self, *a, **k):
    r = real_put(self, *a, **k); done["put"] += 1
    if done["put"] == 1: point("translate")
    return r
def rows(*a, **k):
    point("score"); return real_rows(*a, **k)
def write(*a, **k):
    r = real_write(*a, **k); done["write"] += 1
    if done["write"] == 1: point("write")
    return r
cached.load_engine, store.Store.put_translations, pipeline.score_rows, export.write_atomic = load_engine, put, rows, write
from workflow.cli.app import main
main(["run", "--config", sys.argv[1]])
"""


def outputs(folder: Path) -> dict[str, object]:
    import polars as pl

    out = folder / "aligned"
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp")]
    assert not leftovers, f"half-written files left: {leftovers}"
    res: dict[str, object] = {"segments.parquet": pl.read_parquet(out / "segments.parquet").drop("cached").sort(["seg_id", "target"])}
    for p in sorted(out.glob("*.tsv")):
        res[p.name] = p.read_text(encoding="utf-8")
    return res


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k].equals(b[k]) if k.endswith(".parquet") else a[k] == b[k] for k in a)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="two documents, SIGKILL only")
    ap.add_argument("--model", type=Path)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    from conftest import CORPUS, corpus_lines, cyrillic_lines, write_config
    from workflow.core.config import load_config
    from workflow.pipeline import run

    work = Path(tempfile.mkdtemp(prefix="faults-"))
    model = args.model or __import__("workflow.testing.tinymodels", fromlist=["x"]).build_marian(work / "tiny", corpus_lines(), cyrillic_lines())
    corpus = work / "corpus"
    if args.quick:
        corpus.mkdir()
        for name in ("amnesty-belarus-police-must-be-held-accountable.txt", "joint-statement-belarusian-human-rights-community-2023.txt"):
            shutil.copy(CORPUS / name, corpus)
    else:
        shutil.copytree(CORPUS, corpus)
    ref = work / "reference"
    ref.mkdir()
    write_config(ref, be=model, ru=model, corpus=corpus)
    t = time.monotonic()
    run(load_config(ref / "config.toml"))
    print(f"uninterrupted run: {time.monotonic() - t:.1f} s")
    expected = outputs(ref)
    sigs = [signal.SIGKILL] if args.quick else [signal.SIGKILL, signal.SIGINT]
    failures = 0
    for point in ("load", "translate", "score", "write"):
        for sig in sigs:
            victim = work / f"victim-{point}-{sig.name}"
            victim.mkdir()
            write_config(victim, be=model, ru=model, corpus=corpus)
            if point == "write":  # previous outputs exist: the killed run must not damage them
                run(load_config(victim / "config.toml"))
            proc = subprocess.Popen([sys.executable, "-c", CHILD, str(victim / "config.toml")], cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            reached = False
            for line in proc.stderr:
                if line.strip() == f"FAULT-POINT {point}":
                    reached = True
                    time.sleep(0.3)
                    proc.send_signal(sig)
                    break
            rest = proc.communicate(timeout=120)[1]
            code = proc.returncode
            t = time.monotonic()
            run(load_config(victim / "config.toml"))
            ok = reached and code != 0 and same(outputs(victim), expected)
            if sig == signal.SIGINT:
                ok = ok and "Traceback" not in rest
            failures += not ok
            print(f"{point:9} {sig.name:7} reached={reached} exit={code} rerun={time.monotonic() - t:.1f}s "
                  f"identical={'yes' if ok else 'NO'}")
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
