// The editable review page of `workflow review serve` (workflow/review/serve.py).
// Data comes from the JSON API only; every text from it is put on the page with
// textContent or as a form value, never as markup. Writes send the session token
// (from the page's meta tag) in the X-Review-Token header. A text typed and not yet
// saved is kept in the browser (localStorage, per server address) until it is saved or
// replaced, so a reload or a crash loses nothing.
"use strict";

const TOKEN = document.querySelector('meta[name="review-token"]').content;
const KEPT = "workflow-review-serve:" + location.host;
const state = { data: null, view: [], cur: 0, target: null, edits: readEdits() };
const $ = (id) => document.getElementById(id);

function readEdits() {
  try { return JSON.parse(localStorage.getItem(KEPT) || "{}") || {}; } catch (e) { return {}; }
}

function keepEdits() {
  try { localStorage.setItem(KEPT, JSON.stringify(state.edits)); } catch (e) { status("this browser cannot keep unsaved texts"); }
}

function dropEdit(key) { delete state.edits[key]; keepEdits(); }

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", "X-Review-Token": TOKEN },
  };
  const res = await fetch(path, opts);
  let json = null;
  try { json = await res.json(); } catch (e) { json = { message: res.statusText }; }
  return { status: res.status, json };
}

function status(msg) { $("status").textContent = msg; }

function showProgress(p) {
  $("progress").textContent = `reviewed ${p.reviewed} / flagged ${p.flagged} (${p.flagged_open} still open) / ` +
    `total ${p.total} translations; needs work: ${p.needs_work}`;
}

// the MT with its blamed spans marked; the reasons on hover and listed once
function highlighted(text, spans) {
  const box = el("div", "mt");
  text = text || "";
  const good = (spans || []).filter((s) => s.end > s.start).map((s) =>
    ({ start: Math.max(0, s.start), end: Math.min(text.length, s.end), reason: s.reason || "" }));
  const cuts = [...new Set([0, text.length, ...good.flatMap((s) => [s.start, s.end])])].sort((a, b) => a - b);
  for (let i = 0; i + 1 < cuts.length; i++) {
    const a = cuts[i], b = cuts[i + 1];
    const why = [...new Set(good.filter((s) => s.start <= a && b <= s.end).map((s) => s.reason))];
    const piece = text.slice(a, b);
    if (why.length) {
      const m = el("mark", null, piece);
      m.title = why.join("; ");
      box.appendChild(m);
    } else {
      box.appendChild(document.createTextNode(piece));
    }
  }
  const reasons = [...new Set(good.map((s) => s.reason).filter(Boolean))];
  return { box, reasons };
}

function segScore(s) {
  const open = Object.values(s.per).filter((c) => !c.skipped && !c.approved);
  if (!open.length) return Object.values(s.per).some((c) => c.skipped) ? -1 : -0.5;
  return Math.max(...open.map((c) => c.score));
}

function applyView() {
  const d = state.data;
  const flagged = $("f-flagged").checked, unrev = $("f-unreviewed").checked;
  const doc = $("f-doc").value, check = $("f-check").value;
  let view = d.segments.filter((s) => {
    const cells = Object.values(s.per).filter((c) => !c.skipped);
    if (flagged && !cells.some((c) => c.flagged)) return false;
    if (unrev && !cells.some((c) => !c.approved)) return false;
    if (doc && s.doc !== doc) return false;
    if (check && !cells.some((c) => c.flags.includes(check))) return false;
    return true;
  });
  if ($("sort").value === "score") view = view.slice().sort((a, b) => segScore(b) - segScore(a));
  const keep = state.view[state.cur] && state.view[state.cur].id;
  state.view = view;
  state.cur = Math.max(0, view.findIndex((s) => s.id === keep));
  render();
}

function render() {
  const main = $("segments");
  main.replaceChildren(...state.view.map((s, i) => segmentBox(s, i)));
  focusRow(state.cur, false);
}

function segmentBox(s, i) {
  const box = el("section", "seg");
  box.dataset.id = s.id;
  box.dataset.index = i;
  const head = el("div", "head");
  head.appendChild(el("span", "sid", s.id));
  const score = segScore(s);
  if (score >= 0) head.appendChild(el("span", "score", `score ${score.toFixed(2)}`));
  box.appendChild(head);
  box.appendChild(el("div", "en", s.en));
  if (s.skip) { box.appendChild(el("div", "skip", `skipped: ${s.skip}`)); return box; }
  if (!s.editable) box.appendChild(el("div", "warn", "The English changed since the run: run `workflow run`, then reload."));
  const cells = el("div", "cells");
  for (const t of state.data.targets) if (s.per[t]) cells.appendChild(cellBox(s, t));
  box.appendChild(cells);
  box.addEventListener("focusin", () => { state.cur = i; markCurrent(); loadDetail(s.id); });
  return box;
}

function cellBox(s, t) {
  const c = s.per[t];
  const box = el("div", "cell");
  box.dataset.target = t;
  if (c.flagged && !c.approved) box.classList.add("flagged");
  if (c.approved) box.classList.add("approved");
  if (c.needs_work) box.classList.add("needs-work");
  const label = el("div", "label");
  label.appendChild(el("b", null, t));
  label.appendChild(el("span", "state", c.needs_work ? `needs work (${c.marked_by})` :
    c.approved ? `approved by ${c.reviewer}` : c.flagged ? `flagged: ${c.flags.join(", ")}` : "machine translation"));
  label.appendChild(el("span", "rev", `revision ${c.revision}`));
  box.appendChild(label);
  const area = el("textarea");
  area.name = `${s.id}/${t}`;
  area.rows = 3;
  const key = `${s.id}/${t}`;
  area.value = key in state.edits ? state.edits[key].text : (c.draft !== null && c.needs_work ? c.draft : c.text || "");
  area.disabled = !s.editable;
  area.addEventListener("input", () => {
    state.edits[key] = { text: area.value, revision: (state.edits[key] || {}).revision ?? c.revision };
    keepEdits();
  });
  area.addEventListener("focus", () => { state.target = t; });
  box.appendChild(area);
  if (typeof c.latin === "string") {  // [outputs] latin: the Łacinka of the approved text, read-only
    const lat = el("div", "latin", c.latin);
    lat.lang = "be-Latn";
    lat.title = "Łacinka made from the approved Belarusian (else the MT); fix the Cyrillic text";
    lat.prepend(el("span", "tag", "be-Latn (read-only): "));
    box.appendChild(lat);
  }
  const { box: mt, reasons } = highlighted(c.mt, c.spans);
  if (c.approved || c.needs_work) mt.prepend(el("span", "tag", "MT: "));
  box.appendChild(mt);
  if (reasons.length) {
    const why = el("ul", "why");
    for (const r of reasons) why.appendChild(el("li", null, r));
    box.appendChild(why);
  }
  if (c.reference) box.appendChild(el("div", "reference", `reference: ${c.reference}`));
  if (c.fuzzy_match) box.appendChild(el("div", "fuzzy", `earlier fix of a changed sentence: ${c.fuzzy_match}`));
  const buttons = el("div", "buttons");
  const approve = el("button", "approve", "approve");
  approve.type = "button";
  approve.addEventListener("click", () => save(s.id, t, "approve"));
  const work = el("button", "needs-work", "needs work");
  work.type = "button";
  work.addEventListener("click", () => save(s.id, t, "needs_work"));
  const undo = el("button", "undo", "undo");
  undo.type = "button";
  undo.disabled = !c.approved;
  undo.addEventListener("click", () => undoFix(s.id, t));
  for (const b of [approve, work, undo]) { b.disabled = b.disabled || !s.editable; buttons.appendChild(b); }
  box.appendChild(buttons);
  box.appendChild(el("div", "msg"));
  return box;
}

function segById(id) { return state.data.segments.find((s) => s.id === id); }

function cellMsg(id, t, text, cls) {
  const box = document.querySelector(`section.seg[data-id="${CSS.escape(id)}"] .cell[data-target="${CSS.escape(t)}"] .msg`);
  if (box) { box.textContent = text; box.className = "msg " + (cls || ""); }
  return box;
}

function rerender(id) {
  const i = state.view.findIndex((s) => s.id === id);
  const old = document.querySelector(`section.seg[data-id="${CSS.escape(id)}"]`);
  if (i >= 0 && old) old.replaceWith(segmentBox(state.view[i], i));
  markCurrent();
}

async function save(id, t, action) {
  const s = segById(id), c = s.per[t], key = `${id}/${t}`;
  const area = document.querySelector(`textarea[name="${CSS.escape(key)}"]`);
  const base = state.edits[key] ? state.edits[key].revision : c.revision;
  const body = { id, target: t, text: area.value, action, revision: base, en_hash: s.en_hash,
                 reviewer: $("reviewer").value || undefined };
  const { status: code, json } = await api("/api/save", body);
  if (code === 200) {
    s.per[t] = json.cell;
    dropEdit(key);
    rerender(id);
    cellMsg(id, t, json.unchanged ? "unchanged (same as the approved text or the MT; undo returns to the MT)" :
      action === "approve" ? "saved and approved" : "kept as needs work", "ok");
    showProgress(json.progress);
    return true;
  }
  if (code === 409 && json.error === "stale_revision") {
    state.edits[key] = { text: area.value, revision: base };
    keepEdits();
    conflict(id, t, json);
    return false;
  }
  cellMsg(id, t, json.message || `error ${code}`, "error");
  return false;
}

function conflict(id, t, json) {
  const box = cellMsg(id, t, json.message, "conflict");
  if (!box) return;
  const theirs = el("div", "theirs");
  theirs.appendChild(el("span", "tag", "their text: "));
  theirs.appendChild(el("span", "their-text", json.cell.needs_work ? json.cell.draft : json.cell.text));
  box.appendChild(theirs);
  const take = el("button", "take-theirs", "use theirs");
  take.type = "button";
  take.addEventListener("click", () => {
    segById(id).per[t] = json.cell;
    dropEdit(`${id}/${t}`);
    rerender(id);
  });
  const mine = el("button", "keep-mine", "keep mine (then approve)");
  mine.type = "button";
  mine.addEventListener("click", () => {
    const key = `${id}/${t}`;
    const text = state.edits[key].text;
    segById(id).per[t] = json.cell;
    state.edits[key] = { text, revision: json.cell.revision };
    keepEdits();
    rerender(id);
  });
  box.append(take, mine);
}

async function undoFix(id, t) {
  const s = segById(id), c = s.per[t];
  const { status: code, json } = await api("/api/undo", { id, target: t, revision: c.revision,
                                                          reviewer: $("reviewer").value || undefined });
  if (code === 200) {
    s.per[t] = json.cell;
    dropEdit(`${id}/${t}`);
    rerender(id);
    cellMsg(id, t, "undone", "ok");
    showProgress(json.progress);
  } else if (code === 409 && json.error === "stale_revision") {
    conflict(id, t, json);
  } else {
    cellMsg(id, t, json.message || `error ${code}`, "error");
  }
}

async function loadDetail(id) {
  if (state.detailFor === id) return;
  state.detailFor = id;
  const { status: code, json } = await api(`/api/segment?id=${encodeURIComponent(id)}`);
  const aside = $("detail");
  if (code !== 200 || state.detailFor !== id) return;
  const parts = [el("h2", null, id)];
  for (const t of state.data.targets) {
    const list = json.suggestions[t] || [];
    parts.push(el("h3", null, `translation memory (${t})`));
    if (!list.length) parts.push(el("p", "none", "no earlier fix of similar English"));
    for (const sug of list) {
      const p = el("div", "suggestion");
      p.appendChild(el("div", "sug-en", `${sug.score}% ${sug.en}`));
      p.appendChild(el("div", "sug-text", sug.text));
      const use = el("button", "use", "use");
      use.type = "button";
      use.addEventListener("click", () => {
        const key = `${id}/${t}`;
        const area = document.querySelector(`textarea[name="${CSS.escape(key)}"]`);
        if (!area) return;
        area.value = sug.text;
        area.dispatchEvent(new Event("input"));
        area.focus();
      });
      p.appendChild(use);
      parts.push(p);
    }
  }
  parts.push(el("h3", null, "glossary"));
  if (!json.glossary.length) parts.push(el("p", "none", "no glossary name in this sentence"));
  for (const g of json.glossary) {
    const p = el("div", "term");
    p.appendChild(el("b", null, g.en.join(" / ")));
    for (const t of state.data.targets) {
      if (g.forms[t] && g.forms[t].length) p.appendChild(el("div", null, `${t}: ${g.forms[t].join(", ")}`));
      if (g.avoid[t] && g.avoid[t].length) p.appendChild(el("div", "avoid", `${t}, not: ${g.avoid[t].join(", ")}`));
    }
    parts.push(p);
  }
  aside.replaceChildren(...parts);
}

function markCurrent() {
  document.querySelectorAll("section.seg.current").forEach((e) => e.classList.remove("current"));
  const s = state.view[state.cur];
  const box = s && document.querySelector(`section.seg[data-id="${CSS.escape(s.id)}"]`);
  if (box) box.classList.add("current");
}

function focusRow(i, scroll = true) {
  if (!state.view.length) return;
  state.cur = Math.min(Math.max(i, 0), state.view.length - 1);
  markCurrent();
  const s = state.view[state.cur];
  const box = document.querySelector(`section.seg[data-id="${CSS.escape(s.id)}"]`);
  if (box && scroll) box.scrollIntoView({ block: "center" });
  loadDetail(s.id);
}

function isFlagged(s) { return Object.values(s.per).some((c) => c.flagged && !c.approved); }

function nextFlagged(step) {
  for (let i = state.cur + step; i >= 0 && i < state.view.length; i += step) {
    if (isFlagged(state.view[i])) { focusRow(i); return; }
  }
  status(step > 0 ? "no flagged segment below" : "no flagged segment above");
}

document.addEventListener("keydown", async (ev) => {
  const tag = ev.target.tagName;
  if (tag === "TEXTAREA" || tag === "INPUT" || tag === "SELECT") {
    if (ev.key === "Escape") ev.target.blur();
    if (ev.key === "Enter" && ev.ctrlKey && tag === "TEXTAREA") {
      ev.preventDefault();
      const [id, t] = [ev.target.closest("section.seg").dataset.id, ev.target.closest(".cell").dataset.target];
      if (await save(id, t, "approve")) nextFlagged(1);
    }
    return;
  }
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === "j") { ev.preventDefault(); nextFlagged(1); }
  else if (ev.key === "k") { ev.preventDefault(); nextFlagged(-1); }
  else if (ev.key === "a") {
    ev.preventDefault();
    const s = state.view[state.cur];
    if (!s || !s.editable) return;
    const t = state.target && s.per[state.target] ? state.target : state.data.targets.find((x) => s.per[x]);
    if (await save(s.id, t, "approve")) nextFlagged(1);
  }
});

async function load() {
  const { status: code, json } = await api("/api/segments");
  if (code !== 200) { status(json.message || `error ${code}`); return; }
  state.data = json;
  for (const [key, edit] of Object.entries(state.edits)) {  // a kept text the server now has, or for no segment
    const [id, t] = [key.slice(0, key.lastIndexOf("/")), key.slice(key.lastIndexOf("/") + 1)];
    const s = json.segments.find((x) => x.id === id);
    if (!s || !s.per[t] || s.per[t].text === edit.text) delete state.edits[key];
  }
  keepEdits();
  if (!$("reviewer").value) $("reviewer").value = localStorage.getItem(KEPT + ":reviewer") || json.reviewer;
  const fill = (sel, items) => { for (const x of items) { const o = el("option", null, x); o.value = x; sel.appendChild(o); } };
  if ($("f-doc").options.length === 1) fill($("f-doc"), json.docs);
  if ($("f-check").options.length === 1) fill($("f-check"), json.checks);
  $("refresh").hidden = !json.can_refresh;
  showProgress(json.progress);
  applyView();
  document.documentElement.dataset.ready = "1";
}

for (const id of ["f-flagged", "f-unreviewed", "f-doc", "f-check", "sort"]) $(id).addEventListener("change", applyView);
$("reviewer").addEventListener("input", () => {
  try { localStorage.setItem(KEPT + ":reviewer", $("reviewer").value); } catch (e) { /* kept for this page only */ }
});
$("refresh").addEventListener("click", async () => {
  status("refreshing outputs (workflow score)...");
  const { status: code, json } = await api("/api/refresh", {});
  status(code === 200 ? `outputs refreshed in ${json.seconds} s` : (json.message || `error ${code}`));
  if (code === 200) load();
});
load();
