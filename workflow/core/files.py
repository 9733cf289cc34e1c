"""Atomic file writes, output paths that stay inside their folder, writability checks,
and the one bounded reader of files a user names.

Every output is written to a temporary file in the same folder, flushed to disk, then
renamed over the old one (``os.replace`` is atomic on POSIX): a reader, or a run killed
half-way, sees either the old file or the new one, never half of one. New files get the
user's umask (like any file a program creates), and the temporary name is short whatever
the final name's length, so a name that fits the file system always works.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

from workflow.core.errors import InputError, WorkflowError

TMP_SUFFIX = ".tmp"


def _create_temp(folder: Path, name: str) -> tuple[int, Path]:
    """An exclusive new file in ``folder`` named ``.<start of name>.<random>.tmp``.

    Not ``tempfile.mkstemp``: it creates files with mode 0600 whatever the umask, and its
    prefix is the caller's, so a 251-character final name made a temporary name over the
    file system's 255-byte limit."""
    head = name.encode("utf-8")[:40].decode("utf-8", "ignore")
    for _ in range(100):
        tmp = folder / f".{head}.{secrets.token_hex(4)}{TMP_SUFFIX}"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), tmp  # umask applies
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))  # pragma: no cover - 100 collisions


def write_atomic(path: Path, data: bytes | str) -> None:
    out = AtomicFile(path)
    try:
        out.write(data.encode("utf-8") if isinstance(data, str) else data)
    except BaseException:
        out.discard()
        raise
    out.close()


class AtomicFile:
    """A file written in pieces (an output streamed chunk by chunk) into a temporary file
    beside ``path``, flushed to disk and renamed into place by :meth:`close`; until then
    ``path`` is untouched. :meth:`discard` drops it. Errors name ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp: Path | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, self._tmp = _create_temp(path.parent, path.name)
            self.file = os.fdopen(fd, "wb")
        except OSError as e:
            self.discard()
            raise self._error(e) from None

    def _error(self, e: OSError) -> WorkflowError:
        return WorkflowError(f"{self.path}: cannot write ({e.strerror}); the previous version is left intact")

    def write(self, data: bytes) -> None:
        try:
            self.file.write(data)
        except OSError as e:
            self.discard()
            raise self._error(e) from None

    def close(self) -> None:
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self._tmp, self.path)
            self._tmp = None
        except OSError as e:
            self.discard()
            raise self._error(e) from None

    def discard(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            self.file.close()
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._tmp)
            self._tmp = None


def safe_child(root: Path, name: str) -> Path:
    """``root/name`` for a name derived from corpus data, refusing anything that would
    land outside ``root`` (``..``, absolute paths, separators)."""
    candidate = (root / name).resolve()
    if root.resolve() not in candidate.parents:
        raise WorkflowError(f"refusing to write {name!r}: it would land outside {root}")
    return candidate


def writable_folder_problem(folder: Path) -> str | None:
    """Why a run could not create or replace ``folder`` and write files into it, or None.

    Checked before any work starts: the folder must be a folder (or not exist yet), its
    nearest existing ancestor must be a folder, and a file must be creatable there (a
    read-only file system, missing permissions and ``/proc`` all fail that probe)."""
    try:
        st = folder.stat()
    except FileNotFoundError:
        st = None
    except OSError as e:
        return e.strerror or str(e)
    if st is not None and not stat.S_ISDIR(st.st_mode):
        kind = "a regular file" if stat.S_ISREG(st.st_mode) else "a device or special file"
        return f"it is {kind}, not a folder"
    probe_in = folder if st is not None else next((p for p in folder.parents if p.exists()), None)
    if probe_in is None or not probe_in.is_dir():
        return f"{probe_in} is not a folder"
    try:
        fd, tmp = _create_temp(probe_in, "probe")
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        return f"cannot create files in {probe_in} ({e.strerror})"
    return None


def read_limited(path: Path, limit: int, what: str = "file", *, stream: bool = False) -> bytes:
    """The bytes of ``path``, at most ``limit`` of them; InputError naming the file otherwise.

    Opened without blocking and checked by type first, so a named pipe, socket or device
    (``/dev/zero``) is refused instead of hanging or filling memory; ``stream=True``
    (standard input) accepts any kind and reads it, still up to ``limit``."""
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | (0 if stream else os.O_NONBLOCK))
    except FileNotFoundError:
        raise InputError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a folder, not a {what}") from None
    except OSError as e:
        raise InputError(f"{name}: cannot read ({e.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{name}: is a folder, not a {what}")
        if not stat.S_ISREG(st.st_mode) and not stream:
            raise InputError(f"{name}: not a regular file (a pipe, socket or device); not read")
        if st.st_size > limit:
            raise InputError(f"{name}: {_mb(st.st_size)}, over the limit of {_mb(limit)} per {what}; "
                             "not read (split it into several files)")
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise InputError(f"{name}: cannot read ({e.strerror})") from None
    if len(data) > limit:  # grew while being read, or a stream
        raise InputError(f"{name}: over the limit of {_mb(limit)} per {what}; not read")
    return data


def _mb(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MB" if size >= 10 << 20 else f"{size / (1 << 20):,.1f} MB"
