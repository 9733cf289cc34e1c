"""Translation memory of reviewers' approved fixes, kept in the embedded store (SQLite).

A fix is keyed by (document, target language, hash of the English source): the same
sentence in the same document gets the same fix wherever it moves. Nothing here ever
deletes a row:

- a fix whose English source no longer occurs in its document is marked ``stale``
  (and unmarked if the sentence comes back); ``apply_review`` offers it as a fuzzy
  match for the changed sentence;
- approving a new text for a key that already has a fix copies the old fix into
  ``approved_history`` first, so every earlier version stays readable.

The tables live in the same SQLite file as the translation cache (``workflow.core.store``)
and are created here with ``CREATE TABLE IF NOT EXISTS``; the store module need not
know about them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields

from workflow.core.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS approved (
    doc_id TEXT NOT NULL,
    target TEXT NOT NULL,
    source_hash TEXT NOT NULL,  -- workflow.corpus.segment.text_hash of the English source
    seg_id TEXT NOT NULL,       -- where the segment was when it was approved
    source TEXT NOT NULL,       -- the English source it was approved for
    text TEXT NOT NULL,         -- the approved translation
    mt_replaced TEXT,           -- the machine translation it replaced (NULL if unknown)
    reviewer TEXT NOT NULL,
    created REAL NOT NULL,      -- unix time of approval
    origin TEXT NOT NULL,       -- file:line it was imported from
    stale INTEGER NOT NULL DEFAULT 0,  -- 1: the English source is no longer in the document
    stale_since REAL,
    PRIMARY KEY (doc_id, target, source_hash)
);
CREATE TABLE IF NOT EXISTS approved_history (
    doc_id TEXT NOT NULL,
    target TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    seg_id TEXT NOT NULL,
    source TEXT NOT NULL,
    text TEXT NOT NULL,
    mt_replaced TEXT,
    reviewer TEXT NOT NULL,
    created REAL NOT NULL,
    origin TEXT NOT NULL,
    stale INTEGER NOT NULL DEFAULT 0,
    stale_since REAL,
    superseded REAL NOT NULL    -- when a newer fix for the same key replaced it
);
CREATE INDEX IF NOT EXISTS approved_doc ON approved (doc_id, target);
"""


@dataclass(frozen=True)
class Fix:
    doc_id: str
    target: str
    source_hash: str
    seg_id: str
    source: str
    text: str
    mt_replaced: str | None
    reviewer: str
    created: float
    origin: str
    stale: bool = False
    stale_since: float | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.doc_id, self.target, self.source_hash)


COLUMNS = ", ".join(f.name for f in fields(Fix))


class Memory:
    """Approved fixes in ``store``'s database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db
        self.db.executescript(SCHEMA)

    def all(self) -> list[Fix]:
        rows = self.db.execute(f"SELECT {COLUMNS} FROM approved ORDER BY doc_id, target, seg_id").fetchall()
        return [_fix(r) for r in rows]

    def get(self, doc_id: str, target: str, source_hash: str) -> Fix | None:
        r = self.db.execute(
            f"SELECT {COLUMNS} FROM approved WHERE doc_id=? AND target=? AND source_hash=?", (doc_id, target, source_hash)
        ).fetchone()
        return _fix(r) if r else None

    def history(self) -> list[tuple[Fix, float]]:
        rows = self.db.execute(f"SELECT {COLUMNS}, superseded FROM approved_history ORDER BY superseded").fetchall()
        return [(_fix(r[:-1]), r[-1]) for r in rows]

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM approved").fetchone()[0]

    def put_many(self, fixes: Iterable[Fix]) -> int:
        """Store fixes in ONE transaction (all or nothing); an existing fix for the same key
        moves to ``approved_history`` first. Returns how many were written."""
        fixes = list(fixes)
        now = time.time()
        with self.store.transaction() as db:
            for f in fixes:
                old = db.execute(
                    f"SELECT {COLUMNS} FROM approved WHERE doc_id=? AND target=? AND source_hash=?", f.key
                ).fetchone()
                if old is not None:
                    if old[5] == f.text and not old[10]:
                        continue  # the same text approved again: keep the first approval
                    db.execute(f"INSERT INTO approved_history ({COLUMNS}, superseded) VALUES ({','.join('?' * 13)})",
                               (*old, now))
                db.execute(f"INSERT OR REPLACE INTO approved ({COLUMNS}) VALUES ({','.join('?' * 12)})",
                           _values(f))
        return len(fixes)

    def set_stale(self, keys: Iterable[tuple[str, str, str]], stale: bool) -> None:
        keys = list(keys)
        if not keys:
            return
        now = time.time() if stale else None
        with self.store.transaction() as db:
            db.executemany(
                "UPDATE approved SET stale=?, stale_since=? WHERE doc_id=? AND target=? AND source_hash=?",
                [(int(stale), now, *k) for k in keys],
            )


def _fix(r) -> Fix:
    values = list(r)
    values[10] = bool(values[10])
    return Fix(*values)


def _values(f: Fix) -> tuple:
    values = list(astuple(f))
    values[10] = int(values[10])
    return tuple(values)
