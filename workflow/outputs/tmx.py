"""TMX 1.4b translation memories: one per document and one for the whole corpus.

Each translated segment is a ``<tu tuid=segment id>`` with ``<tuv xml:lang>`` variants for
``en`` and every target language that has text (the approved fix where there is one,
else the machine translation). Properties use the ``x-`` prefix TMX 1.4b reserves for
user-defined types: on the ``tu`` the document, segment id and source hash; on each
target ``tuv`` the model, weak-spot score, flags, status (``mt`` | ``reviewed``),
reviewer and, for reviewed variants, the machine translation it replaced.

The files validate against the TMX 1.4b DTD (LISA OSCAR, ``tmx14.dtd``; a copy is in
tests/data for the test). Skipped boilerplate is not a translation and is left out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence

from lxml import etree

from workflow import __version__
from workflow.core.records import STATUS_MT, STATUS_REVIEWED, Row, by_document
from workflow.outputs.xliff import XML_NS, xml_safe

DOCTYPE = '<!DOCTYPE tmx SYSTEM "tmx14.dtd">'


def _el(parent, tag: str, text: str | None = None, **attrs) -> etree._Element:
    el = etree.SubElement(parent, tag, {k: xml_safe(str(v)) for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = xml_safe(text)
    return el


def _prop(parent, kind: str, value) -> None:
    if value is None or value == "":
        return
    _el(parent, "prop", str(value), type=kind)


def _tuv(parent, lang: str) -> etree._Element:
    tuv = etree.SubElement(parent, "tuv")
    tuv.set(f"{{{XML_NS}}}lang", lang)
    return tuv


def tmx(segments: Iterable[tuple[str, dict]], targets: Iterable[str], *, note: str | None = None) -> bytes:
    """``segments``: (seg_id, {target: Row}) pairs in document order (``records.by_document``)."""
    targets = list(targets)
    root = etree.Element("tmx", version="1.4")
    header = _el(root, "header", creationtool="workflow", creationtoolversion=__version__, segtype="sentence",
                 **{"o-tmf": "workflow-sqlite", "adminlang": "en", "srclang": "en", "datatype": "plaintext",
                    "creationdate": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())})
    if note:
        _el(header, "note", note)
    body = _el(root, "body")
    for seg_id, per_target in segments:
        first = next(iter(per_target.values()))
        if first.is_skipped:
            continue
        tu = _el(body, "tu", tuid=seg_id, srclang="en")
        _prop(tu, "x-doc-id", first.doc_id)
        _prop(tu, "x-seg-id", seg_id)
        _prop(tu, "x-source-hash", first.hash)
        tuv = _tuv(tu, "en")
        _el(tuv, "seg", first.en)
        for t in targets:
            r = per_target.get(t)
            text = r.shown if r is not None else None
            if r is None or text is None:
                continue
            tuv = _tuv(tu, t)
            if r.approved is not None and r.reviewed_at:
                tuv.set("changedate", time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(r.reviewed_at)))
                if r.reviewer:
                    tuv.set("changeid", xml_safe(r.reviewer))
            _prop(tuv, "x-status", STATUS_REVIEWED if r.approved is not None else STATUS_MT)
            _prop(tuv, "x-model", r.model)
            _prop(tuv, "x-weak-score", f"{r.weak_score:.4f}")
            _prop(tuv, "x-flags", ",".join(r.flags))
            if r.approved is not None:
                _prop(tuv, "x-reviewer", r.reviewer)
                _prop(tuv, "x-mt", r.mt)
                _prop(tuv, "x-hter", None if r.hter is None else f"{r.hter:.2f}")
            _el(tuv, "seg", text)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True, doctype=DOCTYPE)


def files(rows: list[Row], targets: Sequence[str], summary: dict) -> Iterator[tuple[str, bytes]]:
    """``tmx/<doc>.tmx`` per document and ``corpus.tmx`` for all of them."""
    everything = []
    for doc_id, segs in by_document(rows).items():
        everything.extend(segs)
        yield f"tmx/{doc_id}.tmx", tmx(segs, targets, note=f"document {doc_id}")
    yield "corpus.tmx", tmx(everything, targets, note="whole corpus")
