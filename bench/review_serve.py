"""Load on `workflow review serve`: concurrent reviewers saving over real HTTP against one store.

A synthetic project (``tests/serve_project.py``: the real corpus reader and segmenter, a
segments table with synthetic MT, no model) served by the real command (uvicorn, one
process) in a child process. Each reviewer is a thread with its own HTTP client, saving
texts that name the reviewer, the save and the segment, cycling over its own segments
and languages; every 10th save goes to one segment all reviewers share (a refused,
stale save is retried on the new revision, as the page's "keep mine" does). With
``--import-every S`` a `workflow review import` of a TSV runs in another process every S
seconds meanwhile (the project lock and SQLite's WAL between them).

Afterwards the store is audited: PRAGMA integrity_check, acknowledged saves missing
(lost), texts under another segment or language (misfiled), texts nobody sent, keys
whose revision is not their number of versions. Client-side latency of each save.

    .venv/bin/python bench/review_serve.py                       # 8 reviewers x 200 saves
    .venv/bin/python bench/review_serve.py --reviewers 2 --saves 20   # quick
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from serve_project import audit, fix_text, make_project, numbered, reviewer_saves, start_server, token_of  # noqa: E402

IMPORTER = 99  # the reviewer number in the texts `review import` brings in


def _importer(cfg: Path, folder: Path, segments: list[dict], every: float, stop: threading.Event, log: list,
              records: list[dict]) -> None:
    """`workflow review import` of a one-row TSV (a segment no reviewer here saves) every
    ``every`` s; an import that succeeded is an acknowledged save for the audit."""
    seg = segments[-1]
    n = 0
    while not stop.wait(every):
        tsv = folder / f"import-{n}.tsv"
        text = fix_text("be", IMPORTER, n, seg["n"])
        tsv.write_text(f"id\ten\tbe\n{seg['id']}\t{seg['en']}\t{text}\n", encoding="utf-8")
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "workflow.cli", "review", "import", str(tsv), "-r", "importer",
                               "--config", str(cfg)], capture_output=True, text=True)
        log.append((done.returncode, time.perf_counter() - started, done.stderr.strip()[-200:]))
        if done.returncode == 0:
            records.append({"key": (seg["id"], "be"), "text": text, "status": "imported", "seconds": None})
        n += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reviewers", type=int, default=8)
    ap.add_argument("--saves", type=int, default=200, help="saves per reviewer")
    ap.add_argument("--docs", type=int, default=8)
    ap.add_argument("--sentences", type=int, default=25, help="per document")
    ap.add_argument("--import-every", type=float, default=0.0, metavar="S",
                    help="run `workflow review import` in another process every S seconds meanwhile")
    args = ap.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="review-serve-bench-"))
    cfg = make_project(folder, docs=args.docs, sentences=args.sentences, hostile=False)
    proc, url = start_server(cfg)
    try:
        token = token_of(url)
        segments = numbered(httpx.get(url + "api/segments", timeout=60).json()["segments"])
        own = segments[1:-1] if args.import_every else segments[1:]
        records: list[dict] = []
        threads = []
        for r in range(args.reviewers):
            mine = [(s, t) for s in own if s["n"] % args.reviewers == r for t in ("be", "ru")]
            threads.append(threading.Thread(target=reviewer_saves, args=(url, token, r, mine, args.saves, records),
                                            kwargs={"shared": (segments[0], "be")}))
        stop, imports = threading.Event(), []
        imports_done: list[dict] = []
        importer = threading.Thread(target=_importer, args=(cfg, folder, segments, args.import_every, stop, imports,
                                                            imports_done))
        started = time.perf_counter()
        if args.import_every:
            importer.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        stop.set()
        if args.import_every:
            importer.join()
    finally:
        proc.terminate()
        proc.wait(30)
    got = audit(folder / "store.sqlite", records + imports_done, segments)
    ok = sorted(rec["seconds"] for rec in records if rec["status"] == 200)
    conflicts = sum(rec["status"] == 409 for rec in records)
    other = sorted({str(rec["status"]) for rec in records} - {"200", "409"})
    q = statistics.quantiles(ok, n=100)
    print(f"{args.reviewers} reviewers x {args.saves} saves ({len(segments)} segments, one shared): "
          f"{len(records)} requests in {wall:.1f} s ({len(records) / wall:.0f}/s)")
    print(f"  acknowledged {got['acknowledged']}, refused as stale (409, then retried) {conflicts}, other: {other or 'none'}")
    print(f"  save latency p50 {q[49] * 1000:.1f} ms, p95 {q[94] * 1000:.1f} ms, max {ok[-1] * 1000:.1f} ms")
    print(f"  store: integrity_check {got['integrity']}; versions stored {got['stored']}; lost {len(got['lost'])}, "
          f"misfiled {len(got['misfiled'])}, foreign {len(got['foreign'])}, revision != versions {len(got['bad_revisions'])}")
    if args.import_every:
        codes = [c for c, _, _ in imports]
        print(f"  review import meanwhile: {len(imports)} runs, exit codes {sorted(set(codes))}, "
              f"max {max((s for _, s, _ in imports), default=0):.1f} s each")
        for c, _, err in imports:
            if c:
                print(f"    exit {c}: {err}")


if __name__ == "__main__":
    main()
