"""The page's "refresh outputs" runs the real `workflow score` inside the server (injected by
the CLI): aligned/ is rewritten with the saved fixes in it, the server reloads it, and the
saves made after it are still in the store when the server stops (the in-process store the
refresh opens must not cost the server's connection its commits)."""

from __future__ import annotations

import sqlite3

import httpx

from serve_project import make_project, start_server, token_of

from workflow.core.config import load_config
from workflow.core.records import STATUS_REVIEWED
from workflow.outputs import parquet

FIRST = "Лукашэнка сказаў, што пратэсты скончыліся."
LATER = "Другі сказ пра правы і свабоду."


def _save(url, headers, seg, text):
    return httpx.post(url + "api/save", headers=headers, timeout=60,
                      json={"id": seg["id"], "target": "be", "text": text, "revision": seg["per"]["be"]["revision"],
                            "en_hash": seg["en_hash"]})


def test_refresh_rescores_with_the_fixes_and_later_saves_stay(tmp_path):
    cfg_path = make_project(tmp_path)
    cfg = load_config(cfg_path)
    proc, url = start_server(cfg_path, "--reviewer", "alice")
    try:
        headers = {"X-Review-Token": token_of(url)}
        segs = httpx.get(url + "api/segments", timeout=60).json()["segments"]
        assert _save(url, headers, segs[0], FIRST).status_code == 200
        before = parquet.table_path(cfg.resolve(cfg.out)).stat().st_ino
        r = httpx.post(url + "api/refresh", headers=headers, json={}, timeout=600)
        assert r.status_code == 200, r.text
        assert parquet.table_path(cfg.resolve(cfg.out)).stat().st_ino != before  # a new set was switched in
        rows = {(x.seg_id, x.target): x for x in parquet.read_rows(cfg.resolve(cfg.out))}
        first = rows[(segs[0]["id"], "be")]
        assert (first.status, first.approved, first.reviewer) == (STATUS_REVIEWED, FIRST, "alice")
        assert "names" in first.flags  # rescored: the glossary's Lukashenka is blamed in the MT
        again = httpx.get(url + "api/segments", timeout=60).json()["segments"]
        assert again[0]["per"]["be"]["flags"] == first.flags  # the server reloaded aligned/
        assert _save(url, headers, again[1], LATER).status_code == 200
    finally:
        proc.terminate()
        proc.wait(30)
    db = sqlite3.connect(cfg.resolve(cfg.store))
    assert sorted(db.execute("SELECT seg_id, text FROM approved")) == [(segs[0]["id"], FIRST), (segs[1]["id"], LATER)]
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
