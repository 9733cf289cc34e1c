"""Review import: reviewers' fixes come back in, validated completely before anything is stored.

``import_files(config, paths, reviewer)`` reads edited three-way TSVs (``aligned/<doc>.tsv``)
and XLIFF files (2.x or 1.2, ``aligned/xliff/...``). Everything is validated first:

- the file must decode (UTF-8, with or without BOM; UTF-16 with BOM as Excel's
  "Unicode text" writes it); U+FFFD and UTF-8-read-as-Latin-1 mojibake are refused;
- every id must be a segment of the current corpus, and its English text must still
  be the one in the corpus (a source changed since export is refused);
- a segment may appear once per file, and two files may not give it different texts;
- no control characters, no empty translation where there was one.

Each problem is reported as ``file:line: message``; if there is any, nothing is written
(:class:`ImportRejected`). Otherwise all fixes go into the translation memory
(``workflow.review.memory``) in one transaction.

What counts as a fix: a target cell whose text differs from both the machine
translation and the current approved fix. A cell left as it was is not a fix, unless
the reviewer approved it as it is: TSV status column set to ``approved``; XLIFF
segment state ``reviewed``/``final`` (1.2: ``approved="yes"``, ``final``, ``signed-off``).

Parsing is ``workflow.review.parse``; applying the stored fixes to a run is
``workflow.review.apply``.
"""

from __future__ import annotations

import getpass
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workflow.core.config import Config
from workflow.core.errors import InputError
from workflow.core.progress import Reporter
from workflow.core.records import Row
from workflow.core.store import Store
from workflow.corpus.load import load_corpus
from workflow.corpus.segment import Segment, segment_document, text_hash
from workflow.outputs import parquet
from workflow.outputs.xliff import xml_safe
from workflow.review.memory import Fix, Memory
from workflow.review.parse import TSV_APPROVE, XLIFF_APPROVE, Candidate, Problem, XliffError, decode, parse_tsv, read_xliff

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_MOJIBAKE = re.compile("[\u00d0\u00d1][\u0080-\u00bf\u2018-\u203a\u0152-\u0192]")  # UTF-8 Cyrillic read as Latin-1/CP1252


class ImportRejected(InputError):
    """An import with problems: nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"review import refused, nothing was written ({len(problems)} problem"
                         f"{'s' if len(problems) != 1 else ''}):\n{lines}",
                         hint="Fix the files (or export again with `workflow run`) and import again.")
        self.problems = problems


@dataclass
class ImportResult:
    fixes: list[Fix] = field(default_factory=list)
    unchanged: int = 0
    files: list[str] = field(default_factory=list)
    written: bool = False


@dataclass
class _Context:
    targets: Sequence[str]
    segments: dict[str, Segment]
    exported: dict[tuple[str, str], Row]  # (seg_id, target) -> the row of the last run
    approved: dict[tuple[str, str, str], Fix]  # (doc, target, hash) -> current fix
    reviewer: str = "reviewer"


def default_reviewer() -> str:
    try:
        return os.environ.get("WORKFLOW_REVIEWER") or getpass.getuser() or "reviewer"
    except Exception:  # noqa: BLE001 - no user name on some systems
        return "reviewer"


def current_segments(config: Config) -> dict[str, Segment]:
    docs, _ = load_corpus(config.resolve(config.corpus), config.ingest)
    return {s.seg_id: s for d in docs for s in segment_document(d)}


def exported_rows(out_dir: Path) -> dict[tuple[str, str], Row]:
    """(seg_id, target) -> row of the last run's segments table (empty before any run)."""
    if not parquet.table_path(out_dir).is_file():
        return {}
    return {(r.seg_id, r.target): r for r in parquet.read_rows(out_dir)}


def _text_problems(text: str) -> str | None:
    m = _CONTROL.search(text)
    if m:
        return f"control character U+{ord(m.group()):04X} in the translation"
    if "\ufffd" in text:
        return "replacement character U+FFFD in the translation: the file went through a broken encoding"
    if _MOJIBAKE.search(text):
        return "the translation looks like UTF-8 read as Latin-1/Windows-1252 (mojibake such as 'Ð°'): " \
               "re-export and edit as UTF-8"
    return None


def _load_file(path: Path, ctx: _Context) -> tuple[list[Candidate], list[Problem]]:
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        return [], [Problem(name, 0, f"cannot read ({e.strerror})")]
    targets = ctx.targets
    problems: list[Problem] = []
    is_xml = data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") or path.suffix.lower() in (".xlf", ".xliff", ".xml")
    if is_xml:
        try:
            doc = read_xliff(data, name)
        except XliffError as e:
            return [], [Problem(name, e.line, e.message)]
        if doc.target not in targets:
            return [], [Problem(name, 1, f"target language {doc.target!r} is not one of the configured targets "
                                         f"({', '.join(targets)})")]
        cands, first_line = [], {}
        for u in doc.units:
            if not u.translate:
                continue
            if u.id in first_line:
                problems.append(Problem(name, u.line, f"duplicate unit for {u.id} (also line {first_line[u.id]})"))
                continue
            first_line[u.id] = u.line
            problems.extend(_check_source(name, u.line, u.id, u.source, ctx))
            if u.target is not None:
                cands.append(Candidate(u.id, doc.target, u.target, (u.state or "") in XLIFF_APPROVE, name, u.line))
        return cands, problems
    text, problems = decode(data, name)
    if text is None:
        return [], problems
    cands, seen, problems = parse_tsv(name, text, targets)
    first_line: dict[str, int] = {}
    for n, sid, en in seen:
        if sid in first_line:
            problems.append(Problem(name, n, f"duplicate row for {sid} (also line {first_line[sid]})"))
            continue
        first_line[sid] = n
        problems.extend(_check_source(name, n, sid, en, ctx))
    dup_lines = {p.line for p in problems if p.message.startswith("duplicate row")}
    return [c for c in cands if c.line not in dup_lines], problems


def _check_source(name: str, line: int, sid: str, en: str, ctx: _Context) -> list[Problem]:
    seg = ctx.segments.get(sid)
    if seg is None:
        return [Problem(name, line, f"unknown segment id {sid!r}: not in the current corpus")]
    if text_hash(xml_safe(en)) != text_hash(xml_safe(seg.text)):
        return [Problem(name, line, f"the English source of {sid} changed since export "
                                    f"(file: {en[:60]!r}, corpus now: {seg.text[:60]!r}); export again and redo this row")]
    return []


def collect(paths: Sequence[Path], ctx: _Context) -> tuple[list[Fix], int, list[Problem]]:
    problems: list[Problem] = []
    cands: list[Candidate] = []
    for p in paths:
        c, probs = _load_file(Path(p), ctx)
        cands.extend(c)
        problems.extend(probs)
    bad_rows = {(p.file, p.line) for p in problems}
    fixes: dict[tuple[str, str, str], tuple[Fix, Candidate]] = {}
    unchanged = 0
    now = time.time()
    reviewer = ctx.reviewer
    for c in cands:
        if (c.file, c.line) in bad_rows:
            continue
        seg = ctx.segments[c.seg_id]
        text = c.text.strip()
        if seg.skip:
            if text:
                problems.append(Problem(c.file, c.line, f"{c.seg_id} is skipped boilerplate ({seg.skip}); "
                                                        f"its {c.target} translation cannot be imported"))
            continue
        exp = ctx.exported.get((c.seg_id, c.target))
        if exp is None or text_hash(exp.en or "") != seg.hash:
            problems.append(Problem(c.file, c.line, f"{c.seg_id} ({c.target}) has no machine translation in the "
                                                    "current outputs: run `workflow run` first"))
            continue
        mt, current = exp.mt, exp.approved
        key = (seg.doc_id, c.target, seg.hash)
        mem = ctx.approved.get(key)
        current = mem.text if mem is not None and not mem.stale else current
        if not text:
            if (mt or current):
                problems.append(Problem(c.file, c.line, f"empty {c.target} translation for {c.seg_id}"))
            continue
        why = _text_problems(text)
        if why:
            problems.append(Problem(c.file, c.line, why))
            continue
        if text == (current or "").strip() or (text == (mt or "").strip() and not (c.approve and current is None)):
            unchanged += 1
            continue
        fix = Fix(seg.doc_id, c.target, seg.hash, c.seg_id, seg.text, text, mt, reviewer, now, f"{c.file}:{c.line}")
        prev = fixes.get(key)
        if prev is not None:
            if prev[0].text != text:
                problems.append(Problem(c.file, c.line, f"conflicting {c.target} fixes for {c.seg_id}: "
                                                        f"{prev[1].file}:{prev[1].line} has a different text"))
            continue
        fixes[key] = (fix, c)
    return [f for f, _ in fixes.values()], unchanged, problems


def import_files(config: Config, paths: Sequence[Path], reviewer: str | None = None, *, dry_run: bool = False,
                 store: Store | None = None) -> ImportResult:
    """Validate every file, then store all fixes in one transaction; raise :class:`ImportRejected`
    (nothing written) if any problem was found."""
    if not paths:
        raise InputError("no files to import")
    own = store is None
    store = store or Store(config.resolve(config.store))
    try:
        memory = Memory(store)
        ctx = _Context(config.targets, current_segments(config), exported_rows(config.resolve(config.out)),
                       {f.key: f for f in memory.all()}, (reviewer or default_reviewer()).strip() or "reviewer")
        fixes, unchanged, problems = collect(paths, ctx)
        if problems:
            raise ImportRejected(sorted(problems, key=lambda p: (p.file, p.line)))
        result = ImportResult(fixes, unchanged, [str(p) for p in paths])
        if not dry_run and fixes:
            memory.put_many(fixes)
            result.written = True
        return result
    finally:
        if own:
            store.close()
