"""OmegaT projects: ``aligned/omegat/<target>/``, one per target language (an OmegaT
project has exactly one), laid out as OmegaT 3.6 and later expect.

- ``omegat.project``: English to the target, OmegaT's default folders, sentence
  segmentation off (each entry is one workflow segment and is never re-segmented) and
  auto-propagation off (``support_default_translations`` false: OmegaT's editor then keeps
  every edit as an *alternative* translation of that one segment instead of copying it to
  the same English elsewhere).
- ``omegat/filters.xml``: the PO filter, with the PO header left out of the segments.
- ``source/<doc>.po``: the document's English, one entry per translatable segment in
  document order, ``msgctxt`` = the segment id. OmegaT's PO filter keys each entry by
  file and msgctxt (its ``EntryKey.path``), so identical English sentences stay separate
  segments. ``#.`` comments carry the weak-spot score, flags and review notes (OmegaT's
  Comments pane). Skipped boilerplate is left out.
- ``tm/auto/<doc>.tmx``: the pre-translation (the approved fix, else the MT) of every
  entry, bound to its segment with ``<prop type="file">`` and ``<prop type="path">``:
  OmegaT inserts each one into exactly that segment when the project opens (tm/auto fills
  untranslated segments only, so it never overwrites the translator's work; tm/enforce
  would, on every load). The target variant says ``changeid="workflow"``; OmegaT stamps
  an edited entry with the translator's name, which is how ``workflow.review.omegat`` tells
  a translator's text from an untouched pre-translation. Status and reviewer are ``x-``
  properties of the target variant (score and flags are in the PO comments, where OmegaT
  shows them); the model, the same for the whole file, is the header's ``x-model`` (a
  variant names its own only when it differs). One unit per line, no indentation
  (OmegaT reads the text of ``<seg>`` as written).
- ``tm/mt/<doc>.tmx``: the machine translation an approved fix replaced, offered as a
  machine-translation match (OmegaT colours a match from ``tm/mt/`` when inserted).
- ``target/README.txt``: OmegaT opens no project without a ``target/`` folder.
- ``glossary/corpus-glossary.utf8``: the corpus glossary (``[checks] glossary``, read
  with the names check's loader) as OmegaT's tab-separated glossary (English, accepted
  form, comment); ``.utf8`` makes OmegaT read it as UTF-8 whatever the platform.

OmegaT keeps the translator's work in ``omegat/project_save.tmx`` and writes translated
PO files into ``target/``; neither is ever written here, so a rerun leaves them alone.
Identifiers and text go through :func:`xml_safe` (and lxml or polib escaping).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import polib
from lxml import etree

from workflow import __version__
from workflow.core.records import STATUS_MT, STATUS_REVIEWED, Row, target_rows
from workflow.outputs import sink
from workflow.outputs.sink import PerDocument
from workflow.outputs.xliff import XML_NS, first_model, notes, sub_element, xml_safe
from workflow.scoring.checks import Glossary, load_glossary

PRETRANSLATED_BY = "workflow"  # changeid of every pre-translation; OmegaT replaces it when a translator edits
GLOSSARY_FILE = "glossary/corpus-glossary.utf8"
SOURCE_LANG = "en"
# the tokenizers OmegaT 3.6 picks for these languages itself (PluginUtils.getTokenizerClassForLanguage)
TOKENIZERS = {"en": "org.omegat.tokenizer.LuceneEnglishTokenizer", "ru": "org.omegat.tokenizer.LuceneRussianTokenizer"}
DEFAULT_TOKENIZER = "org.omegat.tokenizer.DefaultTokenizer"
TARGET_README = ("OmegaT writes the translated documents here (Project > Create Translated Documents).\n"
                 "Your translations are kept in omegat/project_save.tmx; bring them back with\n"
                 "`workflow review import <this project folder> -r NAME`.\n")


def written_by_omegat(rel: Path) -> bool:
    """A file OmegaT itself writes into a project under ``aligned/`` (its project memory
    ``omegat/project_save.tmx`` and backups, the translated documents in ``target/``):
    a new run keeps it where it is, so a reviewer's work in the project survives a rerun."""
    parts = rel.parts
    return len(parts) >= 4 and parts[0] == "omegat" and parts[2] in ("omegat", "target")


def project_dir(target: str) -> str:
    """The project of one target language, relative to ``aligned/``."""
    return f"omegat/{target}"


def po_name(doc_id: str) -> str:
    """The source file of a document, relative to the project's ``source/`` (OmegaT's ``file`` key)."""
    return f"{doc_id}.po"


def translatable(rows: Sequence[Row]) -> list[Row]:
    """The rows that become OmegaT segments: translated (not skipped) and with a text."""
    return [r for r in rows if not r.is_skipped and r.shown is not None]


def project_file(target: str) -> bytes:
    root = etree.Element("omegat")
    project = sub_element(root, "project", version="1.0")
    for tag, value in (("source_dir", "__DEFAULT__"), ("target_dir", "__DEFAULT__"), ("tm_dir", "__DEFAULT__"),
                       ("glossary_dir", "__DEFAULT__"), ("glossary_file", "__DEFAULT__"),
                       ("dictionary_dir", "__DEFAULT__"), ("source_lang", SOURCE_LANG), ("target_lang", target),
                       ("source_tok", TOKENIZERS[SOURCE_LANG]),
                       ("target_tok", TOKENIZERS.get(target, DEFAULT_TOKENIZER)),
                       ("sentence_seg", "false"), ("support_default_translations", "false"), ("remove_tags", "false")):
        sub_element(project, tag, value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def filters_file() -> bytes:
    root = etree.Element("filters", removeTags="false", removeSpacesNonseg="true", preserveSpaces="false",
                         ignoreFileContext="false")
    po = sub_element(root, "filter", className="org.omegat.filters2.po.PoFilter", enabled="true")
    sub_element(po, "files", sourceFilenameMask="*.po", targetFilenamePattern="${filename}",
                sourceEncoding="UTF-8", targetEncoding="UTF-8")
    sub_element(po, "option", name="skipHeader", value="true")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def source_po(target: str, rows: Sequence[Row]) -> str:
    """A document's English as PO; ``rows`` are :func:`translatable` rows of one target."""
    po = polib.POFile(wrapwidth=0)  # never wrap: OmegaT 3.6 ignores continuation lines of msgctxt
    po.header = f"English source for translation into {target}, written by workflow; msgctxt is the segment id."
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit",
                   "Language": target, "X-Generator": f"workflow {__version__}"}
    for r in rows:
        comment = [f"segment {r.seg_id}"] + [f"{c}: {t}" for c, t in notes(r)]  # (the English hash: segments.parquet)
        po.append(polib.POEntry(msgctxt=xml_safe(r.seg_id), msgid=xml_safe(r.en), msgstr="",
                                comment=xml_safe("\n".join(comment))))
    return str(po)


def _tmx_root(model: str | None = None) -> tuple[etree._Element, etree._Element]:
    """A TMX root and its body; ``model``: the header's ``x-model`` (what every variant shares)."""
    root = etree.Element("tmx", version="1.4")
    header = sub_element(root, "header", creationtool="workflow", creationtoolversion=__version__, segtype="sentence",
                         **{"o-tmf": "workflow", "adminlang": "en", "srclang": SOURCE_LANG, "datatype": "plaintext"})
    _props(header, [("x-model", model)])
    body = sub_element(root, "body")
    root.text = header.tail = body.text = body.tail = "\n"
    return root, body


def _tmx_bytes(root: etree._Element) -> bytes:
    for tu in root.iter("tu"):
        tu.tail = "\n"  # one unit per line; no indentation (whitespace between elements carries nothing)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _tuv(tu, lang: str, text: str, props: Sequence[tuple[str, str | None]] = (), **attrs) -> None:
    tuv = sub_element(tu, "tuv", **attrs)
    tuv.set(f"{{{XML_NS}}}lang", lang)
    _props(tuv, props)
    sub_element(tuv, "seg", text)


def _props(parent, props: Sequence[tuple[str, str | None]]) -> None:
    for kind, value in props:
        if value:
            sub_element(parent, "prop", value, type=kind)


def auto_tmx(doc_id: str, target: str, rows: Sequence[Row]) -> bytes:
    """tm/auto: each row's current text as the alternative translation of its own segment.

    The ``tu`` carries only OmegaT's key properties (file, path): OmegaT 3.6 takes every
    ``tu`` property for a key field and skips an entry with any other one. Status and
    reviewer are properties of the target ``tuv``, which OmegaT ignores; the model is the
    header's unless a variant says otherwise. Score and flags are where the translator
    sees them, in the PO comments (:func:`source_po`), not repeated here."""
    model = first_model(rows)
    root, body = _tmx_root(model)
    for r in rows:
        tu = sub_element(body, "tu")
        _props(tu, [("file", po_name(doc_id)), ("path", r.seg_id)])
        _tuv(tu, SOURCE_LANG, r.en)
        reviewed = r.approved is not None and r.reviewed_at
        when = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(r.reviewed_at)) if reviewed else None
        info = [("x-status", STATUS_REVIEWED if r.approved is not None else STATUS_MT),
                ("x-model", None if r.model == model else r.model),
                ("x-reviewer", r.reviewer if r.approved is not None else None)]
        _tuv(tu, target, r.shown, info, creationid=PRETRANSLATED_BY, changeid=PRETRANSLATED_BY, changedate=when)
    return _tmx_bytes(root)


def mt_tmx(target: str, rows: Sequence[Row]) -> bytes | None:
    """tm/mt: the machine translations that approved fixes replaced (None when there is none)."""
    replaced = [r for r in rows if r.approved is not None and r.mt]
    if not replaced:
        return None
    root, body = _tmx_root()
    for r in replaced:
        tu = sub_element(body, "tu")
        _props(tu, [("x-seg-id", r.seg_id), ("x-model", r.model)])
        _tuv(tu, SOURCE_LANG, r.en)
        _tuv(tu, target, r.mt, creationid=r.model)
    return _tmx_bytes(root)


def _cell(text: str) -> str:
    return " ".join(xml_safe(text).split())  # a tab or line break would start a new column or entry


def glossary_file(glossary: Glossary, target: str) -> str | None:
    """OmegaT's tab-separated glossary of one target: one line per English spelling and accepted form."""
    lines = []
    for t in glossary.terms:
        forms = t.forms.get(target, ())
        avoid = ", ".join(t.avoid.get(target, ()))
        for en in t.en:
            for i, form in enumerate(forms):
                comment = t.kind + ("" if i else ", preferred") + (f"; avoid: {avoid}" if avoid else "")
                lines.append("\t".join(_cell(x) for x in (en, form, comment)))
    return "".join(line + "\n" for line in lines) or None


class Writer(PerDocument):
    """``omegat/<target>/``: per document its source PO and tm/auto, tm/mt TMX; at the
    end the project file, filters, ``target/`` and the glossary."""

    def document(self, doc_id: str, segs) -> Iterator[tuple[str, bytes | str]]:
        for t in self.targets:
            base = project_dir(t)
            mine = translatable(target_rows(segs, t))
            if not mine:
                continue
            yield f"{base}/source/{po_name(doc_id)}", source_po(t, mine)
            yield f"{base}/tm/auto/{doc_id}.tmx", auto_tmx(doc_id, t, mine)
            replaced = mt_tmx(t, mine)
            if replaced is not None:
                yield f"{base}/tm/mt/{doc_id}.tmx", replaced

    def finish(self, summary: dict) -> None:
        path = summary.get("glossary")
        glossary = load_glossary(path) if path else None
        for t in self.targets:
            base = project_dir(t)
            self.sink.file(f"{base}/omegat.project", project_file(t))
            self.sink.file(f"{base}/omegat/filters.xml", filters_file())
            self.sink.file(f"{base}/target/README.txt", TARGET_README)  # OmegaT refuses a project whose target/ is missing
            terms = glossary_file(glossary, t) if glossary is not None else None
            if terms is not None:
                self.sink.file(f"{base}/{GLOSSARY_FILE}", terms)


def files(rows: list[Row], targets: Sequence[str], summary: dict) -> list[tuple[str, bytes | str]]:
    """``omegat/<target>/``: project file, filters, source PO, tm/auto and tm/mt TMX, glossary."""
    return sink.files(Writer, rows, targets, summary)
