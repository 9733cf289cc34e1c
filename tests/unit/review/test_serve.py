"""`workflow review serve`'s API through Starlette's TestClient: every route, every refusal,
and that a save is stored by the same code as `review import` (same checks, same fix)."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time

import pytest
from starlette.testclient import TestClient

from serve_project import HOSTILE_EN, be_text, make_project, ru_text

from workflow.cli.app import main
from workflow.core.config import load_config
from workflow.core.lock import project_lock
from workflow.core.store import Store
from workflow.outputs import parquet
from workflow.outputs.latin import to_latin
from workflow.review import memory as memory_module
from workflow.review import serve
from workflow.review.importer import ImportRejected, import_files
from workflow.review.memory import Fix, Memory
from workflow.review.serve import MAX_BODY, Session, create_app

TOKEN = "t" * 32
WRITE = {"X-Review-Token": TOKEN}
BASE = "http://127.0.0.1:8765"
BE_FIX = "Лукашэнка сказаў, што пратэсты скончыліся."


@pytest.fixture
def project(tmp_path):
    cfg = load_config(make_project(tmp_path))
    session = Session(cfg, "alice")
    yield cfg, session
    session.close()


@pytest.fixture
def client(project):
    return TestClient(create_app(project[1], TOKEN), base_url=BASE)


def _seg(client, i=0):
    return client.get("/api/segments").json()["segments"][i]


def _save(client, seg, text, target="be", revision=0, **more):
    body = {"id": seg["id"], "target": target, "text": text, "revision": revision, "en_hash": seg["en_hash"], **more}
    return client.post("/api/save", json=body, headers=WRITE)


def _stored(cfg, seg, target="be"):
    with Store(cfg.resolve(cfg.store)) as st:
        m = Memory(st)
        key = (seg["doc"], target, seg["en_hash"])
        return m.get(*key), m.revision(key), len(m.history())


def test_page_is_a_shell_with_the_token_and_a_strict_csp(client):
    r = client.get("/")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "script-src 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert f'<meta name="review-token" content="{TOKEN}">' in r.text
    assert '<script src="/static/review.js" defer></script>' in r.text
    assert r.text.count("<script") == 1  # no inline script: the data comes through the API
    assert HOSTILE_EN not in r.text and "Sentence" not in r.text


def test_static_files_are_fixed_routes(client):
    js, css = client.get("/static/review.js"), client.get("/static/review.css")
    assert js.status_code == css.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript") and "X-Review-Token" in js.text
    assert css.headers["content-type"].startswith("text/css")
    assert client.get("/favicon.ico").status_code == 204
    for path in ("/static/../config.toml", "/static/serve.py", "/static/%2e%2e/serve.py", "/store.sqlite"):
        assert client.get(path).status_code == 404


def test_segments_are_the_runs_rows_with_the_stores_state(project, client):
    cfg, _ = project
    data = client.get("/api/segments").json()
    rows = parquet.read_rows(cfg.resolve(cfg.out))
    assert [s["id"] for s in data["segments"]] == list(dict.fromkeys(r.seg_id for r in rows))
    translated = [r for r in rows if not r.is_skipped]
    assert len(translated) == len(rows) - 2  # one skipped segment, two languages
    assert data["progress"] == {"total": len(translated), "flagged": sum(r.flagged for r in rows), "reviewed": 0,
                                "needs_work": 0, "flagged_open": sum(r.flagged for r in rows)}
    skipped = next(s for s in data["segments"] if s["skip"])
    assert skipped["skip"] == "navigation link (read-more)" and skipped["per"]["be"] == {"skipped": True}
    hostile = next(s for s in data["segments"] if s["en"] == HOSTILE_EN)  # as text, for textContent
    assert hostile["per"]["be"]["mt"] == be_text(data["segments"].index(hostile))
    first = data["segments"][0]["per"]["be"]
    assert first["spans"] == [{"start": 0, "end": 4, "reason": "length ratio off"}] and first["flagged"]
    assert data["segments"][1]["per"]["be"]["reference"] == "Эталонны пераклад."
    assert data["checks"] == ["length_ratio"] and data["docs"] == ["doc-1", "doc-2"]


def test_approve_stores_the_fix_at_once_with_reviewer_and_revision(project, client):
    cfg, _ = project
    seg = _seg(client)
    r = _save(client, seg, BE_FIX, reviewer="bob")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cell"]["approved"] and body["cell"]["text"] == BE_FIX and body["cell"]["revision"] == 1
    assert body["progress"]["reviewed"] == 1
    fix, revision, _ = _stored(cfg, seg)
    assert (fix.text, fix.reviewer, fix.seg_id, fix.target, revision) == (BE_FIX, "bob", seg["id"], "be", 1)
    assert fix.origin == "review serve:0" and fix.mt_replaced == seg["per"]["be"]["mt"]
    assert _seg(client)["per"]["be"]["text"] == BE_FIX  # a reload shows it
    ru, ru_revision, _ = _stored(cfg, seg, "ru")
    assert ru is None and ru_revision == 0  # per language


def test_the_mt_approved_as_it_is(project, client):
    cfg, _ = project
    seg = _seg(client, 2)
    assert _save(client, seg, seg["per"]["ru"]["mt"], target="ru").status_code == 200
    assert _stored(cfg, seg, "ru")[0].text == seg["per"]["ru"]["mt"]


def test_a_stale_revision_is_refused_with_the_other_text(project, client):
    """Two reviewers (or two tabs) start from revision 0; the second save is refused, nothing lost."""
    cfg, _ = project
    seg = _seg(client)
    assert _save(client, seg, BE_FIX, reviewer="alice").status_code == 200
    r = _save(client, seg, "Лукашэнка сказаў іншае.", reviewer="bob")
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "stale_revision" and "alice" in body["message"]
    assert body["cell"]["text"] == BE_FIX and body["cell"]["revision"] == 1
    fix, revision, history = _stored(cfg, seg)
    assert (fix.text, revision, history) == (BE_FIX, 1, 0)
    again = _save(client, seg, "Лукашэнка сказаў іншае.", revision=1, reviewer="bob")  # based on what is there now
    assert again.status_code == 200
    fix, revision, history = _stored(cfg, seg)
    assert (fix.text, fix.reviewer, revision, history) == ("Лукашэнка сказаў іншае.", "bob", 2, 1)


@pytest.mark.parametrize("headers", [{}, {"X-Review-Token": "wrong" * 8}, {"X-Review-Token": ""}])
def test_writes_need_the_token(project, client, headers):
    cfg, _ = project
    seg = _seg(client)
    body = {"id": seg["id"], "target": "be", "text": BE_FIX, "revision": 0}
    for path in ("/api/save", "/api/undo", "/api/refresh"):
        r = client.post(path, json=body, headers=headers)
        assert r.status_code == 403 and r.json()["error"] == "token"
    assert _stored(cfg, seg)[0] is None


@pytest.mark.parametrize("headers,code", [
    ({"Origin": "http://evil.example"}, 403),
    ({"Origin": "http://127.0.0.1:9999"}, 403),
    ({"Sec-Fetch-Site": "cross-site"}, 403),
    ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
    ({"Content-Type": "text/plain"}, 415),
])
def test_cross_site_writes_are_refused(project, client, headers, code):
    cfg, _ = project
    seg = _seg(client)
    r = client.post("/api/save", content=f'{{"id": "{seg["id"]}", "target": "be", "text": "{BE_FIX}", "revision": 0}}',
                    headers={"Content-Type": "application/json", **WRITE, **headers})
    assert r.status_code == code
    assert _stored(cfg, seg)[0] is None
    ok = client.post("/api/save", json={"id": seg["id"], "target": "be", "text": BE_FIX, "revision": 0},
                     headers={**WRITE, "Origin": BASE, "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 200


def test_an_unknown_host_is_refused(client):
    assert client.get("/", headers={"Host": "evil.example:8765"}).status_code == 400
    assert client.get("/api/segments", headers={"Host": "localhost:8765"}).status_code == 200


def test_oversized_bodies_and_fields_are_refused_with_a_clear_error(project, client):
    cfg, _ = project
    seg = _seg(client)
    big = client.post("/api/save", content=b'{"text": "' + b"a" * MAX_BODY + b'"}',
                      headers={**WRITE, "Content-Type": "application/json"})
    assert big.status_code == 413 and "64 KB" in big.json()["message"]
    chunked = client.post("/api/save", content=iter([b'{"text": "', b"a" * MAX_BODY, b'"}']),
                          headers={**WRITE, "Content-Type": "application/json"})  # no Content-Length
    assert chunked.status_code == 413
    field = _save(client, seg, BE_FIX, reviewer="r" * 500)
    assert field.status_code == 413 and "reviewer" in field.json()["message"]
    long = _save(client, seg, "і" * 2000)  # within the body limit, over the per-segment limit of review import
    assert long.status_code == 422 and "more than the" in long.json()["message"]
    assert _stored(cfg, seg)[0] is None


@pytest.mark.parametrize("body,code,error", [
    ({"id": "doc-1:p99:s1", "target": "be", "text": BE_FIX, "revision": 0}, 404, "unknown_segment"),
    ({"id": "nodoc:p1:s1", "target": "be", "text": BE_FIX, "revision": 0}, 404, "unknown_segment"),
    ({"id": "doc-1:p1:s1", "target": "uk", "text": BE_FIX, "revision": 0}, 400, "wrong_language"),
    ({"id": "doc-1:p1:s1", "target": "be", "text": BE_FIX}, 400, "bad_request"),
    ({"id": "doc-1:p1:s1", "target": "be", "text": BE_FIX, "revision": "0"}, 400, "bad_request"),
    ({"id": "doc-1:p1:s1", "target": "be", "text": BE_FIX, "revision": 0, "action": "delete"}, 400, "bad_request"),
    ({"id": "doc-2:p7:s1", "target": "be", "text": BE_FIX, "revision": 0}, 400, "skipped"),
])
def test_bad_requests(client, body, code, error):
    r = client.post("/api/save", json=body, headers=WRITE)
    assert (r.status_code, r.json()["error"]) == (code, error)
    assert client.post("/api/save", content=b"not json", headers={**WRITE, "Content-Type": "application/json"}
                       ).json()["error"] == "bad_json"
    assert client.get("/api/segment", params={"id": "doc-1:p77:s1"}).status_code == 404


@pytest.mark.parametrize("text,detected", [
    (ru_text(0), "ru machine translation"),  # the other language's text: swapped columns
    (ru_text(7, " сегодня"), "detected: ru"),  # the other target language
    ("This sentence was left in English by mistake.", "detected: en"),
    ("Гэта \x07 тэкст.", "control character"),
])
def test_a_fix_in_the_wrong_language_is_refused_as_import_refuses_it(project, client, tmp_path, text, detected):
    """The same check, the same message as `review import` of a TSV with that text."""
    cfg, _ = project
    seg = _seg(client)
    r = _save(client, seg, text)
    assert r.status_code == 422 and detected in r.json()["message"]
    tsv = tmp_path / "edit.tsv"
    tsv.write_text(f"id\ten\tbe\tstatus_be\n{seg['id']}\t{seg['en']}\t{text.replace(chr(7), '')}\tapproved\n"
                   if "\x07" not in text else f"id\ten\tbe\n{seg['id']}\t{seg['en']}\t{text}\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as e:
        import_files(cfg, [tsv], "alice")
    assert e.value.problems[0].message == r.json()["message"]
    assert _stored(cfg, seg)[0] is None


def test_a_save_and_an_import_store_the_same_fix(project, client, tmp_path):
    cfg, session = project
    seg = _seg(client)
    assert _save(client, seg, BE_FIX, reviewer="alice").status_code == 200
    served = _stored(cfg, seg)[0]
    tsv = tmp_path / "edit.tsv"
    tsv.write_text(f"id\ten\tbe\n{seg['id']}\t{seg['en']}\tЛукашэнка сказаў: пратэсты скончыліся.\n", encoding="utf-8")
    import_files(cfg, [tsv], "carol")
    imported, revision, history = _stored(cfg, seg)
    assert (imported.doc_id, imported.target, imported.source_hash, imported.seg_id, imported.mt_replaced) == \
        (served.doc_id, served.target, served.source_hash, served.seg_id, served.mt_replaced)
    assert (revision, history) == (2, 1)  # the import moved the served fix to the history and bumped the revision
    r = _save(client, seg, "Лукашэнка сказаў трэцяе.", revision=1)  # the page still shows revision 1
    assert r.status_code == 409 and "carol" in r.json()["message"]


def test_english_changed_is_refused(project, client):
    cfg, _ = project
    seg = _seg(client)
    r = _save(client, seg, BE_FIX, en_hash="0" * 16)
    assert r.status_code == 409 and r.json()["error"] == "english_changed"
    doc = cfg.resolve(cfg.corpus) / "doc-1.txt"  # the corpus changes after the run: the server reloads it
    doc.write_text(doc.read_text(encoding="utf-8").replace("Lukashenka said", "Lukashenka claimed"), encoding="utf-8")
    r = _save(client, seg, BE_FIX)
    assert r.status_code == 409 and r.json()["error"] == "english_changed"
    assert _seg(client)["editable"] is False
    assert _stored(cfg, seg)[0] is None


def test_needs_work_keeps_the_text_without_approving(project, client):
    cfg, _ = project
    seg = _seg(client, 3)
    r = _save(client, seg, "Чарнавік перакладу, яшчэ не гатовы.", action="needs_work", reviewer="dan")
    assert r.status_code == 200
    cell = r.json()["cell"]
    assert cell["needs_work"] and not cell["approved"] and cell["draft"].startswith("Чарнавік")
    assert cell["marked_by"] == "dan" and cell["revision"] == 1 and r.json()["progress"]["needs_work"] == 1
    fix, revision, _ = _stored(cfg, seg)
    assert fix is None and revision == 1
    done = _save(client, seg, "Гатовы пераклад пра правы і свабоду.", revision=1)
    assert done.status_code == 200 and not done.json()["cell"]["needs_work"] and done.json()["cell"]["approved"]


def test_undo_restores_the_previous_approved_text_then_the_mt(project, client):
    cfg, _ = project
    seg = _seg(client)
    assert _save(client, seg, BE_FIX).status_code == 200
    assert _save(client, seg, "Лукашэнка сказаў другое.", revision=1).status_code == 200

    def undo(revision):
        return client.post("/api/undo", json={"id": seg["id"], "target": "be", "revision": revision}, headers=WRITE)

    assert undo(1).status_code == 409  # stale
    first = undo(2)
    assert first.status_code == 200 and first.json()["cell"]["text"] == BE_FIX and first.json()["cell"]["revision"] == 3
    second = undo(3)
    assert second.status_code == 200 and not second.json()["cell"]["approved"]
    assert second.json()["cell"]["text"] == seg["per"]["be"]["mt"]
    assert undo(4).json()["error"] == "nothing_to_undo"
    fix, revision, history = _stored(cfg, seg)
    assert fix is None and revision == 4 and history == 3  # every version kept


def test_a_save_waits_for_a_run_then_says_busy(project, client, monkeypatch):
    cfg, _ = project
    monkeypatch.setattr(serve, "SAVE_WAIT", 0.3)
    seg = _seg(client)
    with project_lock(cfg.resolve(cfg.store)):  # what `workflow run` holds
        r = _save(client, seg, BE_FIX)
    assert r.status_code == 503 and "still on the page" in r.json()["message"]
    assert _stored(cfg, seg)[0] is None
    assert _save(client, seg, BE_FIX).status_code == 200


def test_refresh_runs_the_injected_callable_and_the_server_reloads(project):
    cfg, _ = project
    calls = []

    def rescore():  # stands in for `workflow score`: rewrites the segments table
        out = cfg.resolve(cfg.out)
        rows = parquet.read_rows(out)
        for r in rows:
            r.weak_score = 0.5
        with project_lock(cfg.resolve(cfg.store)):
            for name, data in parquet.files(rows, ["be", "ru"], {}):
                (out / f"{name}.new").write_bytes(data)
                (out / f"{name}.new").replace(out / name)
        calls.append(1)

    plain = TestClient(create_app(project[1], TOKEN), base_url=BASE)
    assert plain.post("/api/refresh", json={}, headers=WRITE).status_code == 501
    session = Session(cfg, "alice", refresh=rescore)
    try:
        client = TestClient(create_app(session, TOKEN), base_url=BASE)
        assert client.get("/api/segments").json()["can_refresh"]
        r = client.post("/api/refresh", json={}, headers=WRITE)
        assert r.status_code == 200 and calls == [1]
        assert {s["per"]["be"]["score"] for s in client.get("/api/segments").json()["segments"] if not s["skip"]} == {0.5}
    finally:
        session.close()


def test_beyond_loopback_every_request_needs_the_token(project):
    client = TestClient(create_app(project[1], TOKEN, everywhere=True, hosts=("*",)), base_url="http://10.0.0.5:8765")
    assert client.get("/").status_code == 403
    assert client.get("/api/segments").status_code == 403
    assert client.get("/static/review.js").status_code == 403
    assert client.get("/?token=wrong").status_code == 403
    assert client.get("/api/segments", headers=WRITE).status_code == 200
    r = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303 and "httponly" in r.headers["set-cookie"].lower()
    assert client.get("/").status_code == 200  # the cookie
    seg = client.get("/api/segments").json()["segments"][0]
    no_header = client.post("/api/save", json={"id": seg["id"], "target": "be", "text": BE_FIX, "revision": 0})
    assert no_header.status_code == 403  # the cookie alone never writes (CSRF)


def test_translation_memory_suggestions_and_glossary_hints(project, client):
    segs = client.get("/api/segments").json()["segments"]
    a, b = segs[1], segs[2]  # "Sentence 1-2 about ..." and "Sentence 1-3 about ...": similar English
    assert _save(client, a, "Сказ 1-2 пра правы чалавека ў Беларусі, нумар 2.").status_code == 200
    got = client.get("/api/segment", params={"id": b["id"]}).json()
    assert [s["seg"] for s in got["suggestions"]["be"]] == [a["id"]] and got["suggestions"]["ru"] == []
    assert got["suggestions"]["be"][0]["score"] > 90
    assert got["glossary"] == []
    names = client.get("/api/segment", params={"id": segs[0]["id"]}).json()["glossary"]
    assert names[0]["forms"] == {"be": ["Лукашэнка"], "ru": ["Лукашенко"]} and names[0]["avoid"]["be"] == ["Лукашенка"]


def test_concurrent_saves_through_threads_lose_nothing(project, client):
    """Eight threads save the same segment from revision 0: exactly one wins, seven get 409."""
    cfg, _ = project
    seg = _seg(client, 4)
    codes = []

    def one(i):
        codes.append(_save(client, seg, f"Варыянт нумар {i} пра правы і свабоду.", reviewer=f"r{i}").status_code)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] + [409] * 7
    fix, revision, history = _stored(cfg, seg)
    assert revision == 1 and history == 0 and fix.text == f"Варыянт нумар {fix.reviewer[1:]} пра правы і свабоду."


def test_an_old_store_gets_revisions_and_keeps_its_fixes(tmp_path):
    """A store from before revisions (approved + history, no fix_revisions): migrated once."""
    path = tmp_path / "old.sqlite"
    with Store(path) as st:
        st.db.executescript(memory_module.SCHEMA.split("CREATE TABLE IF NOT EXISTS review_marks")[0])
        cols = memory_module.COLUMNS
        for text, created in (("Першы.", 1.0), ("Другі.", 2.0)):
            f = Fix("d", "be", "h", "d:p1:s1", "One.", text, None, "old", created, "x.tsv:2")
            st.db.execute(f"INSERT INTO approved_history ({cols}, superseded) VALUES ({','.join('?' * 13)})",
                          (*memory_module._values(f), created + 1))
        f = Fix("d", "be", "h", "d:p1:s1", "One.", "Трэці.", None, "old", 3.0, "x.tsv:2")
        st.db.execute(f"INSERT INTO approved ({cols}) VALUES ({','.join('?' * 12)})", memory_module._values(f))
        g = Fix("d", "ru", "h", "d:p1:s1", "One.", "Один.", None, "old", 3.0, "x.tsv:2")
        st.db.execute(f"INSERT INTO approved ({cols}) VALUES ({','.join('?' * 12)})", memory_module._values(g))
    with Store(path) as st:
        m = Memory(st)
        assert m.revision(("d", "be", "h")) == 3 and m.revision(("d", "ru", "h")) == 1
        assert [f.text for f in m.all()] == ["Трэці.", "Один."] and len(m.history()) == 2
        assert m.undo(("d", "be", "h"), 3, "me").text == "Другі."
    with Store(path) as st:
        assert Memory(st).revision(("d", "be", "h")) == 4  # migrated once, not again
        assert st.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        st.db.execute("DROP TRIGGER approved_rev_update")  # as a salvage that lost part of the schema may leave it
        st.db.execute("DELETE FROM fix_revisions WHERE target = 'ru'")
    with Store(path) as st:
        m = Memory(st)
        assert m.revision(("d", "be", "h")) == 4 and m.revision(("d", "ru", "h")) == 1
        st.db.execute("UPDATE approved SET text = 'Адзін.' WHERE target = 'ru'")
        assert m.revision(("d", "ru", "h")) == 2  # the trigger is back


def test_revisions_count_writes_that_bypass_the_memory(tmp_path):
    """`store restore` and any other writer go through SQL: the triggers still count."""
    with Store(tmp_path / "s.sqlite") as st:
        m = Memory(st)
        key = ("d", "be", "h")
        m.put_many([Fix(*key, "d:p1:s1", "One.", "Адзін.", None, "a", time.time(), "x")])
        st.db.execute("UPDATE approved SET text = 'Адзін!' WHERE doc_id = 'd'")
        st.db.execute("UPDATE approved SET stale = 1 WHERE doc_id = 'd'")  # not a change of the text
        assert m.revision(key) == 2


def test_serve_beyond_loopback_without_a_token_is_a_usage_error(project, capsys, monkeypatch):
    cfg, _ = project
    monkeypatch.delenv("WORKFLOW_REVIEW_TOKEN", raising=False)
    with pytest.raises(SystemExit) as e:
        main(["review", "serve", "--host", "0.0.0.0", "--config", str(cfg.path)])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and len(err.splitlines()) == 1
    assert "not a loopback address" in err and "--token-file" in err
    short = cfg.path.parent / "token"
    short.write_text("abc\n")
    with pytest.raises(SystemExit) as e:
        main(["review", "serve", "--host", "0.0.0.0", "--token-file", str(short), "--config", str(cfg.path)])
    assert e.value.code == 2 and "at least 16" in capsys.readouterr().err


def test_the_store_is_intact_after_many_saves(project, client):
    cfg, _ = project
    segs = client.get("/api/segments").json()["segments"]
    for i, seg in enumerate(s for s in segs if s["editable"]):
        assert _save(client, seg, be_text(i, " (выпраўлена)")).status_code == 200
    db = sqlite3.connect(cfg.resolve(cfg.store))
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT COUNT(*) FROM approved").fetchone()[0] == sum(s["editable"] for s in segs)


def test_a_second_store_in_the_same_process_loses_no_commit_of_the_first(tmp_path):
    """The server keeps its store open while `review import` (or the refresh) opens the same
    file in-process: closing the second must not drop the first's locks and so its WAL."""
    path = tmp_path / "s.sqlite"
    first = Store(path)
    m = Memory(first)
    key = ("d", "be", "h")
    m.put_many([Fix(*key, "d:p1:s1", "One.", "Адзін.", None, "a", 1.0, "x")])
    with Store(path) as second:
        assert Memory(second).get(*key).text == "Адзін."
    m.put_many([Fix(*key, "d:p1:s1", "One.", "Адзін!", None, "a", 2.0, "x")])
    first.close()
    with Store(path) as again:
        assert Memory(again).get(*key).text == "Адзін!" and Memory(again).revision(key) == 2


def test_the_token_comes_from_the_file_or_the_environment(tmp_path):
    path = tmp_path / "token"
    path.write_text("a-long-enough-token-123\nsecond line ignored\n")
    assert serve.read_token(path, "ignored-when-a-file-is-given") == "a-long-enough-token-123"
    assert serve.read_token(None, "  from-the-environment-1234 ") == "from-the-environment-1234"
    assert serve.read_token(None, None) is None
    with pytest.raises(serve.InputError, match="at least 16"):
        serve.read_token(None, "short")
    with pytest.raises(serve.InputError, match="cannot read the token file"):
        serve.read_token(tmp_path / "missing", None)
    assert serve.loopback("127.0.0.1") and serve.loopback("localhost") and serve.loopback("127.1.2.3")
    assert not serve.loopback("0.0.0.0") and not serve.loopback("::1") and not serve.loopback("192.168.1.5")


def test_a_port_in_use_is_one_message(project, capsys):
    cfg, _ = project
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        with pytest.raises(SystemExit) as e:
            main(["review", "serve", "--port", str(busy.getsockname()[1]), "--config", str(cfg.path)])
    finally:
        busy.close()
    err = capsys.readouterr().err
    assert e.value.code == 2 and "cannot listen on 127.0.0.1:" in err and "Traceback" not in err


def test_with_latin_on_a_saved_belarusian_fix_shows_its_new_lacinka_read_only(tmp_path):
    cfg_path = make_project(tmp_path)
    cfg_path.write_text(cfg_path.read_text(encoding="utf-8") + "\n[outputs]\nlatin = true\n", encoding="utf-8")
    session = Session(load_config(cfg_path), "alice")
    try:
        client = TestClient(create_app(session, TOKEN), base_url=BASE)
        seg = _seg(client)
        assert seg["per"]["be"]["latin"] == to_latin(seg["per"]["be"]["mt"]) and "latin" not in seg["per"]["ru"]
        r = _save(client, seg, BE_FIX)
        assert r.status_code == 200, r.text
        assert r.json()["cell"]["latin"] == to_latin(BE_FIX) == "Łukašenka skazaŭ, što pratesty skončylisia."
        assert _seg(client)["per"]["be"]["latin"] == to_latin(BE_FIX)  # a reload shows it
        # the Łacinka is no target: a save of it is refused and nothing is stored under it
        r = _save(client, seg, "Łukašenka skazaŭ inšaje.", target="be-Latn", revision=0)
        assert r.status_code == 400 and r.json()["error"] == "wrong_language"
        assert _stored(session.config, seg, "be-Latn")[:2] == (None, 0)
    finally:
        session.close()


def test_without_latin_no_cell_carries_a_lacinka(client):
    assert all("latin" not in c for s in client.get("/api/segments").json()["segments"] for c in s["per"].values())
