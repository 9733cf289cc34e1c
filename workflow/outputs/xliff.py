"""XLIFF for CAT tools: the 2.1 and 1.2 writers (``workflow.review.parse`` reads them back).

Why two versions: XLIFF 2.1 is the current OASIS standard (MateCat and Okapi-based tools
read it; translate-toolkit's Python reader opens it, but sees no notes: it looks for
them inside ``<segment>``, where XLIFF 2 does not allow them); translate-toolkit's
command line (``pofilter``, ``xliff2po``) and older tools read only XLIFF
1.2, so both are written. (OmegaT's own XLIFF filter takes ``<target>`` as the text to
translate; OmegaT users get a project instead: ``workflow.outputs.omegat``.)

- ``aligned/xliff/2.1/<doc>.<target>.xlf``: one ``<unit id=segment id>`` per segment, its
  ``<segment state>``: ``initial`` (machine translation flagged as a weak spot),
  ``translated`` (machine translation, not flagged), ``final`` (an approved fix);
  flags, score and review information as ``<note category=...>``, the weak-spot score,
  confidence and HTER in the Metadata module (``mda:meta type="weak_score"``); the model,
  the same for every unit, once in the ``<file>``'s metadata (a unit names its own only
  when it differs; the English hash is the unit's ``name``). Skipped boilerplate is
  kept for context as ``translate="no"`` units without a target.
- with ``[outputs] latin``, ``<doc>.be-Latn.xlf`` in both folders: the Łacinka of the
  final Belarusian (``workflow.outputs.latin``), its own file so that no tool takes it for
  a Belarusian target; ``review import`` refuses an edited one.
- ``aligned/xliff/1.2/<doc>.<target>.xlf``: ``<trans-unit id=segment id resname=English
  hash>`` with ``<target state>`` ``needs-review-translation`` / ``translated``
  (``state-qualifier="mt-suggestion"``) / ``final`` (``approved="yes"``). Made to survive
  translate-toolkit's ``xliff2po``, which keeps only locations and translator/developer
  notes: the segment id is also a location (``<context-group purpose="location">``,
  PO ``#: <segment id>``, and ``msgctxt`` where the same English occurs twice), flags,
  score and review information are ``<note from="developer">`` (PO ``#.`` comments);
  ``po2xliff`` turns both back into a location context group and developer notes.

Both are written one unit per line without indentation: whitespace between elements
carries nothing, and the text of ``<source>`` / ``<target>`` is as written
(``xml:space="preserve"``).

All text goes through lxml (so it is escaped) after :func:`xml_safe` has replaced the
characters XML 1.0 cannot carry (C0 controls other than tab/newline/CR, lone
surrogates, U+FFFE/U+FFFF) by U+FFFD.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from lxml import etree

from workflow.core.records import Row, is_flagged, target_rows
from workflow.outputs import latin, sink
from workflow.outputs.sink import PerDocument

XLIFF2_NS = "urn:oasis:names:tc:xliff:document:2.0"  # XLIFF 2.0 and 2.1 share the core namespace
XLIFF12_NS = "urn:oasis:names:tc:xliff:document:1.2"
MDA_NS = "urn:oasis:names:tc:xliff:metadata:2.0"
XML_NS = "http://www.w3.org/XML/1998/namespace"

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str | None) -> str:
    """``text`` with every character XML 1.0 cannot hold replaced by U+FFFD."""
    return _ILLEGAL.sub("\ufffd", text or "")


def _state21(row) -> str:
    if row.approved is not None:
        return "final"
    return "initial" if is_flagged(row) else "translated"


def _state12(row) -> str:
    if row.approved is not None:
        return "final"
    return "needs-review-translation" if is_flagged(row) else "translated"


def sub_element(parent, tag: str, text: str | None = None, **attrs) -> etree._Element:
    """A child element with XML-safe text and attributes (``None`` attributes are left out)."""
    el = etree.SubElement(parent, tag, {k: xml_safe(str(v)) for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = xml_safe(text)
    return el


def notes(row) -> list[tuple[str, str]]:
    """(category, text) of what a reviewer should know about ``row``: flags, score, review, skip reason."""
    out = []
    if row.target == latin.LATIN:
        out.append(("latin", f"Łacinka converted from the Belarusian ({latin.SOURCE}), never imported: "
                             f"fix the {latin.SOURCE} file and the Łacinka follows"))
    if row.flags:
        out.append(("flags", ", ".join(row.flags)))
    if not row.is_skipped:
        out.append(("weak_score", f"{row.weak_score:.3f}"))
    if row.approved is not None:
        out.append(("review", f"approved by {row.reviewer or '?'}; machine translation was: {row.mt or ''}"))
    if row.fuzzy_match is not None:
        out.append(("fuzzy_match", f"earlier approved fix for a changed English source "
                                   f"(similarity {row.fuzzy_score or 0:.0%}): {row.fuzzy_match}"))
    if row.skip_reason:
        out.append(("skipped", row.skip_reason))
    return out


def first_model(rows) -> str | None:
    """The model of the first translated row: what a file says once, for every unit that
    does not name its own (XLIFF 2.1 file metadata, the TMX headers)."""
    return next((r.model for r in rows if not r.is_skipped and r.model), None)


def xliff21(doc_id: str, target: str, rows) -> bytes:
    """XLIFF 2.1 for one document and target; ``rows`` are that target's rows in document order."""
    root = etree.Element(f"{{{XLIFF2_NS}}}xliff", nsmap={None: XLIFF2_NS, "mda": MDA_NS})
    root.set("version", "2.1")
    root.set("srcLang", "en")
    root.set("trgLang", target)
    root.text = "\n"
    f = sub_element(root, f"{{{XLIFF2_NS}}}file", id="f1", original=doc_id)
    f.text = f.tail = "\n"
    model = first_model(rows)
    if model is not None:  # once per file: every unit's model unless the unit says otherwise
        md = sub_element(sub_element(f, f"{{{MDA_NS}}}metadata"), f"{{{MDA_NS}}}metaGroup", category="workflow")
        sub_element(md, f"{{{MDA_NS}}}meta", model, type="model")
        md.getparent().tail = "\n"
    for r in rows:
        unit = sub_element(f, f"{{{XLIFF2_NS}}}unit", id=r.seg_id, name=r.hash)
        unit.tail = "\n"  # one unit per line
        if r.is_skipped:
            unit.set("translate", "no")
        else:
            md = sub_element(sub_element(unit, f"{{{MDA_NS}}}metadata"), f"{{{MDA_NS}}}metaGroup", category="workflow")
            for k, v in (("weak_score", f"{r.weak_score:.4f}"), ("model", None if r.model == model else r.model),
                         ("confidence", None if r.logprob is None else f"{r.logprob:.4f}"),
                         ("hter", None if r.hter is None else f"{r.hter:.2f}")):
                if v is not None:
                    sub_element(md, f"{{{MDA_NS}}}meta", v, type=k)
        unit_notes = notes(r)
        if unit_notes:
            ns = sub_element(unit, f"{{{XLIFF2_NS}}}notes")
            for cat, text in unit_notes:
                sub_element(ns, f"{{{XLIFF2_NS}}}note", text, category=cat)
        seg = sub_element(unit, f"{{{XLIFF2_NS}}}segment", state="initial" if r.is_skipped else _state21(r))
        src = sub_element(seg, f"{{{XLIFF2_NS}}}source", r.en)
        src.set(f"{{{XML_NS}}}space", "preserve")
        text = r.shown
        if not r.is_skipped and text is not None:
            tgt = sub_element(seg, f"{{{XLIFF2_NS}}}target", text)
            tgt.set(f"{{{XML_NS}}}space", "preserve")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def xliff12(doc_id: str, target: str, rows) -> bytes:
    """XLIFF 1.2 (for translate-toolkit's command line and older tools)."""
    root = etree.Element(f"{{{XLIFF12_NS}}}xliff", nsmap={None: XLIFF12_NS})
    root.set("version", "1.2")
    f = sub_element(root, f"{{{XLIFF12_NS}}}file", original=doc_id, datatype="plaintext",
                    **{"source-language": "en", "target-language": target})
    body = sub_element(f, f"{{{XLIFF12_NS}}}body")
    root.text = f.text = body.text = "\n"
    for r in rows:
        tu = sub_element(body, f"{{{XLIFF12_NS}}}trans-unit", id=r.seg_id, resname=r.hash)
        tu.tail = "\n"  # one unit per line
        tu.set(f"{{{XML_NS}}}space", "preserve")
        if r.is_skipped:
            tu.set("translate", "no")
        elif r.approved is not None:
            tu.set("approved", "yes")
        sub_element(tu, f"{{{XLIFF12_NS}}}source", r.en)
        text = r.shown
        if not r.is_skipped and text is not None:
            attrs = {"state": _state12(r)}
            if r.approved is None:
                attrs["state-qualifier"] = "mt-suggestion"
            sub_element(tu, f"{{{XLIFF12_NS}}}target", text, **attrs)
        # the segment id as a location: xliff2po keeps it as ``#:`` (and as msgctxt for a repeated English)
        # (unnamed: a context-group name must be unique in the file)
        group = sub_element(tu, f"{{{XLIFF12_NS}}}context-group", purpose="location")
        sub_element(group, f"{{{XLIFF12_NS}}}context", r.seg_id, **{"context-type": "sourcefile"})
        for cat, note in notes(r):  # "developer" notes are the ones xliff2po keeps (PO "#." comments)
            sub_element(tu, f"{{{XLIFF12_NS}}}note", f"{cat}: {note}", **{"from": "developer"})
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


VERSIONS = {"xliff-2.1": ("2.1", xliff21), "xliff-1.2": ("1.2", xliff12)}  # [outputs] formats


class Writer(PerDocument):
    """``xliff/2.1/<doc>.<target>.xlf`` and ``xliff/1.2/<doc>.<target>.xlf`` (the
    ``xliff-2.1`` and ``xliff-1.2`` formats)."""

    def document(self, doc_id: str, segs) -> Iterator[tuple[str, bytes]]:
        targets = self.targets
        if latin.wanted(self.sink.latin, targets):  # a separate read-only be-Latn file per document
            segs, targets = latin.with_latin(segs), [*targets, latin.LATIN]
        for t in targets:
            mine = target_rows(segs, t)
            for fmt, (version, write) in VERSIONS.items():
                if fmt in self.sink.formats:
                    yield f"xliff/{version}/{doc_id}.{t}.xlf", write(doc_id, t, mine)


def files(rows: list[Row], targets: Sequence[str], summary: dict) -> list[tuple[str, bytes | str]]:
    return sink.files(Writer, rows, targets, summary)
