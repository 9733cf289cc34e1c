"""Compare two or more systems (models, runs) on the same segments: corpus BLEU, chrF++ and
TER with their signatures, and paired significance against the first system (sacrebleu's
approximate randomisation or paired bootstrap, fixed seed; ``workflow.scoring.metrics``).

A system is either a text file with one segment per line (:func:`text_system`), or the
rows of a run (:func:`run_system`; ``workflow compare`` reads an ``aligned/`` folder or its
``segments.parquet`` with ``workflow.outputs.parquet``), from which the machine translation of
every translated segment into one target language is taken. References are text files
(one segment per line, parallel to text systems) or, for runs, what the run knows: the
reviewer's approved fix, else the aligned reference translation of ``corpus/<doc>.<lang>.txt``.
Runs are matched on segment id and English text, so only segments present (and
unchanged) in every run and having a reference are compared; how many is reported.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from workflow.core.errors import InputError
from workflow.core.records import Row
from workflow.scoring.metrics import Comparison, CorpusScore, corpus_scores, paired_test
from workflow.core.text import read_lines  # one reader of line-per-segment files (BOM, CRLF, errors with file:line)


@dataclass(frozen=True)
class System:
    name: str
    segments: dict[str, str]  # key -> hypothesis (key: line number, or segment id + English hash)
    references: dict[str, str]  # key -> reference known to the system (runs only)


@dataclass(frozen=True)
class ComparisonResult:
    names: list[str]
    n_segments: int
    dropped: int  # segments not in every system or without a reference
    scores: dict[str, dict[str, CorpusScore]]  # system -> metric -> score
    comparisons: list[Comparison]
    differing: dict[str, int]  # system -> segments whose text differs from the baseline's


def text_system(path: Path) -> System:
    """A system from a text file, one segment per line (keys: line numbers)."""
    return System(str(path), {str(i + 1): line for i, line in enumerate(read_lines(path))}, {})


def run_system(name: str, rows: Sequence[Row], target: str | None) -> System:
    """A system from the rows of a run (``workflow.outputs.parquet.read_rows``): the machine
    translation of every translated segment into ``target`` (the only one when None), keyed
    by segment id and English hash, with the run's references (approved fix, else the
    aligned reference translation)."""
    targets = sorted({r.target for r in rows})
    if target is None:
        if len(targets) != 1:
            raise InputError(f"{name}: holds targets {', '.join(targets)}; choose one with --target")
        target = targets[0]
    if target not in targets:
        raise InputError(f"{name}: no translations into {target!r} (it has {', '.join(targets) or 'none'})")
    hyps, refs = {}, {}
    for r in rows:
        if r.target != target or r.is_skipped:
            continue
        key = f"{r.seg_id}#{r.hash}"
        hyps[key] = r.mt or ""
        ref = r.approved if r.approved is not None else r.reference
        if ref is not None:
            refs[key] = ref
    return System(name, hyps, refs)


def compare(
    systems: Sequence[System],
    references: Sequence[Sequence[str]] = (),
    *,
    target_lang: str | None = None,
    test: str = "ar",
    n_samples: int = 0,
    seed: int = 12345,
    metrics: Sequence[str] = ("bleu", "chrf", "ter"),
) -> ComparisonResult:
    """Score every system and test each against the first. ``references``: streams of
    lines parallel to text systems; without them the runs' own references are used."""
    if len(systems) < 2:
        raise InputError("compare needs at least two systems (the first is the baseline)")
    names = [s.name for s in systems]
    if len(set(names)) != len(names):
        raise InputError(f"the same system is given twice: {', '.join(n for n in names if names.count(n) > 1)}")
    keys = [k for k in systems[0].segments if all(k in s.segments for s in systems[1:])]
    total = max(len(s.segments) for s in systems)
    if references:
        for r in references:
            if len(r) != len(systems[0].segments):
                raise InputError(f"a reference has {len(r)} lines, the system {systems[0].name} {len(systems[0].segments)}")
        for s in systems:
            if len(s.segments) != len(references[0]):
                raise InputError(f"{s.name}: {len(s.segments)} lines, the references {len(references[0])}")
        ref_streams = [list(r) for r in references]
        keys = list(systems[0].segments)
        for s in systems[1:]:
            if list(s.segments) != keys:
                raise InputError(f"{s.name}: its segments do not match {systems[0].name} line for line")
    else:
        known = {}
        for s in systems:
            for k, v in s.references.items():
                known.setdefault(k, v)
        keys = [k for k in keys if k in known]
        if not keys:
            raise InputError(
                "no segment has a reference in these runs",
                hint="Give --ref FILE, add corpus/<doc>.<lang>.txt reference files, or approve fixes with `workflow review import`.",
            )
        ref_streams = [[known[k] for k in keys]]
    if not keys:
        raise InputError(f"nothing to compare: {', '.join(names)} hold no segments" if total == 0 else
                         "nothing to compare: no segment is in every system")
    hyps = {s.name: [s.segments[k] for k in keys] for s in systems}
    _check_lengths(hyps, ref_streams, keys)
    scores = {name: corpus_scores(h, ref_streams, metrics, target_lang) for name, h in hyps.items()}
    comparisons = paired_test(hyps, ref_streams, metrics, test=test, n_samples=n_samples, seed=seed, target_lang=target_lang)
    base = hyps[names[0]]
    differing = {name: sum(a != b for a, b in zip(base, h)) for name, h in hyps.items()}
    return ComparisonResult(names, len(keys), total - len(keys), scores, comparisons, differing)


MAX_SEGMENT_CHARS = 3000  # TER's shift search grows steeply with length: 300 unrelated words take ~10 s


def _check_lengths(hyps: dict[str, list[str]], refs: Sequence[Sequence[str]], keys: list[str]) -> None:
    """A segment over MAX_SEGMENT_CHARS is not a sentence (a file without line breaks, the
    wrong file): InputError naming the system and the line, before any metric runs."""
    streams = [*hyps.items(), *((f"reference {i + 1}", r) for i, r in enumerate(refs))]
    for name, segments in streams:
        for key, text in zip(keys, segments):
            if len(text) > MAX_SEGMENT_CHARS:
                where = f"line {key}" if key.isdigit() else f"segment {key.split('#')[0]}"
                raise InputError(f"{name}: {where} has {len(text):,} characters; compare scores one sentence per "
                                 f"segment, of at most {MAX_SEGMENT_CHARS:,} characters",
                                 hint="Give files with one segment per line (a file without line breaks is one segment).")


def short_names(names: Sequence[str]) -> list[str]:
    """Names without the prefix and suffix they all share (``...hyp.PROMT.ru`` -> ``PROMT``)."""
    if len(names) < 2:
        return list(names)
    pre = len(os.path.commonprefix(list(names)))
    suf = len(os.path.commonprefix([n[::-1] for n in names]))
    cut = [n[pre : len(n) - suf] for n in names]
    if any(not c.strip() for c in cut) or pre + suf == 0:
        return list(names)
    return cut


def format_result(result: ComparisonResult) -> str:
    """A Markdown table (systems x metrics, p-values against the baseline) and signatures."""
    metrics = list(next(iter(result.scores.values())))
    shown = dict(zip(result.names, short_names(result.names)))
    label = {"bleu": "BLEU", "chrf": "chrF++", "ter": "TER"}
    p = {(c.system, c.metric): c for c in result.comparisons}
    head = ["system", "segments differing"] + [f"{label.get(m, m)} (p)" for m in metrics]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, name in enumerate(result.names):
        cells = [shown[name] + (" (baseline)" if i == 0 else ""), "–" if i == 0 else str(result.differing[name])]
        for m in metrics:
            s = f"{result.scores[name][m].score:.2f}"
            c = p.get((name, m))
            if c is not None and c.p_value is not None:
                s += f" ({c.p_value:.4f}{' *' if c.significant else ''})"
            cells.append(s)
        lines.append("| " + " | ".join(cells) + " |")
    test = result.comparisons[0].test if result.comparisons else "ar"
    lines.append("")
    lines.append(f"{result.n_segments} segments compared"
                 + (f" ({result.dropped} left out: not in every system or without a reference)" if result.dropped else "")
                 + f"; p-values: {'approximate randomisation' if test == 'ar' else 'paired bootstrap'} against the baseline,"
                 " * = p < 0.05")
    few = [shown[n] for n in result.names[1:] if result.differing[n] < max(10, 0.05 * result.n_segments)]
    if few:
        lines.append(f"caution: {', '.join(few)} differ(s) from the baseline in few segments; sacrebleu's tests follow "
                     "MultEval, where a difference that every shuffle can only tie or shrink is never put down to "
                     "chance, so even a handful of changed segments can come out significant")
    if any(shown[n] != n for n in result.names):
        lines.append("systems: " + "; ".join(f"{shown[n]} = {n}" for n in result.names))
    for m in metrics:
        lines.append(f"{label.get(m, m)}: {result.scores[result.names[0]][m].signature}")
    return "\n".join(lines)
