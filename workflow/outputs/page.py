"""The review page: one self-contained HTML file per document (``aligned/review/<doc>.html``).

English, Belarusian and Russian side by side, one row per segment. Weak spots are
highlighted: where a check blamed character spans of the target text they are wrapped
in ``<mark class="weak" title="reason">`` (the reason shows on hover); a flagged segment
without spans gets its whole cell marked, with the flags as the hover text. Rows sort by
weak-spot score (click a column header), a checkbox shows only flagged segments, and
reviewed segments carry a mark and show the MT they replaced.

It works offline: inline CSS and JS only, no external asset, and a Content Security
Policy that forbids loading anything. Every text from a document goes through
``outputs.html.esc`` (also in attributes); no document text is ever placed inside the script.

Spans are the row's own ``spans`` (``{"start", "end", "reason"}`` from scoring).

Opening the page with ``#selftest`` runs a small in-page test (sort by score, filter
flagged) and writes the outcome into ``data-selftest-*`` attributes of ``<html>``; the
browser test reads them from Chromium's ``--dump-dom``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from workflow.core.records import Row, by_document, is_flagged
from workflow.outputs.html import esc


def highlight(text: str, spans: Sequence[tuple[int, int, str]] | None) -> str:
    """Escaped ``text`` with each blamed span wrapped in ``<mark>``; overlapping spans are
    split at their boundaries and their reasons joined."""
    text = text or ""
    norm = [(s["start"], s["end"], s.get("reason", "")) if isinstance(s, dict) else tuple(s)[:3] for s in (spans or ())]
    good = [(max(0, int(s)), min(len(text), int(e)), str(r)) for s, e, r in norm if int(e) > int(s)]
    good = [(s, e, r) for s, e, r in good if e > s]
    if not good:
        return esc(text)
    cuts = sorted({0, len(text), *[s for s, _, _ in good], *[e for _, e, _ in good]})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        piece = text[a:b]
        reasons = list(dict.fromkeys(r for s, e, r in good if s <= a and b <= e))
        if reasons:
            out.append(f'<mark class="weak" title="{esc("; ".join(reasons))}">{esc(piece)}</mark>')
        else:
            out.append(esc(piece))
    return "".join(out)


CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:.5em 1em;z-index:1}
h1{font-size:1.2em;margin:.2em 0}
.controls label{margin-right:1.5em}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{border-bottom:1px solid #ddd;padding:.4em .5em;vertical-align:top;text-align:left;word-wrap:break-word}
th button{font:inherit;font-weight:bold;background:none;border:0;cursor:pointer;padding:0}
th button::after{content:" \\2195";color:#999}
th.asc button::after{content:" \\2191";color:#000} th.desc button::after{content:" \\2193";color:#000}
col.n{width:3.5em} col.sc{width:5em}
tr.skipped{color:#888;background:#f0f0f0}
tr.skipped td.en::before{content:attr(data-skip);display:block;font-size:.8em;font-style:italic}
td.flagged{background:#fff4e5;box-shadow:inset 3px 0 #e67e22}
mark.weak{background:#ffd2cc;border-bottom:2px solid #c0392b;cursor:help}
.flag{display:inline-block;font-size:.75em;background:#eee;border-radius:3px;padding:0 .3em;margin:.2em .2em 0 0}
td.reviewed{background:#eaf7ea;box-shadow:inset 3px 0 #2e8b57}
.badge{font-size:.75em;color:#2e8b57;font-weight:bold}
.mt{font-size:.85em;color:#666;margin-top:.3em}
.fuzzy{font-size:.85em;color:#7a5c00;margin-top:.3em}
table.only-flagged tbody tr:not(.flagged){display:none}
"""

JS = r"""
(function(){
  var table=document.getElementById('segments'), body=table.tBodies[0];
  function key(tr,k){var v=tr.getAttribute('data-'+k);var f=parseFloat(v);return isNaN(f)?-1:f;}
  function sortBy(k,dir){
    var rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){var d=key(a,k)-key(b,k);if(d===0)d=key(a,'order')-key(b,'order');return dir==='desc'?-d:d;});
    rows.forEach(function(r){body.appendChild(r);});
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th){
      th.classList.remove('asc','desc');if(th.getAttribute('data-sort')===k)th.classList.add(dir);});
  }
  Array.prototype.forEach.call(table.querySelectorAll('th[data-sort] button'),function(b){
    b.addEventListener('click',function(){
      var th=b.parentNode,k=th.getAttribute('data-sort');
      var dir=th.classList.contains('desc')?'asc':(th.classList.contains('asc')?'desc':(k==='order'?'asc':'desc'));
      sortBy(k,dir);});
  });
  var only=document.getElementById('only-flagged');
  function applyFilter(){table.classList.toggle('only-flagged',only.checked);}
  only.addEventListener('change',applyFilter);applyFilter();
  if(location.hash==='#selftest'){
    var root=document.documentElement;
    table.querySelector('th[data-sort="score"] button').click();
    root.setAttribute('data-selftest-order',Array.prototype.map.call(body.rows,function(r){return r.getAttribute('data-seg');}).join(' '));
    only.checked=true;only.dispatchEvent(new Event('change'));
    var visible=Array.prototype.filter.call(body.rows,function(r){return getComputedStyle(r).display!=='none';}).length;
    root.setAttribute('data-selftest-visible',String(visible));
    only.checked=false;only.dispatchEvent(new Event('change'));
    table.querySelector('th[data-sort="order"] button').click();
    root.setAttribute('data-selftest-restored',Array.prototype.map.call(body.rows,function(r){return r.getAttribute('data-seg');}).join(' '));
    root.setAttribute('data-selftest-marks',String(document.querySelectorAll('mark.weak').length));
    root.setAttribute('data-selftest','done');
  }
})();
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def _target_cell(r) -> str:
    if r is None:
        return "<td></td>"
    if r.is_skipped:
        return f'<td class="tgt" lang="{esc(r.target)}"></td>'
    classes = ["tgt"]
    title = ""
    row_spans = r.spans
    mt_html = highlight(r.mt or "", row_spans)
    if is_flagged(r):
        classes.append("flagged")
        if not row_spans:
            title = f' title="{esc("weak spot: " + (", ".join(r.flags) or f"score {r.weak_score:.2f}"))}"'
    parts = []
    if r.approved is not None:
        classes.append("reviewed")
        parts.append(f'<div class="text">{esc(r.approved)}</div>')
        parts.append(f'<div class="badge">&#10003; reviewed by {esc(r.reviewer or "?")}'
                     + (f", HTER {r.hter:.1f}" if r.hter is not None else "") + "</div>")
        parts.append(f'<div class="mt">MT: {mt_html}</div>')
    else:
        parts.append(f'<div class="text">{mt_html}</div>')
    if r.flags:
        parts.append("".join(f'<span class="flag">{esc(f)}</span>' for f in r.flags))
    if r.fuzzy_match is not None:
        parts.append(f'<div class="fuzzy">earlier fix ({(r.fuzzy_score or 0):.0%} match): {esc(r.fuzzy_match)}</div>')
    return f'<td class="{" ".join(classes)}" lang="{esc(r.target)}"{title}>{"".join(parts)}</td>'


def review_page(doc_id: str, segs, targets: Sequence[str], *, title: str | None = None) -> str:
    """``segs``: (seg_id, {target: Row}) in document order (``records.by_document``)."""
    targets = list(targets)
    n_flagged = n_reviewed = n_total = 0
    body = []
    for order, (sid, per) in enumerate(segs):
        first = next(iter(per.values()))
        skipped = first.is_skipped
        trs = [per.get(t) for t in targets]
        flagged = any(r is not None and not r.is_skipped and is_flagged(r) for r in trs)
        reviewed = [r.target for r in trs if r is not None and r.approved is not None]
        scores = {t: (per[t].weak_score if t in per and not skipped else None) for t in targets}
        top = max((s for s in scores.values() if s is not None), default=-1.0)
        if not skipped:
            n_total += 1
            n_flagged += flagged
            n_reviewed += bool(reviewed)
        classes = [c for c, on in (("skipped", skipped), ("flagged", flagged), ("reviewed", bool(reviewed))) if on]
        attrs = [f'id="{esc("seg-" + sid)}"', f'data-seg="{esc(sid)}"', f'data-order="{order}"',
                 f'data-score="{top:.4f}"', f'class="{" ".join(classes)}"']
        attrs += [f'data-score-{esc(t)}="{(-1.0 if s is None else s):.4f}"' for t, s in scores.items()]
        if reviewed:
            attrs.append(f'data-reviewed="{esc(" ".join(reviewed))}"')
        if skipped:
            attrs.append(f'data-skip="{esc("skipped: " + (first.skip_reason or ""))}"')
        cells = [f'<td class="n">{order + 1}</td>', f'<td class="en" lang="en">{esc(first.en)}</td>']
        cells += [_target_cell(r) for r in trs]
        cells += [f'<td class="sc">{"" if s is None else f"{s:.2f}"}</td>' for s in scores.values()]
        cells.append(f'<td class="sc">{"" if top < 0 else f"{top:.2f}"}</td>')
        body.append(f"<tr {' '.join(attrs)}>{''.join(cells)}</tr>")
    heads = ['<th data-sort="order"><button type="button">#</button></th>', "<th>English</th>"]
    heads += [f'<th lang="{esc(t)}">{esc(t.upper())}</th>' for t in targets]
    heads += [f'<th data-sort="score-{esc(t)}"><button type="button">weak {esc(t)}</button></th>' for t in targets]
    heads.append('<th data-sort="score"><button type="button" title="highest weak-spot score of the row">weak max</button></th>')
    cols = '<col class="n"><col>' + "<col>" * len(targets) + '<col class="sc">' * (len(targets) + 1)
    name = title or doc_id
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Review: {esc(name)}</title>
<style>{CSS}</style></head>
<body data-doc="{esc(doc_id)}">
<header><h1>Review: {esc(name)}</h1>
<p>{n_total} segments, {n_flagged} flagged as weak spots, {n_reviewed} reviewed. Click a column header to sort;
hover a highlighted span for the reason.</p>
<div class="controls"><label><input type="checkbox" id="only-flagged"> only flagged segments</label></div>
</header>
<table id="segments"><colgroup>{cols}</colgroup>
<thead><tr>{''.join(heads)}</tr></thead>
<tbody>
{chr(10).join(body)}
</tbody></table>
<script>{JS}</script>
</body></html>
"""


def files(rows: list[Row], targets: Sequence[str], summary: dict) -> Iterator[tuple[str, str]]:
    """``review/<doc>.html`` for every document."""
    for doc_id, segs in by_document(rows).items():
        yield f"review/{doc_id}.html", review_page(doc_id, segs, targets)
