"""The run report: every score in a histogram bin that holds it, links to the review
pages, sacrebleu signatures labelled by metric, and what the weak-spot score means."""

from __future__ import annotations

import html
import re

from review_rows import sample_rows
from workflow.outputs import page, report
from workflow.outputs.page import WEAK_SCORE_MEANING

BIN = re.compile(r"<title>(\w+) ([\d.]+)–([\d.]+): (\d+)</title>")


def _bins(svg: str) -> list[tuple[str, float, float, int]]:
    return [(name, float(a), float(b), int(n)) for name, a, b, n in BIN.findall(svg)]


def test_histogram_bins_cover_every_score():
    """The last bin once held every score >= 9.5 under the label 9.5–10."""
    values = {"be": [0.0, 0.3, 3.0, 9.9, 12.44], "ru": [0.7, 25.0]}
    bins = _bins(report.histogram("t", values))
    for name, vs in values.items():
        mine = [(a, b, n) for nm, a, b, n in bins if nm == name]
        assert sum(n for _, _, n in mine) == len(vs)
        for v in vs:  # each score is counted in the bin whose range holds it
            holder = [(a, b) for a, b, n in mine if a <= v < b or (v == b == mine[-1][1])]
            assert len(holder) == 1 and next(n for a, b, n in mine if (a, b) == holder[0]) >= 1, (name, v, mine)
    assert len({(a, b) for _, a, b, _ in bins}) <= report.MAX_BINS
    # probabilities (0..1) get bins of 0.05; a score of exactly 1 is in the last one
    probs = _bins(report.histogram("t", {"be": [0.0, 0.52, 1.0]}))
    assert len(probs) == 20 and probs[-1] == ("be", 0.95, 1.0, 1) and probs[10] == ("be", 0.5, 0.55, 1)


def test_report_links_pages_labels_signatures_and_explains_the_score():
    rows = sample_rows()
    for r in rows:
        if not r.is_skipped:
            r.reference = r.mt  # a reference for every segment: the scores get signatures
    out = dict(report.files(rows, ["be", "ru"], {"documents": 1}))
    pages = {name for name, _ in page.files(rows, ["be", "ru"], {})}
    md, page_html = out["report.md"], out["report.html"]
    # each document links to its review page, and that page is one the run writes
    assert "| [doc-1](review/doc-1.html) | be |" in md
    assert '<td><a href="review/doc-1.html">doc-1</a></td>' in page_html
    assert "review/doc-1.html" in pages
    # signatures are labelled by their metric
    sigs = dict(re.findall(r"^- (BLEU|chrF\+\+|TER): `([^`]+)`$", md, re.M))
    assert set(sigs) == {"BLEU", "chrF++", "TER"}
    assert "tok:13a" in sigs["BLEU"] and "nw:2" in sigs["chrF++"] and "tok:tercom" in sigs["TER"]
    assert f"<li>TER: <code>{html.escape(sigs['TER'])}</code></li>" in page_html
    # what the weak-spot score means
    assert WEAK_SCORE_MEANING in md and html.escape(WEAK_SCORE_MEANING) in page_html


def test_an_approved_fix_is_not_counted_as_flagged():
    rows = sample_rows()
    before = report.compute(rows, ["be", "ru"])[("doc-1", "be")]["flagged"]
    approved = rows[0]  # segment 1's Belarusian has an approved fix; its MT now flagged too
    assert approved.approved is not None
    approved.flagged, approved.flags = True, ["wrong_script"]
    stats = report.compute(rows, ["be", "ru"])[("doc-1", "be")]
    assert stats["flagged"] == before and stats["reviewed"] == 1
    approved.approved = None  # the same flagged MT without the fix counts
    assert report.compute(rows, ["be", "ru"])[("doc-1", "be")]["flagged"] == before + 1
