"""Translation memory of reviewers' approved fixes, kept in the embedded store (SQLite).

A fix is keyed by (document, target language, hash of the English source): the same
sentence in the same document gets the same fix wherever it moves. Nothing here ever
deletes a row:

- a fix whose English source no longer occurs in its document is marked ``stale``
  (and unmarked if the sentence comes back); ``apply_review`` offers it as a fuzzy
  match for the changed sentence;
- approving a new text for a key that already has a fix copies the old fix into
  ``approved_history`` first, so every earlier version stays readable.

Each key has a revision (``fix_revisions``): SQLite triggers add one whenever its approved
text is written, replaced or undone, or a reviewer marks it as needing work, whoever
writes (``review import``, ``review serve``, ``store restore``). A save based on an older
revision is refused (:class:`StaleRevision`): no silent lost update between reviewers.
``review_marks`` keeps every "needs work" mark with the text the reviewer left (not a fix).

The tables live in the same SQLite file as the translation cache (``workflow.core.store``)
and are created here with ``CREATE TABLE IF NOT EXISTS``; the store module need not
know about them. A store from before revisions (or one salvaged without them) is migrated
when opened (``meta`` ``memory_schema`` = 2 records it): every fix without a revision gets
1 + its earlier versions.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields, replace

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
CREATE TABLE IF NOT EXISTS review_marks (  -- "needs work": the reviewer's text kept, not a fix
    doc_id TEXT NOT NULL,
    target TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    seg_id TEXT NOT NULL,
    text TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS review_marks_key ON review_marks (doc_id, target, source_hash);
"""

MEMORY_SCHEMA = 2  # 2: fix_revisions and its triggers
REVISIONS = """
CREATE TABLE IF NOT EXISTS fix_revisions (
    doc_id TEXT NOT NULL,
    target TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    revision INTEGER NOT NULL,  -- changes of this key's approved text (and needs-work marks) so far
    PRIMARY KEY (doc_id, target, source_hash)
);
CREATE TRIGGER IF NOT EXISTS approved_rev_insert AFTER INSERT ON approved BEGIN
    INSERT INTO fix_revisions VALUES (NEW.doc_id, NEW.target, NEW.source_hash, 1)
    ON CONFLICT DO UPDATE SET revision = revision + 1;
END;
CREATE TRIGGER IF NOT EXISTS approved_rev_update AFTER UPDATE OF text ON approved WHEN OLD.text IS NOT NEW.text BEGIN
    UPDATE fix_revisions SET revision = revision + 1
    WHERE doc_id = NEW.doc_id AND target = NEW.target AND source_hash = NEW.source_hash;
END;
CREATE TRIGGER IF NOT EXISTS approved_rev_delete AFTER DELETE ON approved BEGIN
    UPDATE fix_revisions SET revision = revision + 1
    WHERE doc_id = OLD.doc_id AND target = OLD.target AND source_hash = OLD.source_hash;
END;
CREATE TRIGGER IF NOT EXISTS marks_rev_insert AFTER INSERT ON review_marks BEGIN
    INSERT INTO fix_revisions VALUES (NEW.doc_id, NEW.target, NEW.source_hash, 1)
    ON CONFLICT DO UPDATE SET revision = revision + 1;
END;
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
_REVISION_OBJECTS = ("fix_revisions", "approved_rev_insert", "approved_rev_update", "approved_rev_delete",
                     "marks_rev_insert")


class StaleRevision(Exception):
    """A write based on an older revision of a key than the store holds: nothing was written."""

    def __init__(self, key: tuple[str, str, str], revision: int, current: "Fix | None") -> None:
        super().__init__(f"{key}: revision {revision} in the store")
        self.key, self.revision, self.current = key, revision, current


@dataclass(frozen=True)
class Mark:
    """A "needs work" mark: the text a reviewer left, not a fix."""

    text: str
    reviewer: str
    created: float


class Memory:
    """Approved fixes in ``store``'s database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db
        self.db.executescript(SCHEMA)
        if not self._revisions_ready():
            with store.transaction() as db:
                if not self._revisions_ready():  # another process may have migrated meanwhile
                    for statement in _statements(REVISIONS):
                        db.execute(statement)
                    db.execute(  # a fix without a revision (an older store, a salvaged one): 1 + its earlier versions
                        "INSERT OR IGNORE INTO fix_revisions SELECT a.doc_id, a.target, a.source_hash, 1 + "
                        "(SELECT COUNT(*) FROM approved_history h WHERE h.doc_id = a.doc_id AND h.target = a.target "
                        "AND h.source_hash = a.source_hash) FROM approved a")
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('memory_schema', ?)", (str(MEMORY_SCHEMA),))

    def _revisions_ready(self) -> bool:
        """The revisions table and its triggers are all there (a salvaged store may lack some)."""
        names = ",".join("?" * len(_REVISION_OBJECTS))
        found = self.db.execute(f"SELECT COUNT(*) FROM sqlite_master WHERE name IN ({names})", _REVISION_OBJECTS)
        return found.fetchone()[0] == len(_REVISION_OBJECTS)

    def revision(self, key: tuple[str, str, str]) -> int:
        """How many times the key's approved text (or its needs-work mark) changed; 0: never."""
        row = self.db.execute("SELECT revision FROM fix_revisions WHERE doc_id=? AND target=? AND source_hash=?",
                              key).fetchone()
        return row[0] if row else 0

    def mark(self, key: tuple[str, str, str]) -> Mark | None:
        """The latest needs-work mark of a key, or None."""
        row = self.db.execute("SELECT text, reviewer, created FROM review_marks WHERE doc_id=? AND target=? AND "
                              "source_hash=? ORDER BY created DESC, rowid DESC LIMIT 1", key).fetchone()
        return Mark(*row) if row else None

    def revisions(self) -> dict[tuple[str, str, str], int]:
        """Every key's revision (keys never changed are absent: revision 0)."""
        return {(d, t, h): r for d, t, h, r in self.db.execute("SELECT * FROM fix_revisions")}

    def marks(self) -> dict[tuple[str, str, str], Mark]:
        """The latest needs-work mark of every key that has one."""
        out: dict[tuple[str, str, str], Mark] = {}
        for d, t, h, text, who, when in self.db.execute(
                "SELECT doc_id, target, source_hash, text, reviewer, created FROM review_marks ORDER BY created, rowid"):
            out[(d, t, h)] = Mark(text, who, when)
        return out

    def _check(self, db, expect: dict[tuple[str, str, str], int] | None) -> None:
        for key, revision in (expect or {}).items():
            row = db.execute("SELECT revision FROM fix_revisions WHERE doc_id=? AND target=? AND source_hash=?",
                             key).fetchone()
            now = row[0] if row else 0
            if now != revision:
                raise StaleRevision(key, now, self.get(*key))

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

    def put_many(self, fixes: Iterable[Fix], expect: dict[tuple[str, str, str], int] | None = None) -> int:
        """Store fixes in ONE transaction (all or nothing); an existing fix for the same key
        moves to ``approved_history`` first. ``expect``: the revision each key must still
        have, else :class:`StaleRevision` and nothing is written. Returns how many were written."""
        fixes = list(fixes)
        now = time.time()
        with self.store.transaction() as db:
            self._check(db, expect)
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

    def undo(self, key: tuple[str, str, str], expect: int, reviewer: str) -> Fix | None:
        """Undo the last change of a key's approved text (revision ``expect``, else
        :class:`StaleRevision`): the current fix moves to ``approved_history`` and the
        version approved before it (the latest one created earlier), if any, is approved
        again as it was (its reviewer and time; origin "undo by ``reviewer``"); with none,
        the machine translation is shown again. Returns the fix now approved, or None."""
        now = time.time()
        with self.store.transaction() as db:
            self._check(db, {key: expect})
            current = db.execute(f"SELECT {COLUMNS} FROM approved WHERE doc_id=? AND target=? AND source_hash=?",
                                 key).fetchone()
            if current is None:
                return None
            before = db.execute(f"SELECT {COLUMNS} FROM approved_history WHERE doc_id=? AND target=? AND "
                                "source_hash=? AND created < ? ORDER BY created DESC, rowid DESC LIMIT 1",
                                (*key, current[8])).fetchone()
            db.execute(f"INSERT INTO approved_history ({COLUMNS}, superseded) VALUES ({','.join('?' * 13)})",
                       (*current, now))
            if before is None:
                db.execute("DELETE FROM approved WHERE doc_id=? AND target=? AND source_hash=?", key)
                return None
            restored = replace(_fix(before), origin=f"undo by {reviewer}", stale=bool(current[10]),
                               stale_since=current[11])
            db.execute(f"INSERT OR REPLACE INTO approved ({COLUMNS}) VALUES ({','.join('?' * 12)})", _values(restored))
            return restored

    def put_mark(self, key: tuple[str, str, str], seg_id: str, text: str, reviewer: str, expect: int) -> Mark:
        """Keep a "needs work" mark with the reviewer's text (revision ``expect``, else
        :class:`StaleRevision`). The approved text, if any, stays as it is."""
        mark = Mark(text, reviewer, time.time())
        with self.store.transaction() as db:
            self._check(db, {key: expect})
            db.execute("INSERT INTO review_marks VALUES (?,?,?,?,?,?,?)", (*key, seg_id, text, reviewer, mark.created))
        return mark

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


def _statements(script: str) -> list[str]:
    """The statements of an SQL script (triggers whole), to run inside a transaction
    (``executescript`` would commit first)."""
    out, part = [], ""
    for line in script.splitlines(keepends=True):
        part += line
        if sqlite3.complete_statement(part):
            out.append(part.strip())
            part = ""
    return out
