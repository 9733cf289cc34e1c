"""Review import: reviewers' fixes come back in, validated completely before anything is stored.

``import_files(config, paths, reviewer)`` reads edited three-way TSVs (``aligned/<doc>.tsv``),
review workbooks (``aligned/<doc>.xlsx``) and XLIFF files (2.x or 1.2,
``aligned/xliff/...``), under the project lock (``workflow.core.lock``: never while a
run writes the store or ``aligned/``). Everything is validated first:

- the path must be a regular file (a FIFO, device, folder or missing file is refused by
  type, before anything is read) of at most :data:`MAX_FILE_BYTES`; a workbook may unpack
  to at most :data:`MAX_UNPACKED_BYTES`;
- the file must decode (UTF-8, with or without BOM; UTF-16 with BOM as Excel's
  "Unicode text" writes it); U+FFFD and UTF-8-read-as-Latin-1 mojibake are refused;
  XML with a DOCTYPE is refused;
- every row is matched to a segment of the current corpus by its id and the hash of its
  English. When the id now holds another sentence (a paragraph was inserted or removed
  since the export), the row is matched by its English within the same document and the
  move is reported (:attr:`ImportResult.moved`); an English found nowhere in the document
  is refused (the source changed since export);
- a segment may appear once per file, and two files may not give it different texts;
- each fix must be in its language (``workflow.review.content``: not English, not the
  other target), not another language's exported text (a swapped column; checked for
  texts of ``content.MIN_LETTERS`` Cyrillic letters or more: a name may be the same in
  both), at most
  ``content.cell_limit`` characters for its English, without control characters, and
  not empty where there was a translation.

The Łacinka (``be-Latn`` column or XLIFF, ``workflow.outputs.latin``) is never a fix: as
exported it is ignored, edited it is refused (the fix belongs in the Belarusian).

Each problem is reported as ``file:line: message``; if there is any, nothing is written
(:class:`ImportRejected`). Otherwise all fixes go into the translation memory
(``workflow.review.memory``) in one transaction.

What counts as a fix: a target cell whose text differs from both the machine
translation and the current approved fix, in the language of that cell only. A cell
left as it was is not a fix, unless the reviewer approved it as it is: that language's
status ``approved`` (TSV ``status_be``/``status_ru``, the workbook's drop-down); XLIFF
segment state ``reviewed``/``final`` (1.2: ``approved="yes"``, ``final``, ``signed-off``).
A language marked ``needs work`` is not imported, edited or not (counted in
:attr:`ImportResult.needs_work`). An old TSV with a single ``status`` column: its
``approved`` applies to the languages whose text was edited in that row, or to every
language when none was.

Parsing is ``workflow.review.parse`` (TSV, XLIFF) and ``workflow.review.xlsx``; applying
the stored fixes to a run is ``workflow.review.apply``. :func:`judge` (what is a fix, and
may it be stored) is also what ``workflow review serve`` calls for every save.
"""

from __future__ import annotations

import getpass
import os
import stat
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workflow.core.config import Config
from workflow.core.errors import InputError
from workflow.core.lock import project_lock
from workflow.core.progress import Reporter
from workflow.core.records import Row
from workflow.core.store import Store
from workflow.corpus.load import load_corpus
from workflow.corpus.segment import Segment, segment_document, text_hash
from workflow.outputs import latin, parquet
from workflow.outputs.xliff import xml_safe
from workflow.outputs.xlsx import KEY_HASH
from workflow.review.content import MIN_LETTERS, cell_limit, cyrillic_letters, language_problem, text_problem
from workflow.review import omegat
from workflow.review.memory import Fix, Memory
from workflow.review.parse import (
    XLIFF_APPROVE, Candidate, Problem, TableRow, XliffError, decode, parse_table, parse_tsv, read_xliff,
)
from workflow.review.xlsx import XlsxError, read_workbook

MAX_FILE_BYTES = 32 * 2**20  # a review file of 32 MB holds some 50,000 segments: far above any document
MAX_UNPACKED_BYTES = 8 * MAX_FILE_BYTES  # what a workbook may unpack to (its XML compresses ~10x)
_KINDS = {stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFDIR: "a folder", stat.S_IFSOCK: "a socket"}


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
    moved: list[str] = field(default_factory=list)  # "file:line: old id -> new id" of rows matched by English
    needs_work: list[str] = field(default_factory=list)  # "file:line: id (target)" marked needs work, not imported

    def notes(self) -> list[str]:
        """What a reviewer should be told besides the counts."""
        out = []
        if self.moved:
            out.append(f"{len(self.moved)} row(s) matched by their English: the document changed since the "
                       "export and these segments moved:")
            out += [f"  {m}" for m in self.moved]
        if self.needs_work:
            out.append(f"{len(self.needs_work)} translation(s) marked 'needs work' were not imported "
                       "(set them to approved, or leave the status empty, when they are done):")
            out += [f"  {m}" for m in self.needs_work]
        return out


@dataclass
class Context:
    """What every fix is judged against: the corpus now, the last run's rows, the current fixes."""

    targets: Sequence[str]
    segments: dict[str, Segment]
    exported: dict[tuple[str, str], Row]  # (seg_id, target) -> the row of the last run
    approved: dict[tuple[str, str, str], Fix]  # (doc, target, hash) -> current fix
    reviewer: str = "reviewer"
    moved: list[str] = field(default_factory=list)
    by_english: dict[tuple[str, str], list[str]] = field(init=False)  # (doc, _english_key) -> seg ids
    docs: set[str] = field(init=False)
    english: set[str] = field(init=False)  # every English sentence of the corpus

    def __post_init__(self) -> None:
        self.by_english = defaultdict(list)
        for s in self.segments.values():
            self.by_english[(s.doc_id, _english_key(s.text))].append(s.seg_id)
        self.docs = {s.doc_id for s in self.segments.values()}
        self.english = {s.text for s in self.segments.values()}


def _english_key(text: str) -> str:
    """What two English texts must share to be the same sentence: the hash of the text as
    every format can carry it (XML cannot hold some characters; whitespace is folded)."""
    return text_hash(xml_safe(text))


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


def read_review_file(path: Path) -> tuple[bytes | None, Problem | None]:
    """The bytes of a review file, or the problem: refused by type (FIFO, device, folder)
    before anything is read, and by size; never blocks on a pipe."""
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None, Problem(name, 0, "no such file")
    except OSError as e:
        return None, Problem(name, 0, f"cannot open ({e.strerror})")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
            return None, Problem(name, 0, f"is {kind}, not a review file: give the path of an edited "
                                          ".tsv, .xlsx or .xlf file")
        if st.st_size > MAX_FILE_BYTES:
            return None, Problem(name, 0, _too_big(st.st_size))
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        return None, Problem(name, 0, f"cannot read ({e.strerror})")
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        return None, Problem(name, 0, _too_big(len(data)))
    return data, None


def _too_big(size: int) -> str:
    return (f"is {size / 2**20:.1f} MB; a review file may be at most {MAX_FILE_BYTES / 2**20:.0f} MB "
            "(export one document per file)")


def _kind(path: Path, data: bytes) -> str:
    suffix = path.suffix.lower()
    if data.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm", ".ods"):
        return "xlsx"
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") or suffix in (".xlf", ".xliff", ".xml"):
        return "xliff"
    return "tsv"


def _load_file(path: Path, ctx: Context) -> tuple[list[Candidate], list[Problem]]:
    """The candidates of one file (ids resolved to current segments), and its problems."""
    name = str(path)
    if omegat.is_omegat(path):  # an OmegaT project folder or its omegat/project_save.tmx
        got = omegat.read_project(path, ctx.targets, read_review_file)
        return _resolve_rows(got.file, got.candidates, got.rows, ctx, got.problems, what="entry")
    data, problem = read_review_file(path)
    if problem is not None:
        return [], [problem]
    kind = _kind(path, data)
    if kind == "xliff":
        return _load_xliff(name, data, ctx)
    if kind == "xlsx":
        try:
            keys, table, problems = read_workbook(data, name, ctx.targets, MAX_UNPACKED_BYTES)
        except XlsxError as e:
            return [], [Problem(name, e.line, e.message)]
        cands, rows, more = parse_table(name, keys, table, ctx.targets, hash_column=KEY_HASH)
        return _resolve_rows(name, cands, rows, ctx, problems + more)
    text, problems = decode(data, name)
    if text is None:
        return [], problems
    cands, rows, problems = parse_tsv(name, text, ctx.targets, ctx.english)
    return _resolve_rows(name, cands, rows, ctx, problems)


def _load_xliff(name: str, data: bytes, ctx: Context) -> tuple[list[Candidate], list[Problem]]:
    try:
        doc = read_xliff(data, name)
    except XliffError as e:
        return [], [Problem(name, e.line, e.message)]
    is_latin = doc.target == latin.LATIN and latin.SOURCE in ctx.targets  # never stored (_latin_edits)
    if doc.target not in ctx.targets and not is_latin:
        return [], [Problem(name, 1, f"target language {doc.target!r} is not one of the configured targets "
                                     f"({', '.join(ctx.targets)})")]
    cands: list[Candidate] = []
    rows: list[TableRow] = []
    for u in doc.units:
        if not u.translate:
            continue
        rows.append(TableRow(u.line, u.id, u.source))
        if u.target is not None:
            cands.append(Candidate(u.id, doc.target, u.target, (u.state or "") in XLIFF_APPROVE, name, u.line))
    return _resolve_rows(name, cands, rows, ctx, [], what="unit")


def _resolve_rows(name: str, cands: list[Candidate], rows: list[TableRow], ctx: Context,
                  problems: list[Problem], what: str = "row") -> tuple[list[Candidate], list[Problem]]:
    """Match every row to a current segment (id and English hash, else English hash in the
    document); drop duplicate rows; give the candidates the matched ids."""
    first_line: dict[str, int] = {}
    resolved: dict[tuple[int, str], str] = {}  # (line, id in the file) -> current id (XML may be one line)
    for r in rows:
        if r.seg_id in first_line:
            problems.append(Problem(name, r.line, f"duplicate {what} for {r.seg_id} (also line {first_line[r.seg_id]})"))
            continue
        first_line[r.seg_id] = r.line
        sid, problem = _match(name, r, ctx)
        if problem is not None:
            problems.append(problem)
        else:
            resolved[(r.line, r.seg_id)] = sid
    out = []
    for c in cands:
        sid = resolved.get((c.line, c.seg_id))
        if sid is not None:
            c.seg_id = sid
            out.append(c)
    return out, problems


def _match(name: str, r: TableRow, ctx: Context) -> tuple[str | None, Problem | None]:
    """The current segment id of a row (by id and English, else by English within the
    document: the move is noted), or the problem."""
    key = _english_key(r.en)
    seg = ctx.segments.get(r.seg_id)
    if seg is not None and key == _english_key(seg.text):
        found = seg
    else:
        doc = seg.doc_id if seg is not None else r.seg_id.rsplit(":", 2)[0]
        same = ctx.by_english.get((doc, key))
        if not same:
            if seg is None:
                where = "" if doc in ctx.docs else f" (no document {doc!r} in the corpus)"
                return None, Problem(name, r.line, f"unknown segment id {r.seg_id!r}: not in the current corpus{where}")
            return None, Problem(name, r.line, f"the English source of {r.seg_id} changed since export "
                                               f"(file: {r.en[:60]!r}, corpus now: {seg.text[:60]!r}) and is not "
                                               "elsewhere in the document; export again and redo this row")
        found = ctx.segments[same[0]]
        ctx.moved.append(f"{name}:{r.line}: {r.seg_id} -> {found.seg_id}")
    if r.en_hash is not None and r.en_hash != found.hash:
        return None, Problem(name, r.line, f"the English cell of {r.seg_id} was edited (it no longer matches the "
                                           "hidden key_hash column): the English is not for changing; export again")
    return found.seg_id, None


def _shown(ctx: Context, seg: Segment, sid: str, target: str) -> tuple[str | None, str | None]:
    """(MT, current approved fix) of a segment in one language."""
    exp = ctx.exported.get((sid, target))
    mt, current = (exp.mt, exp.approved) if exp is not None else (None, None)
    mem = ctx.approved.get((seg.doc_id, target, seg.hash))
    return mt, mem.text if mem is not None and not mem.stale else current


def _same(text: str, exported: str | None) -> bool:
    """``text`` is what was exported (as it is, or as an XML-based file had to write it)."""
    if exported is None:
        return False
    exported = exported.strip()
    return text == exported or text == xml_safe(exported).strip()


def _unchanged(c: Candidate, ctx: Context) -> bool:
    mt, current = _shown(ctx, ctx.segments[c.seg_id], c.seg_id, c.target)
    return any(_same(t, x) for t in _readings(c) for x in (current, mt))


def _readings(c: Candidate) -> list[str]:
    """The texts a cell may stand for: as written, and (a TSV cell) as the workflow exported it."""
    return [c.text.strip()] + ([c.as_exported.strip()] if c.as_exported is not None else [])


def _row_wide_approvals(cands: list[Candidate], ctx: Context) -> None:
    """An old single ``status`` approval applies to the languages edited in its row, or to
    all of them when none was."""
    rows: dict[tuple[str, int], list[Candidate]] = defaultdict(list)
    for c in cands:
        if c.row_wide and c.approve:
            rows[(c.file, c.line)].append(c)
    for row in rows.values():
        edited = [not _unchanged(c, ctx) for c in row]
        if any(edited):
            for c, e in zip(row, edited):
                c.approve = e


def context(config: Config, memory: Memory, reviewer: str | None = None) -> Context:
    """The :class:`Context` of a project now (reads the corpus and ``aligned/segments.parquet``)."""
    return Context(config.targets, current_segments(config), exported_rows(config.resolve(config.out)),
                   {f.key: f for f in memory.all()}, (reviewer or default_reviewer()).strip() or "reviewer")


def collect(paths: Sequence[Path], ctx: Context) -> tuple[list[Fix], int, list[Problem], list[str]]:
    """(fixes, unchanged count, problems, needs-work notes) of every file."""
    problems: list[Problem] = []
    cands: list[Candidate] = []
    for p in paths:
        c, probs = _load_file(Path(p), ctx)
        cands.extend(c)
        problems.extend(probs)
    cands = _latin_edits(cands, ctx, problems)
    return judge(cands, ctx, problems)


def _latin_edits(cands: list[Candidate], ctx: Context, problems: list[Problem]) -> list[Candidate]:
    """``cands`` without the Łacinka ones (a table's ``be-Latn`` column, a ``be-Latn``
    XLIFF): never a fix. One that differs from what any export of the segment wrote (the
    Łacinka of its MT or of an approved fix) was edited, and is refused with where to make
    the fix instead, so that the edit is not lost silently."""
    kept = []
    for c in cands:
        if c.target != latin.LATIN:
            kept.append(c)
            continue
        seg = ctx.segments[c.seg_id]
        exp = ctx.exported.get((c.seg_id, latin.SOURCE))
        texts = [exp.mt, exp.approved] if exp is not None else []
        texts.append(_shown(ctx, seg, c.seg_id, latin.SOURCE)[1])
        written = [latin.to_latin(t) for t in texts if t]
        if seg.skip or not c.text.strip() or any(_same(r, w) for r in _readings(c) for w in written):
            continue
        problems.append(Problem(c.file, c.line, f"{c.seg_id}: the {latin.LATIN} (Łacinka) text was edited; it is "
                                                f"converted from the Belarusian and never imported: make the fix in "
                                                f"the {latin.SOURCE} text (column {latin.SOURCE}, or the "
                                                f".{latin.SOURCE}.xlf file) and the Łacinka follows"))
    return kept


def judge(cands: list[Candidate], ctx: Context, problems: list[Problem] | None = None
          ) -> tuple[list[Fix], int, list[Problem], list[str]]:
    """(fixes, unchanged count, problems, needs-work notes) of candidates whose ids are
    current segments (a file's rows once matched, or an edit in ``review serve``)."""
    problems = [] if problems is None else problems
    bad_rows = {(p.file, p.line) for p in problems}
    cands = [c for c in cands if (c.file, c.line) not in bad_rows]
    _row_wide_approvals(cands, ctx)
    fixes: dict[tuple[str, str, str], tuple[Fix, Candidate]] = {}
    needs_work: list[str] = []
    unchanged = 0
    now = time.time()
    for c in cands:
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
        mt, current = _shown(ctx, seg, c.seg_id, c.target)
        if not text:
            if mt or current:
                problems.append(Problem(c.file, c.line, f"empty {c.target} translation for {c.seg_id}"))
            continue
        readings = _readings(c)
        same_as_current = any(_same(t, current) for t in readings)
        same_as_mt = any(_same(t, mt) for t in readings)
        if c.needs_work:
            if not (same_as_current or same_as_mt):
                needs_work.append(f"{c.file}:{c.line}: {c.seg_id} ({c.target})")
            continue
        if same_as_current or (same_as_mt and not (c.approve and current is None)):
            unchanged += 1
            continue
        if same_as_mt:  # the MT approved as it is
            text, why = (mt or "").strip(), None
        else:
            why = _fix_problem(c, text, seg, ctx)
        if why:
            problems.append(Problem(c.file, c.line, why))
            continue
        key = (seg.doc_id, c.target, seg.hash)
        fix = Fix(seg.doc_id, c.target, seg.hash, c.seg_id, seg.text, text, mt, ctx.reviewer, now, f"{c.file}:{c.line}")
        prev = fixes.get(key)
        if prev is not None:
            if prev[0].text != text:
                problems.append(Problem(c.file, c.line, f"conflicting {c.target} fixes for {c.seg_id}: "
                                                        f"{prev[1].file}:{prev[1].line} has a different text"))
            continue
        fixes[key] = (fix, c)
    return [f for f, _ in fixes.values()], unchanged, problems, needs_work


def text_fits(target: str, seg_id: str, text: str, seg: Segment) -> str | None:
    """Why ``text`` cannot be stored as any ``target`` text of ``seg`` (too long for its
    English, control characters), or None: for a fix and for a needs-work draft alike."""
    limit = cell_limit(seg.text)
    if len(text) > limit:
        return (f"the {target} text of {seg_id} has {len(text):,} characters, more than the {limit:,} a "
                f"translation of its {len(seg.text):,}-character English may have: pasted into the wrong cell?")
    return text_problem(text)


def _fix_problem(c: Candidate, text: str, seg: Segment, ctx: Context) -> str | None:
    """Why a new text cannot be the ``c.target`` fix of ``seg``, or None."""
    why = text_fits(c.target, c.seg_id, text, seg)
    if why:
        return why
    for other in ctx.targets if cyrillic_letters(text) >= MIN_LETTERS else ():  # names may be the same in both
        if other == c.target:
            continue
        mt, current = _shown(ctx, seg, c.seg_id, other)
        if _same(text, current) or _same(text, mt):
            which = "approved fix" if _same(text, current) else "machine translation"
            return (f"this {c.target} text is the {other} {which} of {c.seg_id}: swapped columns, or a file "
                    f"labelled {c.target} that holds {other}?")
    return language_problem(text, c.target, ctx.targets)


def import_files(config: Config, paths: Sequence[Path], reviewer: str | None = None, *, dry_run: bool = False,
                 store: Store | None = None, reporter: Reporter | None = None) -> ImportResult:
    """Validate every file, then store all fixes in one transaction; raise :class:`ImportRejected`
    (nothing written) if any problem was found. Holds the project lock throughout."""
    if not paths:
        raise InputError("no files to import")
    store_path = config.resolve(config.store)
    with project_lock(store_path, reporter):
        own = store is None
        store = store or Store(store_path)
        try:
            memory = Memory(store)
            ctx = context(config, memory, reviewer)
            fixes, unchanged, problems, needs_work = collect(paths, ctx)
            if problems:
                raise ImportRejected(sorted(problems, key=lambda p: (p.file, p.line)))
            result = ImportResult(fixes, unchanged, [str(p) for p in paths], moved=ctx.moved, needs_work=needs_work)
            if not dry_run and fixes:
                memory.put_many(fixes)
                result.written = True
            return result
        finally:
            if own:
                store.close()
