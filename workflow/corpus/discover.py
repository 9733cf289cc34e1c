"""Corpus discovery: which files in ``corpus/`` are English sources, and what the manifest says.

Sources are ``*.txt`` and ``*.md`` files. Files named ``<doc>.be.txt`` / ``<doc>.ru.txt``
are reference translations of ``<doc>.txt``, not sources. Symbolic links that point
outside the corpus folder are refused (reported, not followed).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from workflow.core.errors import InputError
from workflow.core.langs import LANGUAGES

SOURCE_SUFFIXES = (".txt", ".md")


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


def read_manifest(root: Path) -> dict[str, dict]:
    path = root / "manifest.toml"
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: invalid manifest ({e})") from None
    return {d["file"]: d for d in data.get("document", []) if isinstance(d, dict) and "file" in d}


def discover(root: Path) -> Corpus:
    if not root.is_dir():
        raise InputError(f"{root}: corpus folder not found", hint="Create it and put English .txt or .md files in it, or pass --corpus.")
    manifest = read_manifest(root)
    real_root = root.resolve()
    problems: list[str] = []
    sources: dict[Path, SourceFile] = {}
    refs: dict[Path, dict[str, Path]] = {}
    for path in sorted(root.rglob("*")):
        if path.name.startswith(".") or not path.name.endswith(SOURCE_SUFFIXES):
            continue
        if path.is_symlink() and real_root not in path.resolve().parents:
            problems.append(f"{path}: symbolic link to {path.resolve()} outside the corpus folder; not read")
            continue
        if not path.is_file():
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
