"""``workflow store restore BACKUP``: bring approved fixes (and cached translations) back
from a copy of a store into the live one, losing nothing on either side.

``BACKUP`` is any copy of a store: the ``<store>.corrupt-<time>`` file a repair kept, a
copy a user made, damaged or not. It is read with the store's salvage
(:func:`workflow.core.store.salvage`: header repair, row walk past damaged stretches,
page scan), so whatever can be read is used; rows a repair could not file (its
``lost_and_found``) go into the approved tables when they have exactly their shape.
Then, under the project lock and in one transaction:

- a fix the live store does not have is added;
- a fix it has with the same text is left alone;
- a fix it has with a different text: the newer approval stays current, the other goes
  to ``approved_history`` (never dropped);
- history rows and cached translations the live store lacks are added.

The backup itself is never written.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from workflow.core.errors import InputError
from workflow.core.lock import project_lock
from workflow.core.store import LOST, Store, salvage
from workflow.review.memory import COLUMNS, Memory

_N = len(COLUMNS.split(", "))  # columns of a fix (approved); approved_history adds ``superseded``


@dataclass
class RestoreResult:
    added: int = 0  # fixes the live store did not have
    same: int = 0  # fixes it already had with the same text
    to_history: int = 0  # differing fixes: the older approval of each went to approved_history
    history: int = 0  # approved_history rows added
    translations: int = 0  # cached translations added
    read: int = 0  # fixes read from the backup


def restore(store_path: Path, backup: Path, reporter=None) -> RestoreResult:
    """Merge the approved fixes of ``backup`` into the store at ``store_path`` (see the module)."""
    if not backup.is_file():
        raise InputError(f"{backup}: no such file" if not backup.exists() else f"{backup}: not a regular file")
    if store_path.exists() and backup.resolve() == store_path.resolve():
        raise InputError(f"{backup}: this is the store itself; give a copy or a {store_path.name}.corrupt-* backup")
    with project_lock(store_path, reporter), tempfile.TemporaryDirectory(dir=store_path.parent) as tmp:
        copy = Path(tmp) / "backup.sqlite"
        salvage(backup, copy)
        with Store(store_path) as store:
            Memory(store)  # the approved tables exist in the live store
            db = store.db
            db.execute("ATTACH DATABASE ? AS bak", (str(copy),))
            try:
                with store.transaction():
                    _file_lost(db)
                    return _merge(db)
            finally:
                db.execute("DETACH DATABASE bak")


def _has(db, table: str) -> bool:
    return db.execute("SELECT 1 FROM bak.sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone() is not None


def _file_lost(db) -> None:
    """Rows a repair could not place, with exactly the shape of a fix (or a history row):
    text columns text, ``created`` a number, ``stale`` 0/1, into a scratch copy of those tables."""
    db.execute(f"CREATE TEMP TABLE lost_fixes AS SELECT {COLUMNS} FROM main.approved WHERE 0")
    db.execute(f"CREATE TEMP TABLE lost_history AS SELECT {COLUMNS}, superseded FROM main.approved_history WHERE 0")
    if not _has(db, LOST):
        return
    width = {r[1] for r in db.execute(f"PRAGMA bak.table_info({LOST})")}
    for table, n in (("lost_fixes", _N), ("lost_history", _N + 1)):
        if f"c{n - 1}" not in width:
            continue
        cols = [f"c{i}" for i in range(n)]
        text = [0, 1, 2, 3, 4, 5, 7, 9]  # doc_id, target, source_hash, seg_id, source, text, reviewer, origin
        shape = " AND ".join([f"nfield = {n}"] + [f"typeof(c{i}) = 'text'" for i in text]
                             + ["typeof(c6) IN ('text', 'null')", "typeof(c8) IN ('real', 'integer')",
                                "c10 IN (0, 1)", "typeof(c11) IN ('real', 'integer', 'null')"]
                             + (["typeof(c12) IN ('real', 'integer')"] if n > _N else []))
        db.execute(f"INSERT INTO temp.{table} SELECT {', '.join(cols)} FROM bak.{LOST} WHERE {shape}")


def _merge(db) -> RestoreResult:
    result = RestoreResult()
    sources = ["temp.lost_fixes"] + (["bak.approved"] if _has(db, "approved") else [])
    for src in sources:
        rows = db.execute(f"SELECT {COLUMNS} FROM {src}").fetchall()
        result.read += len(rows)
        for row in rows:
            mine = db.execute(f"SELECT {COLUMNS} FROM main.approved WHERE doc_id = ? AND target = ? AND source_hash = ?",
                              row[:3]).fetchone()
            if mine is None:
                db.execute(f"INSERT INTO main.approved ({COLUMNS}) VALUES ({','.join('?' * _N)})", row)
                result.added += 1
            elif mine[5] == row[5]:
                result.same += 1
            else:
                newer, older = (mine, row) if mine[8] >= row[8] else (row, mine)
                superseded = newer[8]
                if not _in_history(db, older):
                    db.execute(f"INSERT INTO main.approved_history ({COLUMNS}, superseded) VALUES ({','.join('?' * (_N + 1))})",
                               (*older, superseded))
                if newer is row:
                    db.execute(f"INSERT OR REPLACE INTO main.approved ({COLUMNS}) VALUES ({','.join('?' * _N)})", row)
                result.to_history += 1
    for src in ["temp.lost_history"] + (["bak.approved_history"] if _has(db, "approved_history") else []):
        for row in db.execute(f"SELECT {COLUMNS}, superseded FROM {src}").fetchall():
            if not _in_history(db, row[:_N]):
                db.execute(f"INSERT INTO main.approved_history ({COLUMNS}, superseded) VALUES ({','.join('?' * (_N + 1))})", row)
                result.history += 1
    if _has(db, "translations"):
        result.translations = db.execute("INSERT OR IGNORE INTO main.translations SELECT * FROM bak.translations").rowcount
    return result


def _in_history(db, fix: tuple) -> bool:
    return db.execute(
        "SELECT 1 FROM main.approved_history WHERE doc_id = ? AND target = ? AND source_hash = ? AND text = ? AND created = ?",
        (fix[0], fix[1], fix[2], fix[5], fix[8])).fetchone() is not None
