"""Write ``aligned/``: the segments table, one three-way TSV per document, the skipped list,
and (through ``workflow.review.importer``) TMX, XLIFF, review pages and the report.

The run writes nothing until every translation is done. Then every file is written into a
staging folder and only moved into ``aligned/`` once all of them were written, so a failed
run (full disk, kill) leaves the previous ``aligned/`` as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from collections import defaultdict

from workflow.core.config import Config
from workflow.core.records import STATUS_SKIPPED, to_frame
from workflow.core.files import safe_child, tsv, write_atomic, write_parquet_atomic


STAGING_PREFIX = ".staging-"


def three_way_rows(rows, targets):
    """Per document: rows of (seg_id, status, en, {target: row}) in document order."""
    docs: dict[str, dict[str, dict]] = defaultdict(dict)
    order: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        seg = docs[r.doc_id].setdefault(r.seg_id, {})
        if not seg:
            order[r.doc_id].append(r.seg_id)
        seg[r.target] = r
    return {doc: [(sid, docs[doc][sid]) for sid in order[doc]] for doc in order}


def document_tsv(segs, targets) -> str:
    header = ["id", "status", "en", *targets]
    for t in targets:
        header += [f"weak_{t}", f"flagged_{t}", f"confidence_{t}", f"length_ratio_{t}", f"flags_{t}"]
    body = []
    for sid, per_target in segs:
        first = next(iter(per_target.values()))
        status = f"skipped: {first.skip_reason}" if first.status == STATUS_SKIPPED else first.status
        line = [sid, status, first.en] + [per_target[t].shown or "" for t in targets]
        for t in targets:
            r = per_target[t]
            skipped = r.status == STATUS_SKIPPED
            line += [
                None if skipped else round(r.weak_score, 3),
                None if skipped else ("yes" if r.flagged else ""),
                None if r.logprob is None else round(r.logprob, 3),
                None if r.length_ratio is None else round(r.length_ratio, 2),
                ",".join(r.flags),
            ]
        body.append(line)
    return tsv(header, body)


def _write_all(result, config: Config) -> None:
    out = result.out_dir
    out.mkdir(parents=True, exist_ok=True)
    targets = list(config.targets)
    write_parquet_atomic(out / "segments.parquet", to_frame(result.rows))
    for doc_id, segs in three_way_rows(result.rows, targets).items():
        write_atomic(safe_child(out, f"{doc_id}.tsv"), document_tsv(segs, targets))
    skipped = [(r.seg_id, r.skip_reason, r.en) for r in result.rows if r.status == STATUS_SKIPPED and r.target == targets[0]]
    write_atomic(out / "skipped.tsv", tsv(["id", "reason", "en"], skipped))
    summary = {
        "documents": len(result.documents),
        "segments": len(result.segments),
        "skipped": len(skipped),
        "translated": result.translated,
        "cached": result.cached,
        "models_loaded": result.models_loaded,
        "problems": result.problems,
    }
    write_atomic(out / "run.json", json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    from workflow.review.importer import write_review_outputs

    write_review_outputs(result, config, result.rows)


def write_outputs(result, config: Config) -> None:
    """Write every output into a staging folder inside ``aligned/`` first (a full disk or
    any other failure stops there and removes it), then move the files into place; moving
    needs no space, so the previous outputs stay complete until the new set is."""
    final = result.out_dir
    final.mkdir(parents=True, exist_ok=True)
    for stale in final.glob(STAGING_PREFIX + "*"):  # left by a killed run (runs hold the project lock)
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=final))
    result.out_dir = staging
    try:
        _write_all(result, config)
        publish(staging, final)
    finally:
        result.out_dir = final
        shutil.rmtree(staging, ignore_errors=True)


def publish(staging: Path, final: Path) -> None:
    """Move every file of ``staging`` to the same place under ``final`` (atomic renames)."""
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        dest = final / path.relative_to(staging)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, dest)
