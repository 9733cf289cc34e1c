"""The run report: ``aligned/report.md`` and ``aligned/report.html``, plots in ``aligned/report/``.

Per document and target language: segments, skipped boilerplate, mean confidence (mean
token log-probability), flagged segments and flags by type, review progress, edit
effort (HTER = TER of the MT against the approved fix, chrF++), and reference-based
scores (BLEU, chrF++, TER via sacrebleu, with signatures) wherever references exist:
approved fixes are references, and so is a row's ``reference`` attribute when the
alignment stage provides one.

The numbers are gathered document by document as a run hands its chunks over
(:class:`Stats`): counts, sums and sacrebleu's sufficient statistics per document and for
the corpus, and the weak-spot scores as floats for the histogram; no row is kept.

Plots are SVG files written here without a plotting library (matplotlib is not a
dependency): the distribution of weak-spot scores per language (the bins cover every
score: their width is chosen from the highest one), and flags by type. report.md links
them as images; report.html inlines them, so it is one offline file. Both link each
document to its review page (``review/<doc>.html``, when the ``review`` format is written) and label each sacrebleu signature
with its metric.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Sequence
from urllib.parse import quote

from sacrebleu.utils import sum_of_lists

from workflow.core.records import Row
from workflow.outputs import sink
from workflow.outputs.html import esc as _e
from workflow.outputs.sink import Sink
from workflow.outputs.page import FORMAT as PAGES, WEAK_SCORE_MEANING, needs_review
from workflow.scoring.metrics import make_metric

COLORS = ["#2f6db3", "#d9822b", "#3a9d5d", "#9b59b6", "#c0392b"]
METRIC_NAMES = {"bleu": "BLEU", "chrf": "chrF++", "ter": "TER"}
MAX_BINS = 20


def _fmt(v, nd=2) -> str:
    return "–" if v is None else (f"{v:.{nd}f}" if isinstance(v, float) else str(v))


def bar_chart(title: str, categories: Sequence[str], series: dict[str, Sequence[float]], *, xlabel: str = "",
              ylabel: str = "") -> str:
    """A grouped bar chart as a standalone SVG document."""
    W, H, L, B, T, R = 640, 320, 50, 70, 30, 110
    n, k = max(1, len(categories)), max(1, len(series))
    top = max([v for vs in series.values() for v in vs] + [1])
    step = 10 ** math.floor(math.log10(top)) if top >= 1 else 1
    ymax = math.ceil(top / step) * step
    pw, ph = W - L - R, H - T - B
    gw = pw / n
    bw = gw * 0.8 / k
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           f'font-family="sans-serif" font-size="11" role="img" aria-label="{_e(title)}">',
           f'<title>{_e(title)}</title><rect width="{W}" height="{H}" fill="#fff"/>',
           f'<text x="{W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">{_e(title)}</text>']
    for i in range(5):
        v = ymax * i / 4
        y = T + ph - ph * i / 4
        out.append(f'<line x1="{L}" x2="{L + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                   f'<text x="{L - 4}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
    for j, (name, values) in enumerate(series.items()):
        color = COLORS[j % len(COLORS)]
        for i, v in enumerate(values):
            h = ph * v / ymax if ymax else 0
            x = L + i * gw + gw * 0.1 + j * bw
            out.append(f'<rect x="{x:.1f}" y="{T + ph - h:.1f}" width="{bw:.1f}" height="{h:.1f}" fill="{color}">'
                       f'<title>{_e(name)} {_e(categories[i])}: {v:g}</title></rect>')
        out.append(f'<rect x="{W - R + 10}" y="{T + 16 * j}" width="10" height="10" fill="{color}"/>'
                   f'<text x="{W - R + 24}" y="{T + 16 * j + 9}">{_e(name)}</text>')
    for i, c in enumerate(categories):
        x = L + i * gw + gw / 2
        out.append(f'<text x="{x:.1f}" y="{T + ph + 14}" text-anchor="end" transform="rotate(-30 {x:.1f} {T + ph + 14})">'
                   f'{_e(c)}</text>')
    out.append(f'<line x1="{L}" x2="{L}" y1="{T}" y2="{T + ph}" stroke="#333"/>'
               f'<line x1="{L}" x2="{L + pw}" y1="{T + ph}" y2="{T + ph}" stroke="#333"/>')
    if xlabel:
        out.append(f'<text x="{L + pw / 2}" y="{H - 4}" text-anchor="middle">{_e(xlabel)}</text>')
    if ylabel:
        out.append(f'<text x="12" y="{T + ph / 2}" text-anchor="middle" transform="rotate(-90 12 {T + ph / 2})">'
                   f'{_e(ylabel)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def bin_width(top: float, max_bins: int = MAX_BINS) -> float:
    """The smallest round width (1, 2, 2.5 or 5 times a power of ten) that covers 0..``top``
    in at most ``max_bins`` bins."""
    raw = top / max_bins
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))


def histogram(title: str, values: dict[str, list[float]]) -> str:
    """Counts per score bin, each language a series. The bins run from 0 to the highest
    score (at least 1, so probabilities get twentieths), each [a, b) and the last [a, b]."""
    top = max([v for vs in values.values() for v in vs] + [1.0])
    width = bin_width(top)
    nb = max(1, math.ceil(top / width - 1e-9))
    cats = [f"{i * width:g}–{(i + 1) * width:g}" for i in range(nb)]
    series = {}
    for name, vs in values.items():
        counts = [0] * nb
        for v in vs:
            counts[min(nb - 1, max(0, math.floor(v / width + 1e-9)))] += 1
        series[name] = counts
    return bar_chart(title, cats, series, xlabel="weak-spot score", ylabel="segments")


def _reference(r) -> str | None:
    if r.approved is not None:
        return r.approved
    return getattr(r, "reference", None)


ALL = "(all)"


class _Corpus:
    """One corpus score accumulated over chunks: sacrebleu's segment statistics summed
    (what its ``corpus_score`` sums itself; every metric used here adds them up)."""

    def __init__(self, name: str, target: str | None = None) -> None:
        self.name, self.target, self.metric, self.stats = name, target, None, None

    def add(self, hyps: list[str], refs: list[str]) -> None:
        if hyps:
            self.metric = self.metric or make_metric(self.name, self.target)  # made when first needed
            got = sum_of_lists(self.metric._extract_corpus_statistics(hyps, [refs]))
            self.stats = got if self.stats is None else [a + b for a, b in zip(self.stats, got)]

    def score(self) -> float | None:
        return None if self.stats is None else round(self.metric._compute_score_from_stats(self.stats).score, 2)


class _Group:
    """The sums of one document (or the corpus) in one target language."""

    def __init__(self, target: str) -> None:
        self.segments = self.skipped = self.flagged = self.reviewed = self.stale = self.references = 0
        self.lp_sum, self.lp_n = 0.0, 0
        self.flags: Counter = Counter()
        self.fix = {"hter": _Corpus("ter"), "chrf_fix": _Corpus("chrf")}
        self.refs = {m: _Corpus(m, target) for m in ("bleu", "chrf", "ter")}

    def add(self, rows: list) -> None:
        done = [r for r in rows if not r.is_skipped]
        self.segments += len(done)
        self.skipped += len(rows) - len(done)
        lps = [r.logprob for r in done if r.logprob is not None]
        self.lp_sum += sum(lps)
        self.lp_n += len(lps)
        self.flags.update(f for r in done for f in r.flags)
        self.flagged += sum(1 for r in done if needs_review(r))
        reviewed = [r for r in done if r.approved is not None]
        self.reviewed += len(reviewed)
        self.stale += sum(1 for r in done if r.fuzzy_match is not None)
        for c in self.fix.values():
            c.add([r.mt or "" for r in reviewed], [r.approved for r in reviewed])
        refd = [(r.mt or "", _reference(r)) for r in done if _reference(r) is not None]
        self.references += len(refd)
        for c in self.refs.values():
            c.add([h for h, _ in refd], [x for _, x in refd])

    def result(self) -> dict:
        s = {"segments": self.segments, "skipped": self.skipped,
             "confidence": (self.lp_sum / self.lp_n) if self.lp_n else None,
             "flagged": self.flagged, "flags": dict(sorted(self.flags.items())),
             "reviewed": self.reviewed, "progress": (100.0 * self.reviewed / self.segments) if self.segments else 0.0,
             "stale_offered": self.stale, "references": self.references, "signatures": {}}
        s.update({k: c.score() for k, c in self.fix.items()})
        s.update({m: c.score() for m, c in self.refs.items()})
        for m, c in self.refs.items():
            if c.stats is not None:
                s["signatures"][m] = str(c.metric.get_signature())
        return s


class Stats:
    """The report's numbers, gathered chunk by chunk: per (document, target) and per
    target over the corpus (document ``(all)``), plus every weak-spot score per target."""

    def __init__(self, targets: Sequence[str]) -> None:
        self.targets = list(targets)
        self.docs: dict[tuple[str, str], dict] = {}
        self.corpus: dict[str, _Group] = {}
        self.weak: dict[str, array] = {t: array("d") for t in self.targets}

    def add(self, rows: Sequence[Row]) -> None:
        """Rows of whole documents (a document's numbers are final once added)."""
        groups: dict[tuple[str, str], list] = {}
        for r in rows:
            groups.setdefault((r.doc_id, r.target), []).append(r)
            if not r.is_skipped and r.target in self.weak:
                self.weak[r.target].append(r.weak_score)
        for (doc, t), rs in groups.items():
            one = _Group(t)
            one.add(rs)
            self.docs[(doc, t)] = one.result()
            self.corpus.setdefault(t, _Group(t)).add(rs)

    def result(self) -> dict:
        return {**self.docs, **{(ALL, t): g.result() for t, g in self.corpus.items()}}


def compute(rows, targets: Sequence[str]) -> dict:
    """All numbers of the report, per (doc, target) and per target over the corpus."""
    stats = Stats(targets)
    stats.add(rows)
    return stats.result()


def _page_link(doc: str) -> str | None:
    """The review page of ``doc``, relative to the report (none for the corpus total)."""
    return None if doc == ALL else f"review/{quote(doc)}.html"


def _md_table(header: list[str], rows: list[list], *, link_first: bool = False) -> str:
    def cell(v):
        return str(v).replace("|", "\\|").replace("\n", " ")

    def first(v):
        href = _page_link(str(v)) if link_first else None
        return f"[{cell(v)}]({href})" if href else cell(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([first(r[0])] + [cell(v) for v in r[1:]]) + " |" for r in rows]
    return "\n".join(lines)


NO_REFS_MD = ("No references yet: add reference translations beside a document (`corpus/<doc>.be.txt`, "
              "`corpus/<doc>.ru.txt`) or approve fixes with `workflow review import`.")
NO_REFS = NO_REFS_MD.replace("`", "")


def _html_table(header: list[str], rows: list[list], *, link_first: bool = False) -> str:
    def first(v):
        href = _page_link(str(v)) if link_first else None
        return f'<td><a href="{_e(href)}">{_e(v)}</a></td>' if href else f"<td>{_e(v)}</td>"

    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + first(r[0]) + "".join(f"<td>{_e(v)}</td>" for v in r[1:]) + "</tr>" for r in rows)
    return f'<div class="wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


class Writer:
    """``report.md``, ``report.html`` and the plots in ``report/``, at the end, from :class:`Stats`."""

    def __init__(self, targets: Sequence[str], sink: Sink) -> None:
        self.sink, self.stats = sink, Stats(targets)

    def add(self, rows: list[Row]) -> None:
        self.stats.add(rows)

    def finish(self, summary: dict) -> None:
        for name, text in report_files(self.stats, summary, pages=PAGES in self.sink.formats):
            self.sink.file(name, text)


def files(rows: list[Row], targets: Sequence[str], summary: dict) -> list[tuple[str, bytes | str]]:
    return sink.files(Writer, rows, targets, summary)


def report_files(gathered: Stats, summary: dict, *, pages: bool = True) -> list[tuple[str, str]]:
    """``report.md``, ``report.html`` and the plots in ``report/``; ``pages``: link each document's review page."""
    targets = gathered.targets
    stats = gathered.result()
    docs = sorted({d for d, _ in stats if d != ALL}) + [ALL]
    keys = [(d, t) for d in docs for t in targets if (d, t) in stats]

    overview_h = ["document", "lang", "segments", "skipped", "mean confidence", "flagged", "reviewed", "progress %",
                  "HTER", "chrF++ MT vs fix", "stale fixes offered"]
    overview = [[d, t, s["segments"], s["skipped"], _fmt(s["confidence"]), s["flagged"], s["reviewed"],
                 _fmt(s["progress"], 1), _fmt(s["hter"]), _fmt(s["chrf_fix"]), s["stale_offered"]]
                for (d, t), s in ((k, stats[k]) for k in keys)]
    flag_types = sorted({f for s in stats.values() for f in s["flags"]})
    flags_h = ["document", "lang", *flag_types]
    flags_rows = [[d, t, *[stats[(d, t)]["flags"].get(f, 0) for f in flag_types]] for d, t in keys]
    ref_h = ["document", "lang", "references", "BLEU", "chrF++", "TER"]
    ref_rows = [[d, t, s["references"], _fmt(s["bleu"]), _fmt(s["chrf"]), _fmt(s["ter"])]
                for (d, t), s in ((k, stats[k]) for k in keys) if s["references"]]
    sigs = sorted({(METRIC_NAMES[m], sig) for s in stats.values() for m, sig in s["signatures"].items()})

    svg_weak = histogram("Distribution of weak-spot scores", gathered.weak)
    svg_flags = bar_chart("Flags by type", flag_types or ["(none)"],
                          {t: [stats[(ALL, t)]["flags"].get(f, 0) for f in flag_types] or [0]
                           for t in targets if (ALL, t) in stats}, ylabel="segments")
    out = [("report/weak_scores.svg", svg_weak), ("report/flags.svg", svg_flags)]

    docs_n = summary.get("documents", 0)
    intro = (f"{docs_n} documents, targets {', '.join(targets)}; each document links to its review page. "
             f"{WEAK_SCORE_MEANING} "
             "HTER: TER (%) of the machine translation against the reviewer's approved fix (edit effort). "
             "Reference-based scores use approved fixes (and reference translations where the corpus has them) "
             "as references; they cover only the segments that have one.")
    md = ["# Translation report", "", intro, "", "## Segments, confidence, review progress", "",
          _md_table(overview_h, overview, link_first=pages), "", "## Flags by type", "",
          _md_table(flags_h, flags_rows) if flag_types else "No segment was flagged.", "",
          "## Reference-based scores", ""]
    md += [_md_table(ref_h, ref_rows), "", "sacrebleu signatures:", ""] + [f"- {m}: `{s}`" for m, s in sigs] if ref_rows \
        else [NO_REFS_MD]
    md += ["", "## Plots", "", "![Distribution of weak-spot scores](report/weak_scores.svg)", "",
           "![Flags by type](report/flags.svg)", ""]
    out.append(("report.md", "\n".join(md)))

    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Translation report</title>
<style>body{{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#222}}table{{border-collapse:collapse;margin:.5em 0 1.5em}}
th,td{{border:1px solid #ccc;padding:.25em .6em;text-align:right}}th{{background:#f3f3f3}}
td:first-child,td:nth-child(2),th:first-child,th:nth-child(2){{text-align:left}}td:first-child{{white-space:nowrap}}
.wrap{{overflow-x:auto}}code{{font-size:.85em}}</style></head><body>
<h1>Translation report</h1><p>{_e(intro)}</p>
<h2>Segments, confidence, review progress</h2>{_html_table(overview_h, overview, link_first=pages)}
<h2>Flags by type</h2>{_html_table(flags_h, flags_rows) if flag_types else "<p>No segment was flagged.</p>"}
<h2>Reference-based scores</h2>{_html_table(ref_h, ref_rows) + "<ul>" + "".join(f"<li>{_e(m)}: <code>{_e(s)}</code></li>" for m, s in sigs) + "</ul>" if ref_rows else "<p>" + _e(NO_REFS) + "</p>"}
<h2>Plots</h2><figure>{svg_weak}</figure><figure>{svg_flags}</figure>
</body></html>
"""
    out.append(("report.html", page))
    return out
