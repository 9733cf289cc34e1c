"""The review page: one self-contained HTML file per document (``aligned/review/<doc>.html``).

English, Belarusian and Russian side by side, one row per segment, with a legend that
says what the colours and the weak-spot score mean. Where a check blamed character spans
of the target text, the text is written once and its spans once, by offsets:
``<div class="text" data-spans="0,8,1 4,12,2">`` (start, end in UTF-16 code units, as
the script indexes, and a number into the cell's list of reasons, ``<details
class="why">``, which holds each reason once). The page's script wraps the blamed pieces
in ``<mark data-r="1 2">`` when it loads (overlapping spans split at their boundaries,
neighbouring pieces that show the same reasons one mark, at most ``MARK_REASONS``
numbers and ``+N`` for the rest), so the file grows with the text plus the spans, never
with spans x pieces; without the script the reasons are still listed. A reason quoting
more than ``QUOTE_CHARS`` characters of the text shows the start of the quote and
``…``: the whole blamed text is the mark itself. Hovering a mark
shows its reasons (the script fills in ``title`` from that list). A flagged segment
without spans carries its flags as the cell's hover text. A reference translation
(``corpus/<doc>.<lang>.txt``) is shown under the MT; an approved fix replaces the MT,
which is shown below it, and its cell is no longer flagged. Rows sort by weak-spot score
(click a column header; an approved translation counts below every unreviewed one), a
checkbox shows only flagged segments, and a skipped segment shows why it was skipped.

Fixes can be made on the page: "edit" on a translation opens a text box. Edited texts are
kept in the browser (``localStorage``, per page file, with the English they belong to: a
reload or a crash loses nothing; an edit the page now shows as the approved text is
dropped) and downloaded as ``<doc>.fixes.tsv``, a review table (``id``, ``en``, each
target and its ``status_<t>``: ``approved`` for an edited text) that ``workflow review
import`` reads like ``aligned/<doc>.tsv``. Its cells follow ``workflow.core.tsv``: an
edited text escaped, everything else as exported (formula guard included).

It works offline: inline CSS and JS only, no external asset, and a Content Security
Policy that forbids loading anything. Every text from a document goes through
``outputs.html.esc`` in attributes and ``esc_text`` in element content (quotes are
not escaped there); no document text is ever placed inside the script.

Spans are the row's own ``spans`` (``{"start", "end", "reason"}`` from scoring).

Opening the page with ``#selftest`` runs a small in-page test (sort by score, filter
flagged, hover every mark, read the skip reason and the reference as displayed) and
writes the outcome into ``data-selftest-*`` attributes of ``<html>``; the browser test
reads them from Chromium's ``--dump-dom``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from itertools import accumulate

from workflow.core.records import Row, is_flagged
from workflow.outputs import latin, sink
from workflow.outputs.html import esc, esc_text
from workflow.outputs.sink import PerDocument

# What the weak-spot score means, for the review page's legend and the report: one
# wording for every output, true whether the score is a weighted sum of the checks or a
# calibrated probability.
WEAK_SCORE_MEANING = (
    "Weak-spot score: how likely the machine translation needs a reviewer's fix; higher is worse. With the "
    "learned model (the default, [checks] scorer = \"model\") it is the probability, 0-1, that a professional "
    "reviewer finds a major error, and the weakest share of the run is flagged ([checks] review_budget); with "
    "[checks] scorer = \"checks\" it is the weighted sum of what the reference-free checks (language, spelling, "
    "names, numbers, length, model confidence, ...) found, flagged from [checks] flag_threshold. "
    "The score is of the machine translation: an approved fix is not flagged."
)

# sort keys of the data-score attributes: every real score is >= 0
APPROVED_KEY = -0.5  # an approved translation: after every unreviewed one
SKIPPED_KEY = -1.0  # a skipped segment (no translation): last


MARK_REASONS = 8  # reason numbers a mark lists at most; "+N" says how many more cover it (all are under "why marked")
QUOTE_CHARS = 32  # a longer quote of the text in a reason is cut to its first QUOTE_KEEP characters and "…"
QUOTE_KEEP = 24
_QUOTE = re.compile(r"'([^']{%d,})'" % (QUOTE_CHARS + 1))


def brief(reason: str) -> str:
    """``reason`` as the page lists it: a quote of the text longer than QUOTE_CHARS cut short
    (the blamed text itself is highlighted in the cell; segments.parquet keeps it whole)."""
    return _QUOTE.sub(lambda m: f"'{m.group(1)[:QUOTE_KEEP]}…'", reason)


def blamed(text: str | None, spans: Sequence | None) -> tuple[str, list[str]]:
    """(the ``data-spans`` of ``text``: ``start,end,n`` per distinct span, offsets in UTF-16
    code units (what the page's script indexes: a character outside the BMP is two), ``n``
    numbering the distinct reasons from 1 in text order; those reasons). Spans are clipped
    to the text; empty ones are dropped. Linear in the text plus the spans."""
    text = text or ""
    norm = [(s["start"], s["end"], s.get("reason", "")) if isinstance(s, dict) else tuple(s)[:3] for s in (spans or ())]
    good = sorted((max(0, int(s)), min(len(text), int(e)), str(r)) for s, e, r in norm)
    good = [(s, e, r) for s, e, r in good if e > s]
    if not good:
        return "", []
    reasons = list(dict.fromkeys(r for _, _, r in good))
    number = {r: i for i, r in enumerate(reasons, start=1)}
    if max(text) > "\uffff":
        units = list(accumulate((2 if ord(c) > 0xFFFF else 1 for c in text), initial=0))
    else:
        units = range(len(text) + 1)
    return " ".join(dict.fromkeys(f"{units[s]},{units[e]},{number[r]}" for s, e, r in good)), reasons


def _blamed_text(tag: str, cls: str, text: str | None, spans) -> tuple[str, list[str]]:
    """``<tag class=cls data-spans=...>`` with ``text`` escaped, and the reasons its spans number."""
    where, reasons = blamed(text, spans)
    attr = f' data-spans="{where}"' if where else ""
    return f'<{tag} class="{cls}"{attr}>{esc_text(text)}</{tag}>', reasons


CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:.4em 1em;z-index:1}
.intro{background:#fff;padding:.5em 1em 0}
h1{font-size:1.2em;margin:.2em 0}
.intro p{margin:.3em 0}
.legend{font-size:.85em;color:#444}
.key{display:inline-block;padding:0 .3em;margin-right:.2em}
.controls label{margin-right:1.5em}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{border-bottom:1px solid #ddd;padding:.4em .5em;vertical-align:top;text-align:left;word-wrap:break-word}
th button{font:inherit;font-weight:bold;background:none;border:0;cursor:pointer;padding:0}
th button::after{content:" \\2195";color:#999}
th.asc button::after{content:" \\2191";color:#000} th.desc button::after{content:" \\2193";color:#000}
col.n{width:3.5em} col.sc{width:5em}
tr.skipped{color:#888;background:#f0f0f0}
td.en[data-skip]::before{content:attr(data-skip);display:block;font-size:.8em;font-style:italic}
.flagged-key,td.flagged{background:#fff4e5;box-shadow:inset 3px 0 #e67e22}
mark{background:#ffd2cc;border-bottom:2px solid #c0392b;cursor:help}
.flags{font-size:.75em;color:#444;margin-top:.2em}
.flags::before{content:"flags: ";color:#888}
.reviewed-key,td.reviewed{background:#eaf7ea;box-shadow:inset 3px 0 #2e8b57}
.badge{font-size:.75em;color:#2e8b57;font-weight:bold}
.mt,.ref{font-size:.85em;color:#666;margin-top:.3em}
.ref{border-left:2px solid #9ab;padding-left:.4em}
.fuzzy{font-size:.85em;color:#7a5c00;margin-top:.3em}
.why{font-size:.8em;color:#555;margin-top:.2em}
.why ol{margin:.2em 0;padding-left:1.6em}
td.sc.done{color:#999}
td.edited{box-shadow:inset 3px 0 #2f6db3}
textarea.fix{width:100%;box-sizing:border-box;font:inherit;margin-top:.3em}
button.edit{font-size:.75em;margin-top:.2em}
#fixes{margin-left:.5em}
table.only-flagged tbody tr:not(.flagged){display:none}
"""

JS = r"""
(function(){
  var table=document.getElementById('segments'), body=table.tBodies[0];
  // the blamed pieces of each text with data-spans ("start,end,reason number" each):
  // one sweep over the span boundaries; neighbouring pieces showing the same reasons are
  // one mark; a mark lists at most MAX numbers, then "+N" (at most N more cover parts of it)
  var MAX=__MARK_REASONS__;
  Array.prototype.forEach.call(body.querySelectorAll('[data-spans]'),function(el){
    var text=el.textContent, starts={}, ends={}, cuts=[0,text.length];
    el.getAttribute('data-spans').split(' ').forEach(function(t){
      var p=t.split(','), a=+p[0], b=+p[1], n=+p[2];
      (starts[a]=starts[a]||[]).push(n);(ends[b]=ends[b]||[]).push(n);cuts.push(a,b);
    });
    cuts.sort(function(x,y){return x-y;});
    cuts=cuts.filter(function(c,i){return i===0||c!==cuts[i-1];});
    var active={}, pieces=[];
    for(var i=0;i+1<cuts.length;i++){
      var a=cuts[i], b=cuts[i+1];
      (ends[a]||[]).forEach(function(n){if(!--active[n])delete active[n];});
      (starts[a]||[]).forEach(function(n){active[n]=(active[n]||0)+1;});
      var on=Object.keys(active).map(Number).sort(function(x,y){return x-y;});
      var shown=on.slice(0,MAX).join(' '), more=on.length-Math.min(on.length,MAX), last=pieces[pieces.length-1];
      if(last&&last.shown===shown){last.b=b;last.more=Math.max(last.more,more);}
      else pieces.push({a:a,b:b,shown:shown,more:more});
    }
    el.textContent='';
    pieces.forEach(function(p){
      var piece=document.createTextNode(text.slice(p.a,p.b));
      if(!p.shown){el.appendChild(piece);return;}
      var m=document.createElement('mark');
      m.setAttribute('data-r',p.shown+(p.more?' +'+p.more:''));m.appendChild(piece);el.appendChild(m);
    });
  });
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
  // a mark's reasons: its numbers point into the list of its cell
  body.addEventListener('mouseover',function(ev){
    var m=ev.target.closest&&ev.target.closest('mark[data-r]');
    if(!m||m.hasAttribute('title'))return;
    var items=m.closest('td').querySelectorAll('.why li');
    m.setAttribute('title',m.getAttribute('data-r').split(' ').map(function(i){
      if(i.charAt(0)==='+')return 'and '+i.slice(1)+' more (why marked)';
      var li=items[parseInt(i,10)-1];return li?li.textContent:'';}).join('; '));
  });
  var only=document.getElementById('only-flagged');
  function applyFilter(){table.classList.toggle('only-flagged',only.checked);}
  only.addEventListener('change',applyFilter);applyFilter();
  // fixes: "edit" opens a text box; edits are kept in localStorage (with their English)
  // until downloaded as a review TSV for `workflow review import`
  var selftest=location.hash==='#selftest', doc=document.body.getAttribute('data-doc');
  var targets=Array.prototype.map.call(table.tHead.querySelectorAll('th[lang]'),function(th){return th.getAttribute('lang');});
  var storage=null, storageKey='workflow-fixes:'+location.pathname, edits={}, stale={}, unsaved=false;
  try{storage=selftest?null:window.localStorage;}catch(e){}
  var bar=document.getElementById('fixes'), count=document.getElementById('fix-count'), download=document.getElementById('download');
  function shown(td){var t=td.querySelector('.text');return t?t.textContent:'';}
  function english(tr){return tr.querySelector('td.en').textContent;}
  function save(){if(storage){try{storage.setItem(storageKey,JSON.stringify(Object.assign({},stale,edits)));}catch(e){}}}
  function record(td,text){
    var tr=td.parentNode, k=tr.getAttribute('data-seg')+'	'+td.getAttribute('lang');
    if(text===shown(td))delete edits[k];else edits[k]={en:english(tr),text:text};
    td.classList.toggle('edited',k in edits);unsaved=true;save();
    var n=Object.keys(edits).length;count.textContent=String(n);download.disabled=!n;
  }
  function editor(td){
    var box=td.querySelector('textarea.fix');
    if(!box){
      box=document.createElement('textarea');box.className='fix';box.rows=3;
      box.setAttribute('lang',td.getAttribute('lang'));box.value=shown(td);
      box.addEventListener('input',function(){record(td,box.value);});
      td.insertBefore(box,td.querySelector('.text').nextSibling);
    }
    return box;
  }
  Array.prototype.forEach.call(body.querySelectorAll('td.tgt'),function(td){
    if(!td.querySelector('.text'))return;
    var b=document.createElement('button');b.type='button';b.className='edit';b.textContent='edit';
    b.addEventListener('click',function(){editor(td).focus();});
    td.appendChild(b);
  });
  bar.hidden=false;
  if(storage){
    var saved={};try{saved=JSON.parse(storage.getItem(storageKey)||'{}')||{};}catch(e){}
    Object.keys(saved).forEach(function(k){
      var p=k.split('	'), tr=document.getElementById('seg-'+p[0]), e=saved[k];
      var td=tr&&tr.querySelector('td.tgt[lang="'+p[1]+'"]');
      if(td&&td.querySelector('.text')&&e&&english(tr)===e.en){if(e.text!==shown(td)){editor(td).value=e.text;record(td,e.text);}}
      else stale[k]=e;  // its segment changed or is gone: kept in the browser, not downloaded
    });
    unsaved=false;
  }
  function escaped(t){return t.replace(/\\/g,'\\\\').replace(/\t/g,'\\t').replace(/\n/g,'\\n').replace(/\r/g,'\\r');}
  function exported(t){t=escaped(t);return /^[=+\-@']/.test(t)?"'"+t:t;}
  function field(t){return t.indexOf('"')<0?t:'"'+t.replace(/"/g,'""')+'"';}
  function fixesTsv(){
    var head=['id','en'];targets.forEach(function(t){head.push(t,'status_'+t);});
    var lines=[head.join('\t')];
    var rows=Array.prototype.slice.call(body.rows).sort(function(a,b){return key(a,'order')-key(b,'order');});
    rows.forEach(function(tr){
      var seg=tr.getAttribute('data-seg');
      if(!targets.some(function(t){return (seg+'\t'+t) in edits;}))return;
      var cells=[exported(seg),exported(english(tr))];
      targets.forEach(function(t){
        var k=seg+'\t'+t, td=tr.querySelector('td.tgt[lang="'+t+'"]');
        if(k in edits)cells.push(escaped(edits[k].text),'approved');else cells.push(exported(td?shown(td):''),'');
      });
      lines.push(cells.map(field).join('\t'));
    });
    return lines.join('\n')+'\n';
  }
  download.addEventListener('click',function(){
    var a=document.createElement('a');
    a.href=URL.createObjectURL(new Blob([fixesTsv()],{type:'text/tab-separated-values;charset=utf-8'}));
    a.download=doc+'.fixes.tsv';document.body.appendChild(a);a.click();a.remove();unsaved=false;
  });
  window.addEventListener('beforeunload',function(ev){if(unsaved&&!storage){ev.preventDefault();ev.returnValue='';}});
  if(selftest){
    var root=document.documentElement;
    function ids(){return Array.prototype.map.call(body.rows,function(r){return r.getAttribute('data-seg');}).join(' ');}
    table.querySelector('th[data-sort="score"] button').click();
    root.setAttribute('data-selftest-order',ids());
    only.checked=true;only.dispatchEvent(new Event('change'));
    var visible=Array.prototype.filter.call(body.rows,function(r){return getComputedStyle(r).display!=='none';});
    root.setAttribute('data-selftest-visible',visible.map(function(r){return r.getAttribute('data-seg');}).join(' '));
    only.checked=false;only.dispatchEvent(new Event('change'));
    table.querySelector('th[data-sort="order"] button').click();
    root.setAttribute('data-selftest-restored',ids());
    var marks=document.querySelectorAll('mark[data-r]');
    Array.prototype.forEach.call(marks,function(m){m.dispatchEvent(new MouseEvent('mouseover',{bubbles:true}));});
    root.setAttribute('data-selftest-marks',String(marks.length));
    var skip=body.querySelector('tr.skipped td.en');
    root.setAttribute('data-selftest-skip',skip?getComputedStyle(skip,'::before').content:'');
    var ref=body.querySelector('.ref');
    root.setAttribute('data-selftest-ref',ref&&ref.offsetHeight>0?ref.textContent:'');
    root.setAttribute('data-selftest','done');
  }
})();
"""

# no indentation (it is in every page), and the mark bound filled in
JS = "\n".join(line.strip() for line in JS.splitlines()).replace("__MARK_REASONS__", str(MARK_REASONS))

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def _reviewed(r: Row | None) -> bool:
    return r is not None and r.approved is not None


def needs_review(r: Row | None) -> bool:
    """A weak spot still to look at: flagged, and no approved fix replaced its MT (the
    page, the report and the run summary count these as flagged)."""
    return r is not None and not r.is_skipped and not _reviewed(r) and is_flagged(r)


def _sort_key(r: Row | None) -> float:
    if r is None or r.is_skipped:
        return SKIPPED_KEY
    return APPROVED_KEY if _reviewed(r) else r.weak_score


def _target_cell(r: Row | None) -> str:
    if r is None:
        return "<td></td>"
    if r.is_skipped:
        return f'<td class="tgt" lang="{esc(r.target)}"></td>'
    classes = ["tgt"]
    title = ""
    reviewed = _reviewed(r)
    mt_html, reasons = _blamed_text("span" if reviewed else "div", "blamed" if reviewed else "text", r.mt, r.spans)
    if needs_review(r):
        classes.append("flagged")
        if not reasons:
            title = f' title="{esc("weak spot: " + (", ".join(r.flags) or f"score {r.weak_score:.2f}"))}"'
    parts = []
    if reviewed:
        classes.append("reviewed")
        parts.append(f'<div class="text">{esc_text(r.approved)}</div>')
        parts.append(f'<div class="badge">&#10003; reviewed by {esc_text(r.reviewer or "?")}'
                     + (f", HTER {r.hter:.1f}" if r.hter is not None else "") + "</div>")
        parts.append(f'<div class="mt">MT: {mt_html}</div>')
    else:
        parts.append(mt_html)
    if r.reference:
        parts.append(f'<div class="ref">reference: {esc_text(r.reference)}</div>')
    if r.flags:
        parts.append(f'<div class="flags">{esc_text(", ".join(r.flags))}</div>')
    if reasons:
        items = "".join(f"<li>{esc_text(brief(x))}</li>" for x in reasons)
        parts.append(f'<details class="why"><summary>why marked ({len(reasons)})</summary><ol>{items}</ol></details>')
    if r.fuzzy_match is not None:
        parts.append(f'<div class="fuzzy">earlier fix ({(r.fuzzy_score or 0):.0%} match): {esc_text(r.fuzzy_match)}</div>')
    return f'<td class="{" ".join(classes)}" lang="{esc(r.target)}"{title}>{"".join(parts)}</td>'


def _score_cell(r: Row | None) -> str:
    if r is None or r.is_skipped:
        return '<td class="sc"></td>'
    if _reviewed(r):
        return f'<td class="sc done" title="score of the MT the approved fix replaced">{r.weak_score:.2f}</td>'
    return f'<td class="sc">{r.weak_score:.2f}</td>'


LEGEND = (
    '<span class="key flagged-key">flagged</span> a weak spot to check; '
    "<mark>marked text</mark> what a check blamed (hover it, or open &#8220;why marked&#8221;); "
    '<span class="key reviewed-key">reviewed</span> an approved fix, with the MT it replaced; '
    "grey rows were skipped (the reason is above the English); &#8220;edit&#8221; a translation to fix it. "
)


def review_page(doc_id: str, segs, targets: Sequence[str], *, title: str | None = None,
                with_latin: bool = False) -> str:
    """``segs``: (seg_id, {target: Row}) in document order (``records.by_document``);
    ``with_latin``: a read-only Łacinka column (no edit button) after the targets."""
    targets = list(targets)
    n_flagged = n_reviewed = n_total = 0
    body = []
    for order, (sid, per) in enumerate(segs):
        first = next(iter(per.values()))
        skipped = first.is_skipped
        trs = [per.get(t) for t in targets]
        flagged = any(needs_review(r) for r in trs)
        reviewed = [r.target for r in trs if _reviewed(r)]
        top = max((_sort_key(r) for r in trs), default=SKIPPED_KEY)
        if not skipped:
            n_total += 1
            n_flagged += flagged
            n_reviewed += bool(reviewed)
        classes = [c for c, on in (("skipped", skipped), ("flagged", flagged), ("reviewed", bool(reviewed))) if on]
        attrs = [f'id="{esc("seg-" + sid)}"', f'data-seg="{esc(sid)}"', f'data-order="{order}"',
                 f'data-score="{top:.4f}"', f'class="{" ".join(classes)}"']
        attrs += [f'data-score-{esc(t)}="{_sort_key(r):.4f}"' for t, r in zip(targets, trs)]
        if reviewed:
            attrs.append(f'data-reviewed="{esc(" ".join(reviewed))}"')
        skip = f' data-skip="{esc("skipped: " + (first.skip_reason or ""))}"' if skipped else ""
        cells = [f'<td class="n">{order + 1}</td>', f'<td class="en" lang="en"{skip}>{esc_text(first.en)}</td>']
        cells += [_target_cell(r) for r in trs]
        if with_latin:
            cells.append(f'<td class="latin" lang="{latin.LATIN}">{esc_text(latin.text(per.get(latin.SOURCE)))}</td>')
        cells += [_score_cell(r) for r in trs]
        cells.append(f'<td class="sc">{f"{top:.2f}" if top >= 0 else ("&#10003;" if reviewed and not skipped else "")}</td>')
        body.append(f"<tr {' '.join(attrs)}>{''.join(cells)}</tr>")
    heads = ['<th data-sort="order"><button type="button">#</button></th>', "<th>English</th>"]
    heads += [f'<th lang="{esc(t)}">{esc(t.upper())}</th>' for t in targets]
    if with_latin:  # no lang attribute: the page's script edits only th[lang] columns
        heads.append(f'<th title="converted from the Belarusian; fix the BE text">{latin.LATIN} (read-only)</th>')
    heads += [f'<th data-sort="score-{esc(t)}"><button type="button">weak {esc(t)}</button></th>' for t in targets]
    heads.append('<th data-sort="score"><button type="button" title="highest weak-spot score of the row\'s '
                 'unreviewed translations">weak max</button></th>')
    cols = '<col class="n"><col>' + "<col>" * (len(targets) + with_latin) + '<col class="sc">' * (len(targets) + 1)
    name = title or doc_id
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Review: {esc(name)}</title>
<style>{CSS}</style></head>
<body data-doc="{esc(doc_id)}">
<section class="intro"><h1>Review: {esc(name)}</h1>
<p>{n_total} segments, {n_flagged} flagged as weak spots, {n_reviewed} reviewed. Click a column header to sort.</p>
<p class="legend">{LEGEND}{esc(WEAK_SCORE_MEANING)}</p></section>
<header><div class="controls"><label><input type="checkbox" id="only-flagged"> only flagged segments</label>
<span id="fixes" hidden><span id="fix-count">0</span> edited translation(s)
<button type="button" id="download" disabled>download fixes</button>
then: <code>workflow review import {esc(doc_id)}.fixes.tsv -r YOUR-NAME</code></span></div>
</header>
<table id="segments"><colgroup>{cols}</colgroup>
<thead><tr>{''.join(heads)}</tr></thead>
<tbody>
{chr(10).join(body)}
</tbody></table>
<script>{JS}</script>
</body></html>
"""


FORMAT = "review"  # [outputs] formats: the review pages


class Writer(PerDocument):
    """``review/<doc>.html`` for every document."""

    def document(self, doc_id: str, segs) -> Iterator[tuple[str, str]]:
        yield f"review/{doc_id}.html", review_page(doc_id, segs, self.targets,
                                                   with_latin=latin.wanted(self.sink.latin, self.targets))


def files(rows: list[Row], targets: Sequence[str], summary: dict) -> list[tuple[str, bytes | str]]:
    return sink.files(Writer, rows, targets, summary)
