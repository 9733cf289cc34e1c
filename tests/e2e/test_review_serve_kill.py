"""Kill `workflow review serve` (kill -9) while eight reviewers' saves are in flight: the store
passes integrity_check, every acknowledged save is there under its own segment and
language, every save in flight is wholly there or not at all, and a new server goes on
from the revisions the store holds."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx

from serve_project import audit, make_project, numbered, reviewer_saves, start_server, token_of

from workflow.core.config import load_config


def test_kill_during_saves(tmp_path):
    cfg_path = make_project(tmp_path, docs=4, sentences=8, hostile=False)
    cfg = load_config(cfg_path)
    proc, url = start_server(cfg_path)
    token = token_of(url)
    segments = numbered(httpx.get(url + "api/segments", timeout=30).json()["segments"])
    records: list[dict] = []
    threads = []
    for r in range(8):
        mine = [(s, t) for s in segments if s["n"] % 8 == r for t in ("be", "ru")]
        threads.append(threading.Thread(target=reviewer_saves, args=(url, token, r, mine, 400, records),
                                        kwargs={"shared": (segments[0], "be")}, daemon=True))
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while sum(rec["status"] == 200 for rec in list(records)) < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)  # saves in flight
    proc.wait(10)
    for t in threads:
        t.join(60)
    got = audit(cfg.resolve(cfg.store), records, segments)
    assert got["integrity"] == "ok"
    assert got["acknowledged"] >= 60 and got["in_flight"], "the kill should meet saves in flight"
    assert got["lost"] == [] and got["misfiled"] == [] and got["foreign"] == [] and got["bad_revisions"] == []
    assert got["stored"] <= len(records)

    again, url2 = start_server(cfg_path)  # the store opens as it is; saving goes on from its revisions
    try:
        seg = httpx.get(url2 + "api/segments", timeout=30).json()["segments"][1]
        key = (seg["id"], "be")
        assert seg["per"]["be"]["text"] == got["current"].get(key, seg["per"]["be"]["mt"])
        r = httpx.post(url2 + "api/save", headers={"X-Review-Token": token_of(url2)}, timeout=30,
                       json={"id": seg["id"], "target": "be", "text": "Пасля перазапуску: правы і свабоды.",
                             "revision": seg["per"]["be"]["revision"], "en_hash": seg["en_hash"]})
        assert r.status_code == 200 and r.json()["cell"]["revision"] == seg["per"]["be"]["revision"] + 1
    finally:
        again.terminate()
        again.wait(10)
