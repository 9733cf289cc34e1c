"""A project for the `workflow review serve` tests and bench: a corpus, a config and the
segments table a run would have written (made from the real corpus reader and segmenter,
with synthetic Belarusian/Russian MT), so no model is needed."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from workflow.core.config import load_config
from workflow.core.records import Row
from workflow.outputs import parquet
from workflow.review.importer import current_segments

HOSTILE_EN = "<script>document.title='pwned'</script><img src=x onerror=\"document.body.dataset.pwned=1\"> & ]]>"
GLOSSARY = '[[term]]\nen = ["Lukashenka"]\nbe = ["Лукашэнка"]\nru = ["Лукашенко"]\navoid_be = ["Лукашенка"]\nkind = "person"\n'


def be_text(n: int, extra: str = "") -> str:
    return f"Гэта пераклад сказа {n} пра правы чалавека і свабоду{extra}."


def ru_text(n: int, extra: str = "") -> str:
    return f"Это перевод предложения {n} о правах человека и свободе{extra}."


def make_project(folder: Path, docs: int = 2, sentences: int = 6, hostile: bool = True) -> Path:
    """``folder`` with corpus/, config.toml and aligned/segments.parquet; returns the config path.
    Every third segment is flagged with a blamed span; doc-1's first sentence names Lukashenka;
    with ``hostile`` the last document's second sentence is markup."""
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for d in range(1, docs + 1):
        lines = [f"Sentence {d}-{i} about human rights in Belarus number {i}." for i in range(1, sentences + 1)]
        if d == 1:
            lines[0] = "Lukashenka said the protests were over."
        if hostile and d == docs:
            lines[1] = HOSTILE_EN
            lines.append("Read more")  # boilerplate: a skipped segment
        (corpus / f"doc-{d}.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    (corpus / "glossary.toml").write_text(GLOSSARY, encoding="utf-8")
    cfg = folder / "config.toml"
    cfg.write_text(f'corpus = "{corpus}"\nout = "{folder / "aligned"}"\nstore = "{folder / "store.sqlite"}"\n'
                   '[models]\nbe = "tiny/be"\nru = "tiny/ru"\n\n[checks]\nscorer = "checks"\n'
                   f'glossary = "{corpus / "glossary.toml"}"\n', encoding="utf-8")
    config = load_config(cfg)
    rows = []
    for n, seg in enumerate(current_segments(config).values()):
        for target, mt in (("be", be_text(n)), ("ru", ru_text(n))):
            if seg.skip:
                rows.append(Row(seg.doc_id, seg.seg_id, seg.para, seg.sent, seg.line, seg.hash, seg.text, target,
                                "skipped", seg.skip, None, "", "", "", None, None, False, False, None))
                continue
            flagged = n % 3 == 0
            rows.append(Row(seg.doc_id, seg.seg_id, seg.para, seg.sent, seg.line, seg.hash, seg.text, target,
                            "mt", None, mt, "tiny", "rev", "transformers", -0.5, 9, False, False, 1.0,
                            ["length_ratio"] if flagged else [], 0.9 - n * 0.01 if flagged else 0.1, flagged,
                            [{"start": 0, "end": 4, "reason": "length ratio off"}] if flagged else [],
                            reference="Эталонны пераклад." if target == "be" and n == 1 else None))
    out = folder / "aligned"
    out.mkdir(exist_ok=True)
    for name, data in parquet.files(rows, ["be", "ru"], {}):
        (out / name).write_bytes(data)
    return cfg


def start_server(config: Path, *args: str, timeout: float = 60.0) -> tuple[subprocess.Popen, str]:
    """``workflow review serve --port 0`` on ``config`` in a child process; (process, its URL).
    Its standard error is drained in a thread (kept in ``process.log``)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1", "COLUMNS": "300"}
    proc = subprocess.Popen([sys.executable, "-m", "workflow.cli", "review", "serve", "--port", "0",
                             "--config", str(config), *args], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True, env=env)
    proc.log = []  # type: ignore[attr-defined]
    found: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        for line in proc.stderr:
            proc.log.append(line)  # type: ignore[attr-defined]
            m = re.search(r"at (http://\S+?/)", line)
            if m and not found:
                found.append(m.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.1) and time.monotonic() < deadline:
        pass
    if not found:
        proc.kill()
        raise RuntimeError("the server did not start:\n" + "".join(proc.log))  # type: ignore[attr-defined]
    return proc, found[0]


# ---------------------------------------------------------------- concurrent reviewers over HTTP

_FIX = {"be": "Рэцэнзент {r} версія {k} сегмент {i} пра правы.", "ru": "Рецензент {r} версия {k} сегмент {i} и права."}
_PARSE = re.compile(r"^\S+ (\d+) \S+ (\d+) сегмент (\d+) ")


def fix_text(target: str, reviewer: int, k: int, index: int) -> str:
    """Reviewer ``reviewer``'s ``k``-th save for segment number ``index``: a text that says where it belongs."""
    return _FIX[target].format(r=reviewer, k=k, i=index)


def token_of(url: str) -> str:
    """The write token the served page carries."""
    page = httpx.get(url, timeout=30).text
    return re.search(r'name="review-token" content="([^"]+)"', page).group(1)


def reviewer_saves(url: str, token: str, r: int, keys: list[tuple[dict, str]], n: int, records: list[dict],
                   shared: tuple[dict, str] | None = None, every: int = 10) -> None:
    """Reviewer ``r`` makes ``n`` saves over HTTP, cycling over ``keys`` ((segment, target)),
    every ``every``-th on ``shared`` (refused saves there are retried on the new revision,
    as "keep mine" does). Each attempt is a record in ``records`` before it is sent
    (status None: in flight), with its HTTP status and seconds after."""
    revisions: dict[tuple[str, str], int] = {}
    with httpx.Client(base_url=url, headers={"X-Review-Token": token}, timeout=60) as client:
        for k in range(n):
            seg, target = shared if shared is not None and k % every == every - 1 else keys[k % len(keys)]
            index = int(seg["n"])
            text = fix_text(target, r, k, index)
            key = (seg["id"], target)
            for _ in range(20):
                rec = {"key": key, "text": text, "status": None, "seconds": None}
                records.append(rec)
                body = {"id": seg["id"], "target": target, "text": text, "en_hash": seg["en_hash"],
                        "revision": revisions.get(key, seg["per"][target]["revision"]), "reviewer": f"r{r}"}
                started = time.perf_counter()
                try:
                    resp = client.post("/api/save", json=body)
                except httpx.TransportError:
                    rec["status"] = "no answer"
                    return
                rec["status"], rec["seconds"] = resp.status_code, time.perf_counter() - started
                if resp.status_code in (200, 409):
                    revisions[key] = resp.json()["cell"]["revision"]
                if resp.status_code != 409:
                    break


def audit(store: Path, records: list[dict], segments: list[dict]) -> dict:
    """What the store holds against what was sent: integrity_check, acknowledged saves
    missing (lost), texts under another segment or language than they were sent for
    (misfiled), texts nobody sent (foreign), keys whose revision is not their number of
    versions. A save with no answer may be there or not."""
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        rows = db.execute("SELECT seg_id, target, text FROM approved UNION ALL "
                          "SELECT seg_id, target, text FROM approved_history").fetchall()
        revisions = {(d, t, h): n for d, t, h, n in db.execute("SELECT * FROM fix_revisions")}
        current = {(s, t): x for s, t, x in db.execute("SELECT seg_id, target, text FROM approved")}
        keys = db.execute("SELECT doc_id, target, source_hash, seg_id FROM approved").fetchall()
        versions = dict(db.execute("SELECT doc_id || target || source_hash, COUNT(*) FROM approved_history "
                                   "GROUP BY doc_id, target, source_hash").fetchall())
    finally:
        db.close()
    by_index = {int(s["n"]): s["id"] for s in segments}
    sent = {rec["text"]: rec for rec in records}
    stored = {(seg, t, x) for seg, t, x in rows}
    lost = [rec for rec in records if rec["status"] in (200, "imported") and (*rec["key"], rec["text"]) not in stored]
    misfiled, foreign = [], []
    for seg, t, x in rows:
        m = _PARSE.match(x)
        if x not in sent or m is None:
            foreign.append((seg, t, x))
        elif (by_index[int(m.group(3))], "be" if x.startswith("Рэцэнзент") else "ru") != (seg, t):
            misfiled.append((seg, t, x))
    bad_revisions = [(d, t, h) for d, t, h, _ in keys if revisions.get((d, t, h)) != 1 + versions.get(d + t + h, 0)]
    return {"integrity": integrity, "lost": lost, "misfiled": misfiled, "foreign": foreign,
            "bad_revisions": bad_revisions, "stored": len(rows), "current": current,
            "acknowledged": sum(rec["status"] in (200, "imported") for rec in records),
            "in_flight": [rec for rec in records if rec["status"] in (None, "no answer")]}


def numbered(segments: list[dict]) -> list[dict]:
    """The served segments that can be edited, each with its index in ``n``."""
    return [{**s, "n": i} for i, s in enumerate(segments) if s["editable"]]
