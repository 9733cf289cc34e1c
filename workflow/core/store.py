"""The embedded store (SQLite): the translation cache; reviewers' fixes live beside it (memory.py).

Every chunk of translations is committed as soon as it is finished, so a run killed at
any point (Ctrl-C, kill -9) resumes without redoing finished work. SQLite's journal
(WAL mode) makes each commit atomic: a row is either fully there or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from workflow.core.errors import StoreError

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
    def __init__(self, path: Path) -> None:
        self.path = path
        self.warnings: list[str] = []  # what a repair did (shown as notes after the run)
        self.backup: Path | None = None  # copy of a damaged store, never deleted
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > 0:
            problem = check_store(path)
            if problem:
                self.backup, recovered = repair_store(path, problem)
                self.warnings.append(
                    f"{path}: the store was damaged ({problem}); the damaged file is kept as {self.backup}; "
                    f"rebuilt with the rows that could be read ("
                    + (", ".join(f"{t}: {n}" for t, n in recovered.items()) or "none")
                    + "); lost translations are redone, approved fixes stay in the backup"
                )
        try:
            self.db = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{path}: the store is unreadable ({e})", hint="Move the file aside and rerun; translations will be redone.") from None

    def close(self) -> None:
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


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, *rest):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


# ---------------------------------------------------------------- corruption and repair


def check_store(path: Path) -> str | None:
    """None if the SQLite file passes ``PRAGMA quick_check``, else what is wrong."""
    try:
        db = sqlite3.connect(str(path), timeout=30.0)
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


def repair_store(path: Path, problem: str) -> tuple[Path, dict[str, int]]:
    """Back the damaged file up (with its -wal/-shm) as ``<name>.corrupt-<time>``, copy
    every readable row of every table (translations, approved fixes, anything a later
    module added) into a fresh file, and put that in its place. Returns (backup, rows
    recovered per table). The backup is never deleted."""
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
    fresh.unlink(missing_ok=True)
    work = _readable_copy(backup, path.with_name(f"{path.name}.salvage"))
    try:
        recovered = _salvage(work, fresh)
    finally:
        work.unlink(missing_ok=True)
    for side in ("-wal", "-shm"):  # they belong to the damaged file (backed up above)
        Path(f"{path}{side}").unlink(missing_ok=True)
    os.replace(fresh, path)
    return backup, recovered


def _readable_copy(backup: Path, work: Path) -> Path:
    """A copy of the damaged file that SQLite will open: a truncated file is padded to
    whole pages, its header's page count set to what is really there, and WAL mode
    turned off (the backup itself is not touched)."""
    data = bytearray(backup.read_bytes())
    if len(data) >= 100 and data.startswith(b"SQLite format 3\x00"):
        page = int.from_bytes(data[16:18], "big")
        page = 65536 if page == 1 else page
        if page >= 512 and page & (page - 1) == 0:
            if len(data) % page:
                data += bytes(page - len(data) % page)
            data[28:32] = (len(data) // page).to_bytes(4, "big")
            data[18] = data[19] = 1
    work.write_bytes(bytes(data))
    return work


def _salvage(damaged: Path, fresh: Path) -> dict[str, int]:
    """Copy what can be read from ``damaged`` into a new database at ``fresh``."""
    out = sqlite3.connect(str(fresh), isolation_level=None)
    recovered: dict[str, int] = {}
    try:
        try:
            src = sqlite3.connect(f"file:{damaged}?mode=ro", uri=True)
            objects = src.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
        except sqlite3.DatabaseError:
            return recovered  # not even the schema is readable: start empty
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
        src.close()
    finally:
        out.close()
    return recovered


def _copy_rows(src: sqlite3.Connection, out: sqlite3.Connection, table: str) -> int:
    """Rows of ``table`` in rowid order; on a damaged page, skip ahead and go on."""
    quoted = '"' + table.replace('"', '""') + '"'
    copied, last, misses = 0, None, 0
    out.execute("BEGIN")
    try:
        while misses < 64:
            query = f"SELECT rowid, * FROM {quoted}" + ("" if last is None else " WHERE rowid > ?") + " ORDER BY rowid"
            try:
                for row in src.execute(query, () if last is None else (last,)):
                    last = row[0]
                    marks = ",".join("?" * (len(row) - 1))
                    try:
                        copied += out.execute(f"INSERT OR IGNORE INTO {quoted} VALUES ({marks})", row[1:]).rowcount
                    except sqlite3.DatabaseError:
                        pass
                break
            except sqlite3.DatabaseError:
                misses += 1
                last = (last or 0) + 2 ** min(misses, 20)  # jump over the unreadable stretch
    except sqlite3.DatabaseError:
        pass  # WITHOUT ROWID tables and the like: keep what was copied
    finally:
        out.execute("COMMIT")
    return copied
