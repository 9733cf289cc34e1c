"""Reading an OmegaT project back: the translator's work in ``omegat/project_save.tmx``
as review candidates, which ``workflow.review.importer`` validates like any other file.

An entry is tied to its segment the way OmegaT ties it (``workflow.outputs.omegat``
writes the projects), never by the text of a translation:

- an alternative translation, by its ``file`` and ``path`` properties (the PO msgctxt,
  which is the segment id) and its English;
- a default translation (no file or path: the translator chose "use as default"), to
  every segment of ``source/`` with that English that has no alternative of its own,
  which is where OmegaT shows it.

Entries still stamped ``changeid="workflow"`` are pre-translations nobody edited (OmegaT
stamps an edited entry with the translator's name) and are left out, so text a project
was exported with is never imported as a fix. Entries whose key is no longer in
``source/`` (OmegaT's orphans, after the English changed and the project was exported
again) are left out too: OmegaT no longer shows them either.

Files are read through the importer's reader (regular files only, size limit). The TMX
is parsed without entities or network, and refused if its DOCTYPE declares anything
(OmegaT's own is a bare ``<!DOCTYPE tmx SYSTEM "tmx11.dtd">``). OmegaT 3.6 writes TMX 1.1
(``lang``), later versions TMX 1.4 (``xml:lang``); both are read.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polib
from lxml import etree

from workflow.outputs.omegat import PRETRANSLATED_BY, SOURCE_LANG
from workflow.outputs.xliff import XML_NS
from workflow.review.parse import Candidate, Problem, TableRow, decode

SAVE = Path("omegat") / "project_save.tmx"
PROJECT = "omegat.project"

ReadFile = Callable[[Path], tuple[bytes | None, Problem | None]]  # importer.read_review_file


@dataclass
class OmegatRead:
    file: str  # the project_save.tmx the candidates come from
    candidates: list[Candidate] = field(default_factory=list)
    rows: list[TableRow] = field(default_factory=list)  # (line, segment id, English) of each candidate
    problems: list[Problem] = field(default_factory=list)


def is_omegat(path: Path) -> bool:
    """An OmegaT project folder (it has ``omegat.project``) or a ``project_save.tmx``."""
    return (path.is_dir() and (path / PROJECT).is_file()) or path.name == SAVE.name


def _lang(code: str | None) -> str:
    """``BE-BY``, ``be_BY``, ``be`` -> ``be``."""
    return (code or "").replace("_", "-").split("-")[0].strip().lower()


def _norm(text: str) -> str:
    """English as OmegaT keys it: NFC, without surrounding white space."""
    return unicodedata.normalize("NFC", text).strip()


def _xml(path: Path, read: ReadFile, out: OmegatRead) -> etree._Element | None:
    data, problem = read(path)
    if problem is not None:
        out.problems.append(problem)
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        line = (e.position[0] if e.position else 0) or 0
        out.problems.append(Problem(str(path), line, f"not well-formed XML ({e.msg})"))
        return None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and (list(dtd.iterentities()) or list(dtd.elements())):
        out.problems.append(Problem(str(path), 1, "a DOCTYPE that declares entities or elements is refused"))
        return None
    return root


def _source_segments(root: Path, read: ReadFile, out: OmegatRead) -> dict[tuple[str, str], str]:
    """(file, segment id) -> English of every entry of the project's ``source/`` PO files."""
    segments: dict[tuple[str, str], str] = {}
    source = root / "source"
    for po_path in sorted(source.rglob("*.po")):
        data, problem = read(po_path)
        text, problems = (None, [problem]) if problem is not None else decode(data, str(po_path))
        if text is None:
            out.problems.extend(problems)
            continue
        try:
            po = polib.pofile(text)
        except (OSError, ValueError) as e:
            out.problems.append(Problem(str(po_path), 0, f"not a readable PO file ({e})"))
            continue
        name = po_path.relative_to(source).as_posix()
        for entry in po:
            if entry.msgctxt and entry.msgid:
                segments[(name, entry.msgctxt)] = _norm(entry.msgid)
    return segments


def _variant(tu, lang: str):
    for tuv in tu.iter("tuv"):
        if _lang(tuv.get(f"{{{XML_NS}}}lang") or tuv.get("lang")) == lang:
            return tuv
    return None


def _seg_text(tuv) -> str | None:
    seg = tuv.find("seg") if tuv is not None else None
    return None if seg is None else "".join(seg.itertext())


def _project_root(path: Path) -> Path | None:
    if path.is_dir():
        return path
    root = path.parent.parent
    return root if path.parent.name == SAVE.parent.name and (root / PROJECT).is_file() else None


def read_project(path: Path, targets: Sequence[str], read: ReadFile) -> OmegatRead:
    """Candidates from an OmegaT project folder or its ``omegat/project_save.tmx`` (without
    the project around it, default translations cannot be tied to segments and orphans
    are not recognised: the importer's English check then refuses those)."""
    path = Path(path)
    root = _project_root(path)
    save = root / SAVE if path.is_dir() else path
    out = OmegatRead(str(save))
    if path.is_dir() and not save.exists():
        out.problems.append(Problem(out.file, 0, "no translations saved yet: open the project in OmegaT, "
                                                 "translate, save (Project > Save), then import the project folder"))
        return out
    tmx = _xml(save, read, out)
    if tmx is None:
        return out
    if tmx.tag != "tmx":
        out.problems.append(Problem(out.file, tmx.sourceline or 1, f"not a TMX file (root element <{tmx.tag}>)"))
        return out
    tus = tmx.findall("body/tu")
    if root is not None:
        project = _xml(root / PROJECT, read, out)
        target = _lang(project.findtext("project/target_lang")) if project is not None else None
    else:  # a project_save.tmx on its own: its one language besides English
        langs = {_lang(v.get(f"{{{XML_NS}}}lang") or v.get("lang")) for tu in tus for v in tu.iter("tuv")}
        langs -= {SOURCE_LANG, ""}
        target = langs.pop() if len(langs) == 1 else None
    if target not in targets:
        out.problems.append(Problem(out.file, 1, f"target language {target!r} is not one of the configured "
                                                 f"targets ({', '.join(targets)})"))
        return out
    segments = _source_segments(root, read, out) if root is not None else None
    entries = []  # (line, file, path, English, translation) of every edited entry
    alternatives = set()  # (file, path) of every segment with an alternative translation, edited or not
    for tu in tus:
        props = {p.get("type"): (p.text or "") for p in tu.findall("prop")}
        src, tgt = _seg_text(_variant(tu, SOURCE_LANG)), _variant(tu, target)
        text = _seg_text(tgt)
        if src is None or text is None:
            continue
        if props.get("path"):
            alternatives.add((props.get("file"), props["path"]))
        if tgt.get("changeid") != PRETRANSLATED_BY:  # else the untouched pre-translation
            entries.append((tu.sourceline or 0, props.get("file"), props.get("path"), _norm(src), text))
    for line, file, seg_path, en, text in entries:
        if seg_path:
            if segments is not None and segments.get((file, seg_path)) != en:
                continue  # an orphan: OmegaT no longer shows it
            ids = [seg_path]
        elif segments is None:
            out.problems.append(Problem(out.file, line, f"the default translation of {en[:60]!r} belongs to no one "
                                                        "segment in project_save.tmx alone: import the project folder"))
            continue
        else:
            ids = [sid for (f, sid), e in segments.items() if e == en and (f, sid) not in alternatives]
        for sid in ids:
            out.candidates.append(Candidate(seg_id=sid, target=target, text=text, approve=False, file=out.file,
                                            line=line))
            out.rows.append(TableRow(line, sid, en))
    return out
