"""TMX 1.4b translation memories: ``corpus.tmx`` for the whole corpus, and with the
``tmx-documents`` format (``[outputs] formats``) one ``tmx/<doc>.tmx`` per document.

Each translated segment is a ``<tu tuid=segment id>`` with ``<tuv xml:lang>`` variants for
``en`` and every target language that has text (the approved fix where there is one,
else the machine translation). Properties use the ``x-`` prefix TMX 1.4b reserves for
user-defined types: on the ``tu`` the document and source hash; on each target ``tuv``
the weak-spot score, flags, status (``mt`` | ``reviewed``), reviewer and, for reviewed
variants, the machine translation it replaced. What every unit of a target shares is
said once, in the header: ``<prop type="x-model:<target>">`` (the model of the first
rows written); a variant carries ``x-model`` only when its model differs from that.

One unit per line and no indentation: a TMX is read by tools, and whitespace between
elements carries nothing (inside ``<seg>`` the text is as written).

The files validate against the TMX 1.4b DTD (LISA OSCAR, ``tmx14.dtd``; a copy is in
tests/data for the test). Skipped boilerplate is not a translation and is left out.
``corpus.tmx`` is written as the documents come, chunk by chunk (lxml's incremental
``xmlfile``), so it never exists whole in memory; its header is written with the first
chunk, whose rows name the models.
"""

from __future__ import annotations

import io
import time
from collections.abc import Generator, Iterable, Sequence
from typing import BinaryIO

from lxml import etree

from workflow import __version__
from workflow.core.records import STATUS_MT, STATUS_REVIEWED, Row, by_document, target_rows
from workflow.outputs import latin, sink
from workflow.outputs.sink import Sink
from workflow.outputs.xliff import XML_NS, first_model, xml_safe

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


def _tu(seg_id: str, per_target: dict, targets: Sequence[str], models: dict[str, str]) -> etree._Element | None:
    """``models``: the header's model per target (a variant names its own only when it differs)."""
    first = next(iter(per_target.values()))
    if first.is_skipped:
        return None
    tu = etree.Element("tu", tuid=xml_safe(seg_id), srclang="en")
    _prop(tu, "x-doc-id", first.doc_id)
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
        if t == latin.LATIN:  # never translated: converted from the Belarusian (workflow.outputs.latin)
            _prop(tuv, "x-converted-from", latin.SOURCE)
        _prop(tuv, "x-status", STATUS_REVIEWED if r.approved is not None else STATUS_MT)
        if r.model != models.get(t):
            _prop(tuv, "x-model", r.model)
        _prop(tuv, "x-weak-score", f"{r.weak_score:.4f}")
        _prop(tuv, "x-flags", ",".join(r.flags))
        if r.approved is not None:
            _prop(tuv, "x-reviewer", r.reviewer)
            _prop(tuv, "x-mt", r.mt)
            _prop(tuv, "x-hter", None if r.hter is None else f"{r.hter:.2f}")
        _el(tuv, "seg", text)
    return tu


def tmx_stream(out: BinaryIO, targets: Iterable[str], *, note: str | None = None) -> Generator[None, list | None, None]:
    """A TMX file written to ``out`` as its segments come: prime with ``next()``, then
    ``send()`` lists of (seg_id, {target: Row}) in document order, and ``send(None)`` to
    close it. The header (with the models of the first list) is written with the first list."""
    targets = list(targets)
    segments = yield
    models = {t: m for t in targets if (m := first_model(target_rows(segments or [], t)))}
    header = etree.Element("header", {k: xml_safe(v) for k, v in {
        "creationtool": "workflow", "creationtoolversion": __version__, "segtype": "sentence",
        "o-tmf": "workflow-sqlite", "adminlang": "en", "srclang": "en", "datatype": "plaintext",
        "creationdate": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())}.items()})
    if note:
        _el(header, "note", note)
    for t, model in models.items():
        _prop(header, f"x-model:{t}", model)
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        xf.write_doctype(DOCTYPE)
        with xf.element("tmx", version="1.4"):
            xf.write("\n")
            xf.write(header, pretty_print=False)
            xf.write("\n")
            with xf.element("body"):
                xf.write("\n")
                while segments is not None:
                    for seg_id, per_target in segments:
                        tu = _tu(seg_id, per_target, targets, models)
                        if tu is not None:
                            xf.write(tu, pretty_print=False)
                            xf.write("\n")  # one unit per line
                    segments = yield
            xf.write("\n")


def tmx(segments: Iterable[tuple[str, dict]], targets: Iterable[str], *, note: str | None = None) -> bytes:
    """``segments``: (seg_id, {target: Row}) pairs in document order (``records.by_document``)."""
    buf = io.BytesIO()
    stream = tmx_stream(buf, targets, note=note)
    next(stream)
    stream.send(list(segments))
    _close(stream)
    return buf.getvalue()


def _close(stream: Generator) -> None:
    try:
        stream.send(None)
    except StopIteration:
        pass


CORPUS = "corpus.tmx"


FORMAT, DOCUMENTS = "tmx", "tmx-documents"  # [outputs] formats: corpus.tmx, tmx/<doc>.tmx


class Writer:
    """``corpus.tmx`` for all documents (the ``tmx`` format, streamed); ``tmx/<doc>.tmx``
    per document with the ``tmx-documents`` format (the same units, split by document)."""

    def __init__(self, targets: Sequence[str], sink: Sink) -> None:
        self.targets, self.sink = list(targets), sink
        self._documents = DOCUMENTS in sink.formats
        self._latin = latin.wanted(sink.latin, self.targets)  # a be-Latn variant made from the be one
        if self._latin:
            self.targets.append(latin.LATIN)
        self._corpus = tmx_stream(sink.stream(CORPUS), self.targets, note="whole corpus") if FORMAT in sink.formats else None
        if self._corpus is not None:
            next(self._corpus)

    def add(self, rows: list[Row]) -> None:
        for doc_id, segs in by_document(rows).items():
            if self._latin:
                segs = latin.with_latin(segs)
            if self._documents:
                self.sink.file(f"tmx/{doc_id}.tmx", tmx(segs, self.targets, note=f"document {doc_id}"))
            if self._corpus is not None:
                self._corpus.send(segs)

    def finish(self, summary: dict) -> None:
        if self._corpus is not None:
            _close(self._corpus)


def files(rows: list[Row], targets: Sequence[str], summary: dict) -> list[tuple[str, bytes | str]]:
    return sink.files(Writer, rows, targets, summary)
