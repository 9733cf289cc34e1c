"""The embedded store (SQLite): translation cache now; reviewers' approved fixes later.

Every chunk of translations is committed as soon as it is finished, so a run killed at
any point (Ctrl-C, kill -9) resumes without redoing finished work. SQLite's journal
(WAL mode) makes each commit atomic: a row is either fully there or not at all.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import StoreError

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
        path.parent.mkdir(parents=True, exist_ok=True)
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
