"""The review loop: reviewers' fixes come back in, are kept forever, reused and measured.

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

``apply_review(rows, store)`` then marks every row with an approved fix as
``status="reviewed"``, keeping the MT in ``mt`` and the fix in ``approved``, with HTER
(TER of the MT against the fix) and chrF++; a fix whose English no longer occurs in its
document is marked stale (kept) and offered on the most similar new sentence as
``fuzzy_match``. ``write_review_outputs(result, config, rows)`` writes TMX, XLIFF, the
review pages and the report.
"""

from __future__ import annotations

import difflib
import getpass
import os
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workflow.core.config import Config
from workflow.core.errors import InputError
from workflow.review.memory import Fix, Memory
from workflow.corpus.segment import Segment, text_hash
from workflow.core.store import Store
from workflow.core.records import STATUS_SKIPPED, Row
from workflow.core.files import safe_child, tsv_uncell, write_atomic
from workflow.outputs.xliff import XliffError, read_xliff, xml_safe, xliff12, xliff21

STATUS_REVIEWED = "reviewed"
TSV_APPROVE = {"approved", "approve"}
XLIFF_APPROVE = {"reviewed", "final", "signed-off"}
FUZZY_MIN = 0.5  # least similarity of an old English text for its stale fix to be offered

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_MOJIBAKE = re.compile("[\u00d0\u00d1][\u0080-\u00bf\u2018-\u203a\u0152-\u0192]")  # UTF-8 Cyrillic read as Latin-1/CP1252


class ImportRejected(InputError):
    """An import with problems: nothing was written."""

    def __init__(self, problems: list["Problem"]) -> None:
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"review import refused, nothing was written ({len(problems)} problem"
                         f"{'s' if len(problems) != 1 else ''}):\n{lines}",
                         hint="Fix the files (or export again with `workflow run`) and import again.")
        self.problems = problems


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Candidate:
    seg_id: str
    target: str
    text: str
    approve: bool  # approved as it is, even if unchanged
    file: str
    line: int


@dataclass
class ImportResult:
    fixes: list[Fix] = field(default_factory=list)
    unchanged: int = 0
    files: list[str] = field(default_factory=list)
    written: bool = False


@dataclass
class _Context:
    config: Config
    segments: dict[str, Segment]
    exported: dict[tuple[str, str], dict]  # (seg_id, target) -> {"en", "mt", "approved"}
    approved: dict[tuple[str, str, str], Fix]  # (doc, target, hash) -> current fix
    reviewer: str = "reviewer"


# --------------------------------------------------------------------------- import


def default_reviewer() -> str:
    try:
        return os.environ.get("WORKFLOW_REVIEWER") or getpass.getuser() or "reviewer"
    except Exception:  # noqa: BLE001 - no user name on some systems
        return "reviewer"


def current_segments(config: Config) -> dict[str, Segment]:
    from workflow.pipeline import load_corpus
    from workflow.core.progress import Reporter
    from workflow.corpus.segment import segment_document

    docs, _ = load_corpus(config, Reporter())
    return {s.seg_id: s for d in docs for s in segment_document(d)}


def exported_texts(config: Config) -> dict[tuple[str, str], dict]:
    path = config.resolve(config.out) / "segments.parquet"
    if not path.exists():
        return {}
    import polars as pl

    frame = pl.read_parquet(path)
    cols = [c for c in ("seg_id", "target", "en", "mt", "approved") if c in frame.columns]
    out = {}
    for rec in frame.select(cols).iter_rows(named=True):
        out[(rec["seg_id"], rec["target"])] = rec
    return out


def decode(data: bytes, name: str) -> tuple[str | None, list[Problem]]:
    """Text of a reviewer's file, or problems naming the line of the first bad byte."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError as e:
            return None, [Problem(name, 1, f"broken UTF-16 ({e.reason} at byte {e.start})")]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        return None, [Problem(name, line, f"not valid UTF-8 (byte 0x{data[e.start]:02x} at column {col}): "
                                          "save the file as UTF-8")]


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


def parse_tsv(name: str, text: str, targets: Sequence[str]) -> tuple[list[Candidate], list[tuple[int, str, str]], list[Problem]]:
    """Candidates, (line, id, en) of every row, problems."""
    problems: list[Problem] = []
    lines = text.split("\n")
    header = [tsv_uncell(c).strip().lower() for c in lines[0].rstrip("\r").split("\t")] if lines else []
    if "id" not in header or "en" not in header:
        return [], [], [Problem(name, 1, "not a review TSV: the header needs the columns id and en (as in aligned/<doc>.tsv)")]
    cols = {c: i for i, c in enumerate(header)}
    tcols = [t for t in targets if t in cols]
    if not tcols:
        return [], [], [Problem(name, 1, f"no target language column ({', '.join(targets)}) in the header")]
    cands: list[Candidate] = []
    seen: list[tuple[int, str, str]] = []
    for n, raw in enumerate(lines[1:], start=2):
        raw = raw.rstrip("\r")
        if not raw.strip():
            continue
        cells = raw.split("\t")
        if len(cells) > len(header):
            problems.append(Problem(name, n, f"{len(cells)} cells but the header has {len(header)} "
                                             "(a tab typed into a cell?)"))
            continue
        cells += [""] * (len(header) - len(cells))
        cells = [tsv_uncell(c) for c in cells]
        sid, en = cells[cols["id"]].strip(), cells[cols["en"]]
        status = cells[cols["status"]].strip().lower() if "status" in cols else ""
        seen.append((n, sid, en))
        for t in tcols:
            cands.append(Candidate(sid, t, cells[cols[t]], status in TSV_APPROVE, name, n))
    return cands, seen, problems


def _load_file(path: Path, ctx: _Context) -> tuple[list[Candidate], list[Problem]]:
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        return [], [Problem(name, 0, f"cannot read ({e.strerror})")]
    targets = ctx.config.targets
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
        if exp is None or text_hash(exp.get("en") or "") != seg.hash:
            problems.append(Problem(c.file, c.line, f"{c.seg_id} ({c.target}) has no machine translation in the "
                                                    "current outputs: run `workflow run` first"))
            continue
        mt, current = exp.get("mt"), exp.get("approved")
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
        ctx = _Context(config, current_segments(config), exported_texts(config), {f.key: f for f in memory.all()},
                       (reviewer or default_reviewer()).strip() or "reviewer")
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


# --------------------------------------------------------------------------- apply on a run


def _metrics():
    from workflow.scoring.metrics import make_metric

    return make_metric("ter"), make_metric("chrf")


def apply_review(rows: list[Row], store: Store) -> list[Row]:
    """Rows with approved fixes applied (status ``reviewed``, ``approved`` = the fix, ``mt`` kept),
    stale fixes marked (never deleted) and offered as ``fuzzy_match``. Call after the rows are
    built, before anything is written; ``store`` must be open."""
    memory = Memory(store)
    fixes = memory.all()
    if not fixes:
        return rows
    by_key = {f.key: f for f in fixes}
    present = {(r.doc_id, r.target, r.hash) for r in rows if r.status != STATUS_SKIPPED}
    pairs = {(r.doc_id, r.target) for r in rows}
    now_stale = [f.key for f in fixes if not f.stale and (f.doc_id, f.target) in pairs and f.key not in present]
    revived = [f.key for f in fixes if f.stale and f.key in present]
    memory.set_stale(now_stale, True)
    memory.set_stale(revived, False)
    stale_keys = set(now_stale) | {f.key for f in fixes if f.stale} - set(revived)
    stale_by_pair: dict[tuple[str, str], list[Fix]] = defaultdict(list)
    for f in fixes:
        if f.key in stale_keys:
            stale_by_pair[(f.doc_id, f.target)].append(f)
    ter = chrf = None
    for r in rows:
        if r.status == STATUS_SKIPPED:
            continue
        f = by_key.get((r.doc_id, r.target, r.hash))
        if f is not None and f.key not in stale_keys:
            if ter is None:
                ter, chrf = _metrics()
            r.status = STATUS_REVIEWED
            r.approved, r.reviewer, r.reviewed_at = f.text, f.reviewer, f.created
            mt = r.mt or ""
            r.hter = round(ter.sentence_score(mt, [f.text]).score, 2)
            r.chrf = round(chrf.sentence_score(mt, [f.text]).score, 2)
            continue
        cands = stale_by_pair.get((r.doc_id, r.target))
        if cands:
            best, score = None, 0.0
            for c in cands:
                s = difflib.SequenceMatcher(None, c.source, r.en, autojunk=False).ratio()
                s += 0.01 if c.seg_id == r.seg_id else 0.0
                if s > score:
                    best, score = c, s
            if best is not None and score >= FUZZY_MIN:
                r.fuzzy_match, r.fuzzy_score = best.text, round(min(score, 1.0), 3)
    return rows


def edit_effort(rows: Iterable[Row]) -> dict[tuple[str, str], dict]:
    """(doc_id, target) -> {"reviewed", "hter", "chrf"}: corpus-level TER/chrF++ of MT vs fixes."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        if r.approved is not None:
            groups[(r.doc_id, r.target)].append(r)
    out = {}
    for key, rs in groups.items():
        ter, chrf = _metrics()
        hyps, refs = [r.mt or "" for r in rs], [[r.approved for r in rs]]
        out[key] = {"reviewed": len(rs), "hter": round(ter.corpus_score(hyps, refs).score, 2),
                    "chrf": round(chrf.corpus_score(hyps, refs).score, 2)}
    return out


# --------------------------------------------------------------------------- outputs


def write_review_outputs(result, config: Config, rows: list[Row] | None = None) -> list[Path]:
    """TMX (per document + corpus.tmx), XLIFF 2.1 and 1.2 (per document and target), the
    review pages and report.md/report.html, all written atomically into ``result.out_dir``."""
    from workflow.outputs.publish import three_way_rows
    from workflow.outputs.page import review_page
    from workflow.outputs.report import write_report
    from workflow.outputs.tmx import tmx

    rows = result.rows if rows is None else rows
    out: Path = result.out_dir
    targets = list(config.targets)
    written: list[Path] = []

    def put(path: Path, data) -> None:
        write_atomic(path, data)
        written.append(path)

    docs = three_way_rows(rows, targets)
    all_segs = []
    spans = getattr(result, "spans", None)
    for doc_id, segs in docs.items():
        all_segs.extend(segs)
        put(safe_child(out / "tmx", f"{doc_id}.tmx"), tmx(segs, targets, note=f"document {doc_id}"))
        for t in targets:
            trows = [per[t] for _, per in segs if t in per]
            put(safe_child(out / "xliff" / "2.1", f"{doc_id}.{t}.xlf"), xliff21(doc_id, t, trows))
            put(safe_child(out / "xliff" / "1.2", f"{doc_id}.{t}.xlf"), xliff12(doc_id, t, trows))
        put(safe_child(out / "review", f"{doc_id}.html"), review_page(doc_id, segs, targets, spans=spans))
    put(out / "corpus.tmx", tmx(all_segs, targets, note="whole corpus"))
    written.extend(write_report(result, config, rows, out))
    return written


__all__ = ["apply_review", "write_review_outputs", "import_files", "ImportRejected", "Problem", "edit_effort",
           "STATUS_REVIEWED"]
