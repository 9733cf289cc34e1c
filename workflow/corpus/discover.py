"""Corpus discovery: which files in ``corpus/`` are English sources, and what the manifest says.

Sources are ``*.txt`` and ``*.md`` files. Files named ``<doc>.be.txt`` / ``<doc>.ru.txt``
are reference translations of ``<doc>.txt``, not sources. Nothing found here stops the
corpus: each file that is not taken gets a problem naming it and the reason. That covers
symbolic links leaving the corpus folder, link loops and dangling links, links to folders
(not followed), named pipes, sockets and devices (never opened: reading a pipe would
wait forever), and a manifest that is not what it should be.
"""

from __future__ import annotations

import datetime
import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from workflow.core.errors import InputError
from workflow.core.langs import LANGUAGES

SOURCE_SUFFIXES = (".txt", ".md")
MANIFEST_MAX_BYTES = 10 << 20  # a manifest of one table per document; anything larger is not one
MANIFEST_TEXT_KEYS = ("file", "title", "outlet", "date", "original_name", "sha256")


@dataclass(frozen=True)
class SourceFile:
    path: Path
    title: str | None = None
    references: dict[str, Path] = field(default_factory=dict)  # target -> reference file


@dataclass
class Corpus:
    root: Path
    sources: list[SourceFile]
    problems: list[str]  # files that were not taken, with the reason


def reference_language(path: Path) -> str | None:
    """'be' for 'story.be.txt', None for 'story.txt'."""
    parts = path.name.split(".")
    if len(parts) >= 3 and parts[-2] in LANGUAGES and parts[-2] != "en":
        return parts[-2]
    return None


def read_manifest(root: Path) -> tuple[dict[str, dict], list[str]]:
    """(file -> its ``[[document]]`` table, problems). A manifest that cannot be read, or
    entries of the wrong shape, are reported and left out; the documents run without them."""
    path = root / "manifest.toml"
    if not path.exists() and not path.is_symlink():
        return {}, []
    problem = special_file_problem(path, root.resolve())
    if problem:
        return {}, [f"{path}: {problem}; the manifest is not used"]
    try:
        with path.open("rb") as f:
            raw = f.read(MANIFEST_MAX_BYTES + 1)
        if len(raw) > MANIFEST_MAX_BYTES:
            return {}, [f"{path}: larger than {MANIFEST_MAX_BYTES >> 20} MB; the manifest is not used"]
        data = tomllib.loads(raw.decode("utf-8"))
    except OSError as e:
        return {}, [f"{path}: cannot read ({e.strerror}); the manifest is not used"]
    except UnicodeDecodeError as e:
        return {}, [f"{path}: not UTF-8 text (byte {e.start}); the manifest is not used"]
    except tomllib.TOMLDecodeError as e:
        return {}, [f"{path}: invalid TOML ({e}); the manifest is not used"]
    docs = data.get("document", [])
    if not isinstance(docs, list):
        return {}, [f"{path}: 'document' must be an array of tables ([[document]]), not a {_kind(docs)}; the manifest is not used"]
    out: dict[str, dict] = {}
    problems: list[str] = []
    for i, entry in enumerate(docs, start=1):
        where = f"{path}: [[document]] #{i}"
        if not isinstance(entry, dict):
            problems.append(f"{where} is a {_kind(entry)}, not a table; left out")
            continue
        if not isinstance(entry.get("file"), str) or not entry["file"]:
            problems.append(f"{where} has no 'file' text naming the document; left out")
            continue
        clean = dict(entry)
        for key in MANIFEST_TEXT_KEYS:
            value = entry.get(key)
            if isinstance(value, (datetime.date, datetime.time)):  # date = 2021-01-05: TOML's own date type
                clean[key] = value.isoformat()
            elif value is not None and not isinstance(value, str):
                problems.append(f"{where} ({entry['file']}): '{key}' must be text, not a {_kind(value)}; that key is left out")
                clean.pop(key)
        if entry["file"] in out:
            problems.append(f"{where}: a second entry for {entry['file']}; the first one is used")
            continue
        out[entry["file"]] = clean
    return out, problems


def _kind(value: object) -> str:
    return {dict: "table", list: "list", str: "text", bool: "boolean", int: "number", float: "number"}.get(type(value), type(value).__name__)


def special_file_problem(path: Path, real_root: Path) -> str | None:
    """Why ``path`` is not a regular file inside the corpus folder that can be read
    without waiting, or None. Never opens the file."""
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            try:
                target = path.resolve(strict=True)
            except FileNotFoundError:
                return f"symbolic link to {os.readlink(path)}, which does not exist; not read"
            except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError on a loop, later versions OSError
                return "symbolic link loop; not read"
            if real_root != target and real_root not in target.parents:
                return f"symbolic link to {target} outside the corpus folder; not read"
            st = target.stat()
    except OSError as e:
        return f"cannot be looked at ({e.strerror}); not read"
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return None
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    kind = next((name for test, name in kinds if test(mode)), "not a regular file")
    return f"is {kind}, not a text file; not read"


def _walk(root: Path, problems: list[str]) -> list[Path]:
    """Every non-hidden source-named entry under ``root``; links to folders are reported,
    not followed (so a link loop cannot make the walk endless)."""
    found: list[Path] = []

    def unreadable(e: OSError) -> None:
        problems.append(f"{e.filename}: cannot list the folder ({e.strerror}); its files are not read")

    for folder, dirs, files in os.walk(root, onerror=unreadable):
        here = Path(folder)
        kept = []
        for d in dirs:
            if d.startswith("."):
                continue
            if (here / d).is_symlink():
                problems.append(f"{here / d}: symbolic link to a folder; not followed (put the files themselves in the corpus)")
                continue
            kept.append(d)
        dirs[:] = kept
        found += [here / f for f in files if not f.startswith(".") and f.endswith(SOURCE_SUFFIXES)]
    return sorted(found)


def discover(root: Path) -> Corpus:
    if not root.is_dir():
        raise InputError(f"{root}: corpus folder not found", hint="Create it and put English .txt or .md files in it, or pass --corpus.")
    manifest, problems = read_manifest(root)
    real_root = root.resolve()
    sources: dict[Path, SourceFile] = {}
    refs: dict[Path, dict[str, Path]] = {}
    for path in _walk(root, problems):
        problem = special_file_problem(path, real_root)
        if problem:
            problems.append(f"{path}: {problem}")
            continue
        lang = reference_language(path)
        if lang:
            base = path.with_name(".".join(path.name.split(".")[:-2]) + path.suffix)
            refs.setdefault(base, {})[lang] = path
            continue
        entry = manifest.get(path.relative_to(root).as_posix(), {})
        sources[path] = SourceFile(path, entry.get("title"))
    out = []
    for path, src in sources.items():
        out.append(SourceFile(src.path, src.title, refs.pop(path, {})))
    for base, langs in refs.items():
        for lang, p in langs.items():
            problems.append(f"{p}: reference translation ({lang}) without an English source {base.name}; not used")
    return Corpus(root, out, problems)
