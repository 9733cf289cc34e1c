"""Slow fault injection: kill real `workflow run` processes at chosen points, rerun, and
check the outputs equal an uninterrupted run's and that aligned/ never holds a
half-written file or a mix of two runs; and (``--inputs``) run the largest hostile inputs
of issue #18 as real processes, recording peak RSS and time.

    .venv/bin/python bench/faults.py [--quick] [--model DIR]
    .venv/bin/python bench/faults.py --inputs [--model DIR]

The child is the real CLI (`workflow.cli.app.main(["run", ...])`) with test hooks installed
by this script only (no hooks in the package): at each point it prints
``FAULT-POINT <name>`` to stderr and pauses 1 s, and the parent sends SIGKILL or SIGINT.
Points: load (model loading), translate (after the first committed chunk), score (before
scoring), write (after the first output file of the new set was written), publish (the
new set complete, right before it is switched in) and switched (right after the switch,
before the old set is cleaned up). For write, publish and switched the victim first ran
with fewer checks, so its aligned/ holds a different old set: a kill before the switch
must leave that old set byte for byte, a kill after it the whole new set. Without
--model a tiny random model is built (workflow/tinymodels.py).
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
real_switch = export.switch
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
def switch(new, final):
    point("publish"); real_switch(new, final); point("switched")
cached.load_engine, store.Store.put_translations, pipeline.score_rows, export.write_atomic = load_engine, put, rows, write
export.switch = switch
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


def files(folder: Path) -> dict[str, bytes]:
    """Every file of aligned/, byte for byte."""
    out = folder / "aligned"
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k].equals(b[k]) if k.endswith(".parquet") else a[k] == b[k] for k in a)


def measured(argv: list[str], cwd: Path) -> tuple[int, float, float, str]:
    """(exit code, seconds, peak RSS in MB, last stderr line) of one real CLI process.
    Started through GNU time: Linux counts a child's peak RSS from the RSS of the process
    that forked it, and this script holds a model in memory."""
    started = time.monotonic()
    rss_file = cwd / "maxrss.txt"
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss_file), sys.executable, "-m", "workflow.cli", *argv],
                          cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - started
    rss = int(rss_file.read_text().split()[-1]) / 1024
    lines = [line for line in proc.stderr.splitlines() if line.strip() and "━" not in line]
    return proc.returncode, seconds, rss, (lines[-1] if lines else "")[:160]


def hostile_inputs(model: Path, work: Path) -> int:
    """The largest inputs of issue #18, each a real `workflow run` (or compare) process:
    exit code, time, seconds per MB of input and peak RSS. Returns the number of failures
    (a traceback, or a run over the 3 GB target)."""
    from conftest import corpus_lines, write_config

    EN_SENTENCES = [line for line in corpus_lines() if line.rstrip().endswith(".")]
    words = "the court sentenced three human rights defenders to long prison terms".split()

    def run_on(mb: float) -> str:  # one line, no sentence end
        return " ".join(words[i % len(words)] for i in range(int(mb * 1e6 / 6))) + "\n"

    def sentences(mb: float, sep: str) -> str:
        text, n = [], 0
        while n < mb * 1e6:
            s = f"{EN_SENTENCES[len(text) % len(EN_SENTENCES)]} Case {len(text)}."
            text.append(s)
            n += len(s) + len(sep)
        return sep.join(text) + "\n"

    def corpus(folder: Path, files: dict[str, str | bytes | int]) -> Path:
        c = folder / "corpus"
        c.mkdir(parents=True)
        for name, content in files.items():
            if isinstance(content, int):
                with open(c / name, "wb") as f:
                    f.truncate(content)
            else:
                (c / name).write_bytes(content if isinstance(content, bytes) else content.encode())
        return write_config(folder, be=model, ru=model, corpus=c)

    cases = [
        ("5 MB document, one sentence a line (the baseline)", {"big.txt": sentences(5, "\n\n")}),
        ("1 MB single line of sentences", {"line.txt": sentences(1, " ")}),
        ("1 MB single line without a sentence end", {"ok.txt": EN_SENTENCES[0] + "\n", "runon.txt": run_on(1)}),
        ("4 MB single line without a sentence end", {"ok.txt": EN_SENTENCES[0] + "\n", "runon.txt": run_on(4)}),
        ("3 GB sparse file", {"ok.txt": EN_SENTENCES[0] + "\n", "sparse.txt": 3 << 30}),
        ("60 MB document (over the limit)", {"ok.txt": EN_SENTENCES[0] + "\n", "huge.txt": sentences(60, "\n")}),
    ]
    failures = 0
    print("| case | input | exit | time (s) | s per MB | peak RSS (MB) | message |")
    print("|---|---|---|---|---|---|---|")
    for i, (name, files) in enumerate(cases):
        folder = work / f"inputs-{i}"
        cfg = corpus(folder, files)
        size = sum(f.stat().st_size for f in (folder / "corpus").iterdir()) / 1e6
        code, seconds, rss, last = measured(["run", "--config", str(cfg)], folder)
        failures += code not in (0, 2) or rss > 3000 or "Traceback" in last
        print(f"| {name} | {size:,.1f} MB | {code} | {seconds:.1f} | {seconds / max(size, 0.001):.1f} | {rss:,.0f} | {last} |")
        shutil.rmtree(folder, ignore_errors=True)
    folder = work / "inputs-compare"
    folder.mkdir()
    (folder / "a.txt").write_text(run_on(2))
    (folder / "b.txt").write_text(run_on(2))
    code, seconds, rss, last = measured(["compare", "a.txt", "b.txt", "--ref", "a.txt"], folder)
    failures += code != 2 or rss > 3000
    print(f"| compare on a 2 MB single line | 4.0 MB | {code} | {seconds:.1f} | - | {rss:,.0f} | {last} |")
    return failures


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="two documents, SIGKILL only")
    ap.add_argument("--inputs", action="store_true", help="the largest hostile inputs: time and peak RSS, no kills")
    ap.add_argument("--model", type=Path)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    from conftest import CORPUS, corpus_lines, cyrillic_lines, write_config
    from workflow.core.config import load_config
    from workflow.pipeline import run

    work = Path(tempfile.mkdtemp(prefix="faults-"))
    model = args.model or __import__("workflow.testing.tinymodels", fromlist=["x"]).build_marian(work / "tiny", corpus_lines(), cyrillic_lines())
    if args.inputs:
        failures = hostile_inputs(model, work)
        shutil.rmtree(work, ignore_errors=True)
        sys.exit(1 if failures else 0)
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
    # the old set of the victims killed while publishing: the same translations (a cache filled
    # by other batches could differ in the last bit with a random model), other checks
    fewer_checks = '[checks]\ndisabled = ["repetition", "length", "untranslated"]\n'
    for point in ("load", "translate", "score", "write", "publish", "switched"):
        for sig in sigs:
            victim = work / f"victim-{point}-{sig.name}"
            victim.mkdir()
            old_set = None
            if point in ("write", "publish", "switched"):  # previous outputs exist: the killed run must not damage them
                write_config(victim, be=model, ru=model, corpus=corpus, extra=fewer_checks)
                run(load_config(victim / "config.toml"))
                old_set = files(victim)
                assert not same(outputs(victim), expected), "the old set must differ from the new one"
            write_config(victim, be=model, ru=model, corpus=corpus)
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
            as_set = "-"
            if old_set is not None:  # the whole old set before the switch, the whole new set after it
                as_set = "yes" if (same(outputs(victim), expected) if point == "switched" else files(victim) == old_set) else "NO"
            t = time.monotonic()
            run(load_config(victim / "config.toml"))
            ok = reached and code != 0 and as_set != "NO" and same(outputs(victim), expected)
            if sig == signal.SIGINT:
                ok = ok and "Traceback" not in rest
            failures += not ok
            print(f"{point:9} {sig.name:7} reached={reached} exit={code} whole-set={as_set} "
                  f"rerun={time.monotonic() - t:.1f}s identical={'yes' if ok else 'NO'}")
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
