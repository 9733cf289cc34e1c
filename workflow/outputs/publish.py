"""Publish ``aligned/``: every output format of a run, switched in as one set.

Each format is one module with a ``Writer(targets, sink)`` (``outputs.sink``: ``add``
rows of whole documents, chunk by chunk, then ``finish``); :data:`WRITERS` lists them with
the ``[outputs] formats`` that call for them (none: always written), so a new format is
one file plus one line here. A :class:`Publication` builds the whole new
set in a fresh folder beside ``aligned/`` (``.aligned.new-<id>``), a chunk of documents
at a time, and swaps it with ``aligned/`` in one step (Linux ``renameat2`` with
``RENAME_EXCHANGE``; where the file system cannot, two renames that the next run undoes
if it was killed between them). A reader, and a run that fails or is killed at any
point, finds the whole old set or the whole new set, never a mix; ``aligned/`` stays an
ordinary folder at the same place. Files of the old set that the new run did not write
(outputs of documents no longer in the corpus, anything else put there) are moved to
``aligned/.removed/<time>/`` with a note, never deleted; what OmegaT writes into its
projects (``omegat/<target>/omegat/``, ``target/``) stays where it is. Paths derived from corpus names
never leave the folder (``core.files.safe_child``).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import shutil
import stat
import time
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from workflow.core.config import Outputs
from workflow.core.errors import WorkflowError
from workflow.core.files import TMP_SUFFIX, AtomicFile, safe_child, writable_folder_problem, write_atomic
from workflow.core.records import Row
from workflow.outputs import omegat, page, parquet, report, summary, tmx, tsv, xliff, xlsx
from workflow.outputs.sink import Writer

WRITERS: tuple[tuple[type[Writer], tuple[str, ...]], ...] = (
    (parquet.Writer, ()),  # segments.parquet: every column
    (tsv.Writer, ()),  # skipped.tsv; <doc>.tsv with "tsv"
    (xlsx.Writer, ("xlsx",)),  # <doc>.xlsx: the review workbook
    (summary.Writer, ()),  # run.json
    (tmx.Writer, (tmx.FORMAT, tmx.DOCUMENTS)),  # corpus.tmx, tmx/<doc>.tmx
    (xliff.Writer, tuple(xliff.VERSIONS)),  # xliff/2.1/, xliff/1.2/
    (omegat.Writer, ("omegat",)),  # omegat/<target>/: an OmegaT project per target
    (page.Writer, (page.FORMAT,)),  # review/<doc>.html
    (report.Writer, ()),  # report.md, report.html, report/*.svg
)
SCRATCH = ".scratch"  # inside the new set: a run's working files, removed before the switch

REMOVED = ".removed"  # inside aligned/: what a later run no longer writes, by time of removal
OLD_STAGING = ".staging-"  # inside aligned/: left by versions that staged there


def target_problem(final: Path) -> str | None:
    """Why a :class:`Publication` could not publish into ``final``, or None; checked before
    a run does any work. The new set is built beside ``final``, so its parent must take new
    folders too."""
    final = _real(final)
    return writable_folder_problem(final) or (writable_folder_problem(final.parent) if final.exists() else None)


class Publication:
    """The new set of ``final`` being built: a sink for the writers of :data:`WRITERS`
    that ``formats`` (``[outputs] formats``) calls for.

    ``add(rows)`` hands rows of whole documents to every writer (their files are written at
    once); ``finish(summary)`` writes the corpus-level files, closes the streamed ones and
    switches the set in. Use it as a context manager: leaving it without ``finish`` (an
    error, a kill) removes the new set and leaves ``final`` exactly as it was."""

    def __init__(self, final: Path, targets: Sequence[str], *, latin: bool = False,
                 formats: Sequence[str] = Outputs.formats) -> None:
        self.final = _real(final)
        self.latin = latin  # [outputs] latin: the writers add the be-Latn Łacinka
        self.formats = frozenset(formats)  # [outputs] formats
        self.final.parent.mkdir(parents=True, exist_ok=True)
        recover(self.final)
        self.folder = _new_folder(self.final)
        self.targets = list(targets)
        self.written: set[Path] = set()
        self._streams: list[_Checked] = []
        self.writers = [w(self.targets, self) for w, wanted in WRITERS if not wanted or self.formats & set(wanted)]

    def __enter__(self) -> Publication:
        return self

    def __exit__(self, *exc) -> None:
        for f in self._streams:
            f.drop()
        shutil.rmtree(self.folder, ignore_errors=True)  # after the switch: the old set

    def _path(self, name: str) -> Path:
        path = safe_child(self.folder, name)
        self.written.add(path.relative_to(self.folder.resolve()))
        return path

    def file(self, name: str, data: bytes | str) -> None:
        write_atomic(self._path(name), data)

    def stream(self, name: str) -> BinaryIO:
        self._streams.append(_Checked(AtomicFile(self._path(name))))
        return self._streams[-1]

    def scratch(self, name: str) -> Path:
        """A working file of the run inside the new folder (never published)."""
        folder = self.folder / SCRATCH
        folder.mkdir(exist_ok=True)
        return folder / name

    def add(self, rows: list[Row]) -> None:
        for w in self.writers:
            w.add(rows)

    def finish(self, run_summary: dict) -> list[str]:
        """Write the corpus-level files and switch the set in; returns notes (files of the
        old set the new run did not write, moved to ``.removed/``)."""
        for w in self.writers:
            w.finish(run_summary)
        for f in self._streams:
            f.done()
        self._streams.clear()
        shutil.rmtree(self.folder / SCRATCH, ignore_errors=True)
        notes = _carry_over(self.final, self.folder, set(self.written))
        if notes:  # run.json lists every problem of the run, these included
            problems = [*run_summary.get("problems", []), *notes]
            write_atomic(safe_child(self.folder, summary.NAME), summary.run_json({**run_summary, "problems": problems}))
        switch(self.folder, self.final)
        return notes


class _Checked:
    """A streamed file as writers see it: writes go through :class:`AtomicFile` (errors
    name the file); pyarrow and lxml also ask for ``tell``, ``flush`` and ``closed``."""

    def __init__(self, f: AtomicFile) -> None:
        self._f = f
        self.closed = False
        self.dropped = False  # the new set was given up: writes are dropped

    def write(self, data) -> int:
        if not self.dropped:
            self._f.write(bytes(data))
        return len(data)

    def tell(self) -> int:
        return 0 if self.dropped else self._f.file.tell()

    def flush(self) -> None:
        return None  # AtomicFile.close flushes and syncs

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        return None  # closed by the Publication, after every writer finished (done)

    def done(self) -> None:
        self._f.close()

    def drop(self) -> None:
        """Give the file up; a writer's late flush (pyarrow's, on collection) then goes nowhere."""
        self._f.discard()
        self.dropped = True


def write_outputs(final: Path, rows: list[Row], targets: Sequence[str], run_summary: dict, *,
                  formats: Sequence[str] = Outputs.formats) -> list[str]:
    """The whole new set of ``rows`` built beside ``final`` and switched in (a
    :class:`Publication` fed at once); returns its notes. A failure before the switch
    (full disk, kill) leaves ``final`` exactly as it was."""
    with Publication(final, targets, formats=formats) as pub:
        pub.add(rows)
        return pub.finish(run_summary)


def _real(final: Path) -> Path:
    """``final`` with a symbolic link to the folder followed (its target is what is replaced)."""
    return final.resolve() if final.is_symlink() else final.absolute()


def _prefix(final: Path, kind: str) -> str:
    return f".{final.name}.{kind}-"


def _new_folder(final: Path) -> Path:
    """A fresh folder beside ``final``, with ``final``'s permissions (else the umask's)."""
    while True:
        new = final.parent / f"{_prefix(final, 'new')}{secrets.token_hex(4)}"
        try:
            new.mkdir()
            break
        except FileExistsError:
            continue
    with contextlib.suppress(OSError):
        os.chmod(new, stat.S_IMODE(final.stat().st_mode))
    return new


def recover(final: Path) -> None:
    """Clean up after a killed run (callers hold the project lock): a switch killed between
    its two renames gets the old set back in place; unfinished new sets are removed."""
    final = _real(final)
    parent = final.parent
    olds = sorted(parent.glob(_prefix(final, "old") + "*"), key=lambda p: p.stat().st_mtime)
    if olds and not final.exists():
        os.rename(olds.pop(), final)
    for leftover in [*olds, *parent.glob(_prefix(final, "new") + "*")]:
        shutil.rmtree(leftover, ignore_errors=True)


def _carry_over(final: Path, new: Path, written: set[Path]) -> list[str]:
    """Hard-link (or copy) into ``new`` what ``final`` holds and this run did not write:
    ``.removed/`` as it is, anything else into ``.removed/<time>/``. The old set itself is
    not touched, so it stays whole until the switch."""
    if not final.is_dir():
        return []
    stamp = time.strftime("%Y%m%d-%H%M%S")
    moved: list[str] = []
    for folder, dirs, names in os.walk(final):
        here = Path(folder)
        rel_dir = here.relative_to(final)
        if rel_dir == Path("."):
            dirs[:] = [d for d in dirs if not d.startswith(OLD_STAGING)]
        for name in names:
            rel = rel_dir / name
            if rel in written or name.endswith(TMP_SUFFIX) and name.startswith("."):
                continue
            if rel.parts[0] == REMOVED or omegat.written_by_omegat(rel):  # kept in place
                dest = new / rel
            else:
                dest = new / REMOVED / stamp / rel
                moved.append(rel.as_posix())
            _link(here / name, dest)
    if not moved:
        return []
    shown = ", ".join(moved[:5]) + (f" and {len(moved) - 5} more" if len(moved) > 5 else "")
    return [f"{final}: {len(moved)} file(s) this run did not write (outputs of documents no longer in the corpus, "
            f"or files put there by hand) moved to {final / REMOVED / stamp}: {shown}"]


def _link(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        if src.is_symlink():
            os.symlink(os.readlink(src), dest)
        else:
            os.link(src, dest)
    except OSError:  # a file system without hard links
        try:
            shutil.copy2(src, dest, follow_symlinks=False)
        except OSError as e:
            raise WorkflowError(f"{src}: cannot keep it in the new outputs ({e.strerror}); nothing was replaced") from None


# renameat2(2) is not in Python's os module and no maintained package wraps it: called through ctypes
_LIBC = ctypes.CDLL(None, use_errno=True)
_RENAMEAT2 = getattr(_LIBC, "renameat2", None)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> None:
    """Swap two paths atomically (Linux 3.15+, glibc 2.28+; not every file system)."""
    if _RENAMEAT2 is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available")
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(a))


def switch(new: Path, final: Path) -> None:
    """Put the folder ``new`` in the place of ``final`` in one step; afterwards ``new``
    holds the old set (or is gone when there was none)."""
    try:
        if not final.exists():
            os.rename(new, final)
        else:
            try:
                _exchange(new, final)
            except OSError as e:
                if e.errno not in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
                    raise
                old = final.parent / f"{_prefix(final, 'old')}{secrets.token_hex(4)}"
                os.rename(final, old)  # killed after this line: recover() renames it back
                os.rename(new, final)
                os.rename(old, new)
        _fsync_folder(final.parent)
    except OSError as e:
        raise WorkflowError(f"{final}: cannot put the new outputs in place ({e.strerror}); the previous outputs are "
                            "left as they were", hint="aligned/ must be an ordinary folder (not a mount point) in a "
                            "folder the run can write to.") from None


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
