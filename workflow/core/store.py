"""The embedded store (SQLite): the translation cache; reviewers' fixes live beside it (memory.py).

Every chunk of translations is committed as soon as it is finished, so a run killed at
any point (Ctrl-C, kill -9) resumes without redoing finished work. SQLite's journal
(WAL mode) makes each commit atomic: a row is either fully there or not at all.

Opening tells two things apart. A store another process holds is *busy*
(:class:`StoreBusy`, exit code 5: "held by PID N (command), running since T", found from
the POSIX locks SQLite takes; waits ``WORKFLOW_LOCK_WAIT`` seconds first); nothing is
changed. A store that fails ``PRAGMA quick_check`` is *damaged*: it is copied untouched
to ``<store>.corrupt-<time>`` and rebuilt by :func:`salvage` from every row that can
still be read. No message advises moving or deleting a store: it holds the approved fixes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import struct
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from workflow.core.errors import StoreError
from workflow.core.langs import LANGUAGES
from workflow.core.lock import wait_seconds

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS translations (
    key TEXT PRIMARY KEY,       -- sha256 of model, revision, engine, settings, target, source
    model TEXT NOT NULL,
    revision TEXT NOT NULL,
    engine TEXT NOT NULL,
    settings TEXT NOT NULL,     -- JSON of the decoding settings that change the output
    target TEXT NOT NULL,
    source TEXT NOT NULL,
    text TEXT NOT NULL,
    logprob REAL,
    n_tokens INTEGER NOT NULL,
    split INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
"""


@dataclass(frozen=True)
class CacheKey:
    """What makes two translations interchangeable."""

    model: str
    revision: str
    engine: str
    settings: str  # canonical JSON
    target: str

    @staticmethod
    def make(model: str, revision: str, engine: str, settings: dict, target: str) -> "CacheKey":
        return CacheKey(model, revision, engine, json.dumps(settings, sort_keys=True), target)

    def for_source(self, source: str) -> str:
        payload = "\x1f".join((self.model, self.revision, self.engine, self.settings, self.target, source))
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedTranslation:
    text: str
    logprob: float | None
    n_tokens: int
    split: bool


class Store:
    def __init__(self, path: Path, *, shared: bool = False) -> None:
        """``shared``: the connection may be used from several threads, one at a time (the
        caller serialises; ``workflow review serve`` does)."""
        self.path = path
        self.warnings: list[str] = []  # what a repair did (shown as notes after the run)
        self.backup: Path | None = None  # copy of a damaged store, never deleted
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # a store this process already has open was checked then; checking again would
            # read the file with a plain open/close, and closing any descriptor of a file
            # drops every POSIX lock this process holds on it, the open connection's too:
            # SQLite would then take that connection's WAL for unused and delete it on close,
            # and its later commits would be lost (seen with `review serve` and an in-process
            # `review import`)
            damaged = (_opened(path) == 0 and path.exists() and path.stat().st_size > 0 and check_store(path))
        except OSError as e:
            raise StoreError(f"{path}: cannot create or open the store ({e.strerror})",
                             hint="Check the 'store' key in config.toml: it must be a file in a folder you can write to.") from None
        if damaged:
            self.backup, recovered = repair_store(path, damaged)
            self.warnings.append(repair_note(path, damaged, self.backup, recovered))
        try:
            self.db = sqlite3.connect(str(path), timeout=wait_seconds(), isolation_level=None, check_same_thread=not shared)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as e:
            raise open_error(path, e) from None
        _OPEN[_key(path)] = _opened(path) + 1
        self._release = weakref.finalize(self, _release, _key(path))  # at close, or when dropped unclosed

    def close(self) -> None:
        self._release()
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- translation cache
    def get_translations(self, key: CacheKey, sources: Sequence[str]) -> dict[str, CachedTranslation]:
        found: dict[str, CachedTranslation] = {}
        unique = list(dict.fromkeys(sources))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            keys = {key.for_source(s): s for s in chunk}
            marks = ",".join("?" * len(keys))
            rows = self.db.execute(
                f"SELECT key, text, logprob, n_tokens, split FROM translations WHERE key IN ({marks})", list(keys)
            ).fetchall()
            for k, text, lp, n, split in rows:
                found[keys[k]] = CachedTranslation(text, lp, n, bool(split))
        return found

    def put_translations(self, key: CacheKey, items: Iterable[tuple[str, str, float | None, int, bool]]) -> None:
        """Insert (source, text, logprob, n_tokens, split) rows in one transaction."""
        now = time.time()
        rows = [
            (key.for_source(src), key.model, key.revision, key.engine, key.settings, key.target, src, text, lp, n, int(split), now)
            for src, text, lp, n, split in items
        ]
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO translations VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)

    def count_translations(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM translations").fetchone()[0]

    def transaction(self):
        return _Transaction(self.db)


_OPEN: dict[str, int] = {}  # real path -> Stores open on it in this process


def _key(path: Path) -> str:
    return os.path.realpath(path)


def _opened(path: Path) -> int:
    return _OPEN.get(_key(path), 0)


def _release(key: str) -> None:
    _OPEN[key] = max(0, _OPEN.get(key, 0) - 1)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self):
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            path = next((Path(f) for _, name, f in self.db.execute("PRAGMA database_list") if name == "main"), None)
            raise open_error(path or Path("store"), e) from None
        return self.db

    def __exit__(self, exc_type, *rest):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


# ---------------------------------------------------------------- busy or damaged


class StoreBusy(StoreError):
    """Another process holds a lock on the store: nothing is wrong with it."""

    exit_code = 5


def lock_holder(path: Path) -> str | None:
    """``PID N (command), running since T`` of a process holding a POSIX lock on the store
    (SQLite locks the file, and its ``-shm`` in WAL mode), or None when none is seen."""
    for candidate in (path, Path(f"{path}-shm"), Path(f"{path}-wal")):
        try:
            fd = os.open(candidate, os.O_RDWR)
        except OSError:
            continue
        try:
            # struct flock (Linux): short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid
            query = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
            l_type, _, _, _, pid = struct.unpack("hhqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, query))
        except OSError:
            continue
        finally:
            os.close(fd)
        if l_type != fcntl.F_UNLCK and pid > 0:
            return _describe_process(pid)
    return None


def _describe_process(pid: int) -> str:
    what = f"PID {pid}"
    with contextlib.suppress(OSError, ValueError, IndexError):
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        if command:
            what += f" ({command[:80]})"
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime"))
        started = boot + ticks / os.sysconf("SC_CLK_TCK")
        what += f", running since {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(started))}"
    return what


def open_error(path: Path, error: sqlite3.Error) -> StoreError:
    """The message for a store SQLite would not open or write: busy (another process holds
    it) or not usable; neither advises anything that would hide the approved fixes."""
    text = str(error)
    if "locked" in text or "busy" in text:
        holder = lock_holder(path)
        return StoreBusy(
            f"{path}: the store is busy, held by {holder or 'another process'}; waited {wait_seconds():.0f} s",
            hint="Wait for that process to finish or close it (a sqlite3 shell, a database browser, another "
            "workflow command), then run again; nothing was changed. WORKFLOW_LOCK_WAIT sets how long to wait.")
    return StoreError(
        f"{path}: the store cannot be used ({text})",
        hint="Nothing was changed. Keep the file: it holds the translation cache and the reviewers' approved fixes. "
        "Check the 'store' key in config.toml, the file's permissions and free space; "
        "`workflow store restore COPY` brings fixes back from any copy of it.")


def check_store(path: Path) -> str | None:
    """None if the SQLite file passes ``PRAGMA quick_check`` (or is merely locked: the
    real open says so) and its header is one this module writes, else what is wrong."""
    try:
        with path.open("rb") as f:
            problem = header_problem(f.read(64 * 65536))
    except OSError:
        problem = None  # the real open says what is wrong with the file
    if problem:
        return problem
    try:
        db = sqlite3.connect(str(path), timeout=1.0)
        try:
            rows = [r[0] for r in db.execute("PRAGMA quick_check").fetchall()]
        finally:
            db.close()
    except sqlite3.OperationalError:
        return None  # locked, busy, cannot open: not damage; the real open reports it
    except sqlite3.DatabaseError as e:  # "file is not a database", "disk image is malformed"
        return str(e)
    if rows == ["ok"]:
        return None
    lines = [line for r in rows for line in str(r).splitlines() if line and not line.startswith("***")]
    return "; ".join(lines[:2]) + (f" (+{len(lines) - 2} more problems)" if len(lines) > 2 else "")


@dataclass(frozen=True)
class Recovered:
    """What salvage got out of one table."""

    rows: int
    complete: bool  # no unreadable stretch was met


def repair_store(path: Path, problem: str) -> tuple[Path, dict[str, Recovered]]:
    """Back the damaged file up (with its -wal/-shm) as ``<name>.corrupt-<time>``, copy
    every row that can still be read into a fresh file (:func:`salvage`) and put that in
    its place. Returns (backup, what was recovered per table). The backup is never deleted."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while backup.exists():
        backup, n = path.with_name(f"{path.name}.corrupt-{stamp}-{n}"), n + 1
    try:
        shutil.copy2(path, backup)
        for side in ("-wal", "-shm"):
            if Path(f"{path}{side}").exists():
                shutil.copy2(f"{path}{side}", f"{backup}{side}")
    except OSError as e:
        raise StoreError(f"{path}: the store is damaged ({problem}) and could not be backed up ({e.strerror})",
                         hint="Free some space or fix the folder's permissions, then rerun; nothing was changed.") from None
    fresh = path.with_name(f"{path.name}.rebuild")
    recovered = salvage(backup, fresh)
    for side in ("-wal", "-shm"):  # they belong to the damaged file (backed up above)
        Path(f"{path}{side}").unlink(missing_ok=True)
    os.replace(fresh, path)
    return backup, recovered


def repair_note(path: Path, problem: str, backup: Path, recovered: dict[str, Recovered]) -> str:
    counts = ", ".join(f"{t}: {r.rows}{'' if r.complete else ' (damaged: some may be missing)'}"
                       for t, r in recovered.items() if t != LOST)
    whole = bool(recovered) and all(r.complete for r in recovered.values())
    note = (f"{path}: the store was damaged ({problem}); recovered into a rebuilt store ({counts or 'nothing could be read'}); "
            f"the damaged original is kept untouched as {backup}")
    if LOST in recovered:
        note += (f"; {recovered[LOST].rows} row(s) whose table could not be told are kept in its table {LOST}")
    if not whole:
        note += (f"; lost translations are redone; `workflow store restore {backup}` files every approved fix that "
                 "can still be read back where it belongs")
    return note


def salvage(source: Path, dest: Path) -> dict[str, Recovered]:
    """Copy every row that can be read from the SQLite file ``source`` (damaged or not;
    never written) into a new database at ``dest``; rows per table.

    Tries, in turn, copies of ``source`` with (1) only a truncation made good and its WAL
    replayed, (2) the 16-byte SQLite header restored, (3) the whole 100-byte header
    rebuilt (page size found from the pages), reading each table row by row past damaged
    stretches, and keeps the copy that gave most rows. Where that still met damage, every
    table leaf page of the file is read directly (:func:`_scan_into`), also pages no table
    reaches any more; rows whose table cannot be told are kept in ``lost_and_found``,
    never dropped."""
    data = source.read_bytes()
    wal = Path(f"{source}-wal")
    wal_data = wal.read_bytes() if wal.is_file() and wal.stat().st_size else None
    work = dest.with_name(dest.name + ".work")
    trial = dest.with_name(dest.name + ".trial")
    best: dict[str, Recovered] | None = None
    try:
        for copy, with_wal in _readable_copies(data, wal_data is not None):
            _write_work(work, copy, wal_data if with_wal else None)
            trial.unlink(missing_ok=True)
            found = _salvage_rows(work, trial)
            if found is not None and (best is None or _total(found) > _total(best)):
                os.replace(trial, dest)
                best = found
            if best is not None and all(r.complete for r in best.values()):
                break
        if best is None:
            dest.unlink(missing_ok=True)
            sqlite3.connect(str(dest)).close()  # not even a schema could be read: the scan below has the rows
            best = {}
        if not (best and all(r.complete for r in best.values())):
            best = _scan_into(data, dest, best)
    finally:
        for p in (work, trial):
            for side in ("", "-wal", "-shm", "-journal"):
                Path(f"{p}{side}").unlink(missing_ok=True)
    return best


def _total(found: dict[str, Recovered]) -> int:
    return sum(r.rows for r in found.values())


def _write_work(work: Path, data: bytes, wal: bytes | None) -> None:
    for side in ("-wal", "-shm"):
        Path(f"{work}{side}").unlink(missing_ok=True)
    work.write_bytes(data)
    if wal is not None:
        Path(f"{work}-wal").write_bytes(wal)


MAGIC = b"SQLite format 3\x00"
_BTREE_PAGE_TYPES = {2, 5, 10, 13}


def header_problem(data: bytes) -> str | None:
    """What is wrong in the 100-byte header of a store, or None. Our stores are always
    UTF-8, without reserved bytes or auto-vacuum: a damaged header that SQLite would still
    accept (text encoding 2 reads every UTF-8 text as UTF-16) would garble every row
    without a word from ``quick_check``."""
    if len(data) < 100 or not data.startswith(MAGIC):
        return None  # SQLite itself says "file is not a database"
    page = _page_size(data)
    if page is None:
        return "damaged header: invalid page size"
    field = lambda a, b: int.from_bytes(data[a:b], "big")  # noqa: E731
    if field(56, 60) != 1:
        return f"damaged header: text encoding field is {field(56, 60)}, the store is UTF-8"
    if data[18] not in (1, 2) or data[19] not in (1, 2) or data[20] != 0 or data[21:24] != b"\x40\x20\x20" or not 1 <= field(44, 48) <= 4 or field(52, 56) or field(64, 68):
        return "damaged header: fields that are fixed in every store differ"
    guess = _guess_page_size(data)
    if _page_score(data, page) < _page_score(data, guess) - 0.25:
        return f"damaged header: page size field says {page}, the pages say {guess}"
    return None


def _sane(data: bytearray) -> bytearray:
    """The header fields every store of ours has (UTF-8, schema format 4, no reserved
    bytes, no auto-vacuum) set, whatever damage did to them."""
    data[20:24] = bytes((0, 64, 32, 32))
    if not 1 <= int.from_bytes(data[44:48], "big") <= 4:
        data[44:48] = (4).to_bytes(4, "big")
    data[52:56] = bytes(4)
    data[56:60] = (1).to_bytes(4, "big")
    data[64:68] = bytes(4)
    return data


def _readable_copies(data: bytes, has_wal: bool) -> Iterator[tuple[bytes, bool]]:
    """Ever more invasive copies of a damaged file that SQLite may open: (bytes, replay the WAL)."""
    if len(data) >= 100 and _page_size(data) is not None:
        page = _page_size(data)
        if _page_score(data, page) < _page_score(data, _guess_page_size(data)) - 0.25:
            page = _guess_page_size(data)  # the page size field itself was hit
        fixed = _sane(bytearray(MAGIC + data[16:]))  # the 16-byte magic restored when it was lost
        fixed[16:18] = (1 if page == 65536 else page).to_bytes(2, "big")
        if has_wal and data.startswith(MAGIC):
            yield bytes(fixed), True
        yield _padded(fixed, page), False
    yield _rebuilt_header(data), False


def _page_size(data: bytes) -> int | None:
    if len(data) < 100:
        return None
    size = int.from_bytes(data[16:18], "big")
    size = 65536 if size == 1 else size
    return size if size >= 512 and size & (size - 1) == 0 else None


def _padded(data: bytearray, page: int) -> bytes:
    """A truncated file padded to whole pages, its page count set to what is there, WAL off."""
    if len(data) % page:
        data += bytes(page - len(data) % page)
    data[28:32] = (len(data) // page).to_bytes(4, "big")
    data[18] = data[19] = 1
    return bytes(data)


_WINDOW = 64 * 65536  # bytes looked at to tell the page size


def _page_score(data: bytes, size: int) -> float:
    """The share of page starts at this size (after page 1, in the first _WINDOW bytes)
    that look like a b-tree page. Multiples of the true size score as high as it does."""
    starts = range(size, min(len(data), _WINDOW), size)
    return sum(1 for i in starts if data[i] in _BTREE_PAGE_TYPES) / len(starts) if starts else 0.0


def _guess_page_size(data: bytes) -> int:
    """The smallest page size whose page starts look like b-tree pages as often as the
    best one's (4096 when nothing can be told)."""
    sizes = (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536)
    scores = {s: _page_score(data, s) for s in sizes}
    best = max(scores.values())
    return 4096 if best == 0 else next(s for s in sizes if scores[s] >= best - 0.05)


def _rebuilt_header(data: bytes) -> bytes:
    """``data`` with a fresh 100-byte database header: page size from the pages, UTF-8,
    schema format 4, no freelist (what cannot be known is left at SQLite's defaults)."""
    page = _guess_page_size(data)
    header = bytearray(100)
    header[0:16] = MAGIC
    header[16:18] = (1 if page == 65536 else page).to_bytes(2, "big")
    header[18] = header[19] = 1
    header[21:24] = bytes((64, 32, 32))
    header[24:28] = (1).to_bytes(4, "big")  # change counter, = version-valid-for below
    header[40:44] = (1).to_bytes(4, "big")  # schema cookie
    header[44:48] = (4).to_bytes(4, "big")  # schema format
    header[56:60] = (1).to_bytes(4, "big")  # UTF-8
    header[92:96] = (1).to_bytes(4, "big")
    header[96:100] = (3040001).to_bytes(4, "big")
    return _padded(bytearray(bytes(header) + data[100:]), page)


def _salvage_rows(damaged: Path, fresh: Path) -> dict[str, Recovered] | None:
    """Copy what can be read from ``damaged`` into a new database at ``fresh``; None when
    not even its schema can be read."""
    try:
        src = sqlite3.connect(str(damaged))
        objects = src.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
    except sqlite3.DatabaseError:
        return None
    out = sqlite3.connect(str(fresh), isolation_level=None)
    recovered: dict[str, Recovered] = {}
    try:
        tables = [(name, sql) for kind, name, sql in objects if kind == "table" and not name.startswith("sqlite_")]
        for name, sql in tables:
            try:
                out.execute(sql)
            except sqlite3.DatabaseError:
                continue
            recovered[name] = _copy_rows(src, out, name)
        for kind, name, sql in objects:
            if kind in ("index", "view", "trigger"):
                try:
                    out.execute(sql)
                except sqlite3.DatabaseError:
                    pass  # e.g. a unique index the salvaged rows no longer satisfy
    finally:
        src.close()
        out.close()
    return recovered


def _copy_rows(src: sqlite3.Connection, out: sqlite3.Connection, table: str) -> Recovered:
    """Rows of ``table`` in rowid order; on a damaged page, skip ahead and go on."""
    quoted = _quote(table)
    names = [r[1] for r in out.execute(f"PRAGMA table_info({quoted})")]
    target = names.index("target") if "target" in names else None  # a row of another table read through damage
    copied, last, misses = 0, None, 0
    out.execute("BEGIN")
    try:
        while misses < 64:
            query = f"SELECT rowid, * FROM {quoted}" + ("" if last is None else " WHERE rowid > ?") + " ORDER BY rowid"
            try:
                for row in src.execute(query, () if last is None else (last,)):
                    last = row[0]
                    if target is not None and row[1 + target] not in LANGUAGES:
                        misses += 1  # not a row of this table: never filed under it
                        continue
                    marks = ",".join("?" * (len(row) - 1))
                    try:
                        copied += out.execute(f"INSERT OR IGNORE INTO {quoted} VALUES ({marks})", row[1:]).rowcount
                    except sqlite3.DatabaseError:
                        misses += 1
                break
            except sqlite3.DatabaseError:
                misses += 1
                last = (last or 0) + 2 ** min(misses, 20)  # jump over the unreadable stretch
    except sqlite3.DatabaseError:
        misses += 1  # WITHOUT ROWID tables and the like: keep what was copied
    finally:
        out.execute("COMMIT")
    return Recovered(copied, misses == 0)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


LOST = "lost_and_found"  # rows found on a page whose table could not be told


def _scan_into(data: bytes, dest: Path, found: dict[str, Recovered]) -> dict[str, Recovered]:
    """Read every row stored on every table leaf page of ``data`` (:func:`_leaf_records`)
    into ``dest``: into the one table of ``dest`` whose columns it fits (same number,
    declared types, NOT NULL; primary keys drop what the row walk already copied), else
    into ``lost_and_found`` (columns ``pgno``, ``nfield``, ``c0`` ...)."""
    db = sqlite3.connect(str(dest), isolation_level=None)
    out = dict(found)
    try:
        db.executescript(SCHEMA)  # the cache's own tables are known even when the schema page is not
        shapes = {t: [(name, typ.upper(), bool(notnull)) for _, name, typ, notnull, _, _ in db.execute(f"PRAGMA table_info({_quote(t)})")]
                  for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
        shapes.pop(LOST, None)
        lost_width = 0
        db.execute("BEGIN")
        for pgno, values in _leaf_records(data):
            if len(values) == 5 and values[0] in ("table", "index", "view", "trigger"):
                continue  # a row of the schema itself
            fits = [t for t, cols in shapes.items() if _fits(values, cols)]
            if len(fits) == 1:
                table = fits[0]
                added = db.execute(f"INSERT OR IGNORE INTO {_quote(table)} VALUES ({','.join('?' * len(values))})",
                                   values).rowcount
                old = out.get(table, Recovered(0, False))
                out[table] = Recovered(old.rows + added, old.complete)
                continue
            if len(values) > lost_width:
                if not lost_width:
                    db.execute(f"CREATE TABLE IF NOT EXISTS {LOST} (pgno INTEGER, nfield INTEGER)")
                for i in range(lost_width, len(values)):
                    with contextlib.suppress(sqlite3.OperationalError):  # a column an earlier repair added
                        db.execute(f"ALTER TABLE {LOST} ADD COLUMN c{i}")
                lost_width = len(values)
            cols = ", ".join(["pgno", "nfield", *(f"c{i}" for i in range(len(values)))])
            db.execute(f"INSERT INTO {LOST} ({cols}) VALUES ({','.join('?' * (len(values) + 2))})", (pgno, len(values), *values))
            old = out.get(LOST, Recovered(0, False))
            out[LOST] = Recovered(old.rows + 1, False)
        db.execute("COMMIT")
    finally:
        db.close()
    return out


def _fits(values: list, cols: list[tuple[str, str, bool]]) -> bool:
    """Whether a scanned row can belong to a table of these columns: same number, declared
    types, NOT NULL, and a ``target`` column holding a language code (rows of one table
    must never be filed into another whose types they happen to match: a translation row
    read as an approved fix would be a fix nobody made)."""
    if len(values) != len(cols):
        return False
    for v, (name, typ, notnull) in zip(values, cols):
        if name == "target" and v not in LANGUAGES:
            return False
        if v is None:
            if notnull:
                return False
        elif "INT" in typ and not isinstance(v, int):
            return False
        elif ("CHAR" in typ or "TEXT" in typ or "CLOB" in typ) and not isinstance(v, str):
            return False
        elif any(x in typ for x in ("REAL", "FLOA", "DOUB")) and not isinstance(v, (int, float)):
            return False
    return True


# The page scan below reads SQLite's documented file format (sqlite.org/fileformat2.html)
# by hand: Python's sqlite3 has no recovery API, and the sqlite3 shell's .recover (3.40)
# gives up when the schema page is damaged.

def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = 0
    for k in range(9):
        b = buf[i + k]
        if k == 8:
            return (value << 8) | b, i + 9
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, i + k + 1
    raise IndexError  # pragma: no cover - the loop always returns


def _leaf_records(data: bytes) -> Iterator[tuple[int, list]]:
    """(page number, column values) of every cell on every table leaf page that decodes."""
    page = _page_size(data) if data.startswith(MAGIC) else None
    page = page or _guess_page_size(data)
    usable = page - (data[20] if data.startswith(MAGIC) and data[20] < 64 else 0)
    n_pages = len(data) // page
    for pgno in range(1, n_pages + 1):
        base = (pgno - 1) * page
        head = base + (100 if pgno == 1 else 0)
        if data[head] != 13:
            continue
        n_cells = int.from_bytes(data[head + 3:head + 5], "big")
        for c in range(min(n_cells, page // 4)):
            with contextlib.suppress(IndexError, ValueError, UnicodeDecodeError, struct.error):
                off = base + int.from_bytes(data[head + 8 + 2 * c:head + 10 + 2 * c], "big")
                payload_size, i = _varint(data, off)
                _, i = _varint(data, i)  # rowid
                payload = _payload(data, i, payload_size, page, usable, n_pages)
                if payload is not None:
                    values = _record(payload)
                    if values is not None:
                        yield pgno, values


def _payload(data: bytes, i: int, size: int, page: int, usable: int, n_pages: int) -> bytes | None:
    x = usable - 35
    if size <= x:
        return data[i:i + size]
    m = ((usable - 12) * 32 // 255) - 23
    k = m + ((size - m) % (usable - 4))
    local = k if k <= x else m
    out = bytearray(data[i:i + local])
    nxt = int.from_bytes(data[i + local:i + local + 4], "big")
    seen = set()
    while len(out) < size:
        if not 1 <= nxt <= n_pages or nxt in seen:
            return None
        seen.add(nxt)
        start = (nxt - 1) * page
        nxt = int.from_bytes(data[start:start + 4], "big")
        out += data[start + 4:start + usable][: size - len(out)]
    return bytes(out)


def _record(payload: bytes) -> list | None:
    header_size, i = _varint(payload, 0)
    if not 1 <= header_size <= len(payload):
        return None
    types = []
    while i < header_size:
        t, i = _varint(payload, i)
        types.append(t)
    pos, values = header_size, []
    for t in types:
        if t == 0:
            values.append(None)
        elif 1 <= t <= 6:
            n = (1, 2, 3, 4, 6, 8)[t - 1]
            values.append(int.from_bytes(payload[pos:pos + n], "big", signed=True))
            pos += n
        elif t == 7:
            values.append(struct.unpack(">d", payload[pos:pos + 8])[0])
            pos += 8
        elif t in (8, 9):
            values.append(t - 8)
        elif t >= 12:
            n = (t - 12) // 2
            raw = payload[pos:pos + n]
            values.append(raw.decode("utf-8") if t % 2 else bytes(raw))
            pos += n
        else:
            return None  # 10 and 11 are reserved
        if pos > len(payload):
            return None
    return values if pos == len(payload) else None
