"""``workflow review serve``: the run in ``aligned/`` as an editable review page, each save stored at once.

A Starlette app (:func:`create_app`) over one :class:`Session`. The page is a small HTML
shell (every text escaped with ``outputs.html.esc``); its script and style are package
files (``workflow/review/static/``) served by the app, and all data comes through the JSON
API, so the Content-Security-Policy forbids every inline script (``default-src 'self'``).

Rows are the last run's (``outputs.parquet.read_rows``, the only reader of the segments
table) with the store's current fixes over them. A save is judged by the same code as
``workflow review import`` (``importer.judge``: language, other target's text, size,
characters, the English unchanged since the run) and stored by ``Memory.put_many`` in one
transaction, under the project lock (``core.lock``) for the few milliseconds it takes:
a ``workflow run``, ``score`` or ``review import`` never interleaves with a save (a save
made while a run holds the lock waits up to :data:`SAVE_WAIT` s, then is refused with
503 and the reviewer's text stays in the page). Every save carries the revision it was
based on (``Memory`` keeps one per segment and language); an older one is refused with
409 and the text saved meanwhile, so no update is lost silently, between reviewers or
between two tabs of one. When ``aligned/`` or the corpus changes on disk (a run, a
refresh), the next request reloads them. With ``[outputs] latin`` each Belarusian cell
also carries its Łacinka (``outputs.latin``) of the approved text, else the MT: shown
read-only, never a save's field (only a target language can be saved).

Writes need the session's token in the ``X-Review-Token`` header (the page carries it
in a meta tag; a cross-site form cannot set a header: that is the CSRF protection),
a JSON body of at most :data:`MAX_BODY` bytes, and, when the browser sends them, an
``Origin`` equal to the server's own and ``Sec-Fetch-Site`` same-origin. Hosts other than
loopback names are refused (DNS rebinding) unless the server was started for another
address, where the token is needed on every request (``?token=`` once sets a cookie).
No request names a file: the two static files are fixed routes.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import threading
import time
from collections.abc import Callable
from importlib.resources import files as package_files
from pathlib import Path

from rapidfuzz import fuzz, process
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from workflow.core.config import Config
from workflow.core.errors import InputError, WorkflowError
from workflow.core.lock import ProjectBusy, project_lock
from workflow.core.records import Row, is_flagged
from workflow.core.store import Store
from workflow.outputs import latin, parquet
from workflow.outputs.html import esc
from workflow.review.importer import Context, context, judge, text_fits
from workflow.review.memory import Memory, StaleRevision
from workflow.review.parse import Candidate
from workflow.scoring.checks import load_glossary

MAX_BODY = 64 * 1024  # bytes of a write request's body
MAX_TEXT = 20_000  # characters of the text field (the per-segment limit of review import applies too)
MAX_FIELD = 200  # characters of every other field (id, reviewer, hashes)
SAVE_WAIT = 10.0  # seconds a save waits for the project lock a run or import holds
SUGGESTIONS = 3  # translation-memory suggestions per language
SUGGEST_MIN = 60.0  # least rapidfuzz ratio (0-100) of the English for a suggestion
ORIGIN = "review serve"  # the "file" of a save in problems and a fix's origin
TOKEN_HEADER = "X-Review-Token"
TOKEN_COOKIE = "workflow_review_token"
LOOPBACK = ("127.0.0.1", "localhost")  # Host names accepted on loopback (IPv6 ::1 is served as another address)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store"}
STATIC = {"review.js": "text/javascript", "review.css": "text/css"}


class ApiError(Exception):
    """A refused request: HTTP status, a short code, a message for the reviewer, more fields."""

    def __init__(self, status: int, code: str, message: str, **extra) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.code, "message": self.message, **self.extra}, status_code=self.status)


class Session:
    """One project being reviewed: the judging context, the store, one lock for both."""

    def __init__(self, config: Config, reviewer: str, refresh: Callable[[], object] | None = None) -> None:
        self.config = config
        self.reviewer = reviewer
        self.refresh_outputs = refresh  # `workflow score`, injected by the CLI (review may not import the pipeline)
        self.out = config.resolve(config.out)
        self.corpus = config.resolve(config.corpus)
        if not parquet.table_path(self.out).is_file():
            raise InputError(f"{self.out}: no segments table here (not the output folder of a run)",
                             hint="Run `workflow run` first, then `workflow review serve`.")
        self.store_path = config.resolve(config.store)
        self.glossary = load_glossary(str(config.resolve(config.checks.glossary)))
        self.lock = threading.Lock()  # one request at a time touches the context and the store
        self.store = Store(self.store_path, shared=True)
        self.memory = Memory(self.store)
        self.ctx: Context
        self.order: list[str] = []
        self.stamp: tuple = ()
        self._reload()

    def close(self) -> None:
        self.store.close()

    # ------------------------------------------------------------ loading
    def _fingerprint(self) -> tuple:
        """What changes when a run rewrites ``aligned/`` or a corpus file changes (the old
        one while ``aligned/`` is being switched and the table is briefly not there)."""
        try:
            st = parquet.table_path(self.out).stat()
            corpus = sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in self.corpus.iterdir()
                            if p.is_file()) if self.corpus.is_dir() else []
        except OSError:
            return self.stamp
        return (st.st_ino, st.st_mtime_ns, st.st_size, tuple(corpus))

    def _reload(self) -> None:
        self.stamp = self._fingerprint()
        self.ctx = context(self.config, self.memory, self.reviewer)
        self.order = list(dict.fromkeys(sid for sid, _ in self.ctx.exported))

    def _fresh(self) -> None:
        if self._fingerprint() != self.stamp:
            self._reload()

    # ------------------------------------------------------------ reading
    def segments(self) -> dict:
        """Every segment of the run with its current state per language, and the progress."""
        with self.lock:
            self._fresh()
            fixes = {f.key: f for f in self.memory.all()}
            revisions, marks = self.memory.revisions(), self.memory.marks()
            segs = [self._segment(sid, fixes, revisions, marks) for sid in self.order]
        docs = list(dict.fromkeys(s["doc"] for s in segs))
        checks = sorted({f for s in segs for c in s["per"].values() for f in c.get("flags", ())})
        return {"targets": list(self.config.targets), "reviewer": self.reviewer, "docs": docs, "checks": checks,
                "segments": segs, "progress": _progress(segs), "can_refresh": self.refresh_outputs is not None}

    def _segment(self, sid: str, fixes, revisions, marks) -> dict:
        rows = {t: self.ctx.exported[(sid, t)] for t in self.config.targets if (sid, t) in self.ctx.exported}
        first = next(iter(rows.values()))
        seg = self.ctx.segments.get(sid)
        current = seg is not None and seg.hash == first.hash and not seg.skip
        per = {t: self._cell(r, fixes.get((r.doc_id, t, r.hash)), revisions.get((r.doc_id, t, r.hash), 0),
                             marks.get((r.doc_id, t, r.hash))) for t, r in rows.items()}
        return {"id": sid, "doc": first.doc_id, "en": first.en, "en_hash": first.hash, "skip": first.skip_reason,
                "editable": current, "per": per}

    def _cell(self, r: Row, fix, revision: int, mark) -> dict:
        if r.is_skipped:
            return {"skipped": True}
        fix = fix if fix is not None and not fix.stale else None
        needs_work = _needs_work(fix, mark)
        shown = {}
        if r.target == latin.SOURCE and latin.wanted(self.config.outputs.latin, self.config.targets):
            # read-only: made from the approved text (else the MT), never a field of a save
            shown["latin"] = latin.to_latin(fix.text if fix else r.mt)
        return {**shown, "mt": r.mt, "text": fix.text if fix else r.mt, "approved": fix is not None,
                "reviewer": fix.reviewer if fix else None, "reviewed_at": fix.created if fix else None,
                "revision": revision, "needs_work": needs_work, "draft": mark.text if needs_work else None,
                "marked_by": mark.reviewer if needs_work else None,
                "flagged": is_flagged(r), "score": r.weak_score, "flags": list(r.flags),
                "spans": [{"start": s["start"], "end": s["end"], "reason": s.get("reason", "")} for s in r.spans],
                "reference": r.reference, "fuzzy_match": r.fuzzy_match}

    def progress(self) -> dict:
        """The counts of :func:`_progress` without building every segment (after each write)."""
        with self.lock:
            fixes = {f.key: f for f in self.memory.all() if not f.stale}
            marks = self.memory.marks()
            cells = []
            for r in self.ctx.exported.values():
                if r.is_skipped:
                    continue
                key = (r.doc_id, r.target, r.hash)
                fix, mark = fixes.get(key), marks.get(key)
                cells.append({"flagged": is_flagged(r), "approved": fix is not None, "needs_work": _needs_work(fix, mark)})
        return _progress([{"per": dict(enumerate(cells))}])

    def detail(self, sid: str) -> dict:
        """Translation-memory suggestions (earlier approved fixes of similar English, by
        rapidfuzz's ratio) and glossary hints (the corpus glossary's names in the sentence)."""
        with self.lock:
            self._fresh()
            seg = self.ctx.segments.get(sid)
            if seg is None or not any((sid, t) in self.ctx.exported for t in self.config.targets):
                raise ApiError(404, "unknown_segment", f"no segment {sid!r} in this run")
            fixes = [f for f in self.memory.all() if not f.stale]
        out: dict = {"id": sid, "suggestions": {}, "glossary": []}
        for t in self.config.targets:
            pool = {i: f.source for i, f in enumerate(fixes) if f.target == t and f.key != (seg.doc_id, t, seg.hash)}
            found = process.extract(seg.text, pool, scorer=fuzz.ratio, score_cutoff=SUGGEST_MIN, limit=SUGGESTIONS)
            out["suggestions"][t] = [{"en": fixes[i].source, "text": fixes[i].text, "seg": fixes[i].seg_id,
                                      "score": round(score, 1)} for _, score, i in found]
        if self.glossary is not None:
            for i in self.glossary.in_source(seg.text):
                term = self.glossary.terms[i]
                out["glossary"].append({"en": list(term.en), "kind": term.kind,
                                        "forms": {t: list(term.forms.get(t, ())) for t in self.config.targets},
                                        "avoid": {t: list(term.avoid.get(t, ())) for t in self.config.targets}})
        return out

    # ------------------------------------------------------------ writing
    def _target(self, sid: str, target: str):
        if target not in self.config.targets:
            raise ApiError(400, "wrong_language", f"{target!r} is not a target language of this project "
                                                  f"({', '.join(self.config.targets)})")
        row = self.ctx.exported.get((sid, target))
        seg = self.ctx.segments.get(sid)
        if row is None or seg is None:
            raise ApiError(404, "unknown_segment", f"no segment {sid!r} in this run")
        return seg, row

    def _sync(self, seg) -> None:
        """The context's fixes of ``seg`` (every language) as the store has them now."""
        for t in self.config.targets:
            key = (seg.doc_id, t, seg.hash)
            fix = self.memory.get(*key)
            if fix is None:
                self.ctx.approved.pop(key, None)
            else:
                self.ctx.approved[key] = fix
            row = self.ctx.exported.get((seg.seg_id, t))
            if row is not None:
                live = fix.text if fix is not None and not fix.stale else None
                self.ctx.exported[(seg.seg_id, t)] = dataclasses.replace(row, approved=live)

    def _write(self, sid: str, target: str, revision: int, en_hash: str | None, do) -> dict:
        """Run ``do(seg, key)`` on the store for one segment and language, under the
        session lock and the project lock, after the revision and English checks."""
        with self.lock:
            self._fresh()
            seg, row = self._target(sid, target)
            if seg.hash != row.hash or (en_hash is not None and en_hash != seg.hash):
                raise ApiError(409, "english_changed", f"the English of {sid} changed since this page was loaded "
                                                       "(or since the last run): reload the page; run `workflow "
                                                       "run` if the corpus changed")
            if seg.skip:
                raise ApiError(400, "skipped", f"{sid} is skipped ({seg.skip}): nothing to translate")
            key = (seg.doc_id, target, seg.hash)
            try:
                with project_lock(self.store_path, wait=SAVE_WAIT):
                    self._sync(seg)
                    try:
                        extra = do(seg, key)
                    except StaleRevision as e:
                        raise self._conflict(sid, target, e.revision) from None
                    finally:
                        self._sync(seg)
            except ProjectBusy as e:
                raise ApiError(503, "busy", f"{e} Your text is still on the page: save again when it has finished."
                               ) from None
            cell = self._cell(self.ctx.exported[(sid, target)], self.memory.get(*key), self.memory.revision(key),
                              self.memory.mark(key))
            return {"id": sid, "target": target, "cell": cell, **(extra or {})}

    def _conflict(self, sid: str, target: str, revision: int) -> ApiError:
        seg = self.ctx.segments[sid]
        key = (seg.doc_id, target, seg.hash)
        fix, mark = self.memory.get(*key), self.memory.mark(key)
        cell = self._cell(self.ctx.exported[(sid, target)], fix, revision, mark)
        who = cell["marked_by"] or cell["reviewer"]
        return ApiError(409, "stale_revision", f"{who or 'someone'} changed the {target} text of {sid} since you "
                                               "opened it (revision " f"{revision}): compare, then save again",
                        id=sid, target=target, cell=cell)

    def save(self, sid: str, target: str, text: str, action: str, revision: int, en_hash: str | None,
             reviewer: str | None) -> dict:
        """Approve ``text`` as the ``target`` text of ``sid`` (``action`` "approve"), or keep
        it with a needs-work mark ("needs_work"), based on ``revision``."""
        who = (reviewer or self.reviewer).strip() or self.reviewer
        text = text.strip()

        def approve(seg, key):
            if self.memory.revision(key) != revision:
                raise StaleRevision(key, self.memory.revision(key), None)
            self.ctx.reviewer = who
            cand = Candidate(sid, target, text, True, ORIGIN, 0)
            fixes, unchanged, problems, _ = judge([cand], self.ctx)
            if problems:
                raise ApiError(422, "refused", problems[0].message)
            if fixes:
                self.memory.put_many(fixes, expect={key: revision})
            return {"unchanged": not fixes}

        def needs_work(seg, key):
            why = text_fits(target, sid, text, seg)  # the checks of a fix that apply to a draft
            if why:
                raise ApiError(422, "refused", why)
            self.memory.put_mark(key, sid, text, who, revision)
            return {"unchanged": False}

        if action not in ("approve", "needs_work"):
            raise ApiError(400, "bad_request", "action must be 'approve' or 'needs_work'")
        return self._write(sid, target, revision, en_hash, approve if action == "approve" else needs_work)

    def undo(self, sid: str, target: str, revision: int, reviewer: str | None) -> dict:
        """Undo the last change of the approved text (the previous version comes back)."""
        who = (reviewer or self.reviewer).strip() or self.reviewer

        def do(seg, key):
            if self.memory.get(*key) is None and self.memory.revision(key) == revision:
                raise ApiError(400, "nothing_to_undo", f"the {target} text of {sid} has no approved fix to undo")
            self.memory.undo(key, revision, who)
            return {}

        return self._write(sid, target, revision, None, do)

    def refresh(self) -> dict:
        """Run the injected refresh (``workflow score``): ``aligned/`` rewritten as one set."""
        if self.refresh_outputs is None:
            raise ApiError(501, "no_refresh", "this server cannot refresh the outputs: run `workflow score`")
        started = time.monotonic()
        try:
            self.refresh_outputs()
        except WorkflowError as e:
            raise ApiError(500, "refresh_failed", str(e)) from None
        with self.lock:
            self._fresh()
        return {"seconds": round(time.monotonic() - started, 2)}


def _needs_work(fix, mark) -> bool:
    """A needs-work mark newer than the approved fix (if any) stands."""
    return mark is not None and (fix is None or mark.created > fix.created)


def _progress(segs: list[dict]) -> dict:
    cells = [c for s in segs for c in s["per"].values() if not c.get("skipped")]
    return {"total": len(cells), "flagged": sum(c["flagged"] for c in cells),
            "reviewed": sum(c["approved"] for c in cells), "needs_work": sum(c["needs_work"] for c in cells),
            "flagged_open": sum(c["flagged"] and not c["approved"] for c in cells)}


# ---------------------------------------------------------------- HTTP


def page(token: str, title: str) -> str:
    """The HTML shell: no data but the escaped title and the token; script and style by URL."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="review-token" content="{esc(token)}">
<title>{esc(title)}</title>
<link rel="stylesheet" href="/static/review.css">
<script src="/static/review.js" defer></script>
</head><body>
<header>
  <h1>{esc(title)}</h1>
  <p id="progress" aria-live="polite">loading...</p>
  <div class="controls">
    <label><input type="checkbox" id="f-flagged"> only flagged</label>
    <label><input type="checkbox" id="f-unreviewed"> only unreviewed</label>
    <label>document <select id="f-doc"><option value="">all</option></select></label>
    <label>check <select id="f-check"><option value="">any</option></select></label>
    <label>sort <select id="sort"><option value="doc">document order</option>
      <option value="score">weak-spot score</option></select></label>
    <label>reviewer <input id="reviewer" size="12" maxlength="80"></label>
    <button type="button" id="refresh" hidden>refresh outputs (workflow score)</button>
  </div>
  <p class="keys">Keys: <kbd>j</kbd>/<kbd>k</kbd> next/previous flagged, <kbd>a</kbd> approve and next,
  <kbd>Esc</kbd> leave the text box, <kbd>Ctrl</kbd>+<kbd>Enter</kbd> approve from the box.</p>
  <p id="status" role="status"></p>
</header>
<div id="layout"><main id="segments"></main><aside id="detail"></aside></div>
</body></html>
"""


def _static(name: str) -> bytes:
    return package_files("workflow.review").joinpath("static", name).read_bytes()


async def _json_body(request: Request) -> dict:
    size = request.headers.get("content-length")
    if size is not None and (not size.isdigit() or int(size) > MAX_BODY):
        raise ApiError(413, "too_large", f"the request is over {MAX_BODY // 1024} KB")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise ApiError(413, "too_large", f"the request is over {MAX_BODY // 1024} KB")
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "bad_json", "the request body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the request body must be a JSON object")
    return body


def _field(body: dict, name: str, kind: type, *, required: bool = True, limit: int = MAX_FIELD):
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ApiError(400, "bad_request", f"field {name!r} must be a {kind.__name__}")
    if isinstance(value, str) and len(value) > limit:
        raise ApiError(413, "field_too_long", f"field {name!r} has {len(value):,} characters; at most {limit:,}")
    return value


class _Guard(BaseHTTPMiddleware):
    """Security headers on every response; the token on every request when served beyond loopback."""

    def __init__(self, app, token: str, everywhere: bool) -> None:
        super().__init__(app)
        self.token, self.everywhere = token, everywhere

    async def dispatch(self, request: Request, call_next) -> Response:
        if self.everywhere and not _token_ok(request, self.token, cookie=True):
            given = request.query_params.get("token")
            if request.url.path == "/" and given is not None and hmac.compare_digest(given, self.token):
                response: Response = RedirectResponse("/", status_code=303)
                response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
            else:
                response = ApiError(403, "token", "this server needs its token: open the address it printed "
                                                  "(with ?token=...)").response()
        else:
            response = await call_next(request)
        response.headers.update(HEADERS)
        return response


def _token_ok(request: Request, token: str, cookie: bool = False) -> bool:
    given = request.headers.get(TOKEN_HEADER) or (request.cookies.get(TOKEN_COOKIE) if cookie else None) or ""
    return hmac.compare_digest(given.encode(), token.encode())


def _check_write(request: Request, token: str) -> None:
    """CSRF: the token header (a cross-site form cannot send one), JSON, and the browser's
    own word on where the request comes from."""
    if not _token_ok(request, token):
        raise ApiError(403, "token", f"missing or wrong {TOKEN_HEADER} header: reload the page")
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.headers.get('host', '')}":
        raise ApiError(403, "origin", f"requests from {origin} are not accepted")
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise ApiError(403, "origin", "cross-site requests are not accepted")
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise ApiError(415, "bad_request", "send the request as application/json")


def create_app(session: Session, token: str, *, everywhere: bool = False,
               hosts: tuple[str, ...] = LOOPBACK) -> Starlette:
    """The app. ``token``: required on writes (and, ``everywhere``, on every request);
    ``hosts``: the Host names accepted ("*" for any)."""

    async def index(request: Request) -> Response:
        where = f"{session.out.parent.name}/{session.out.name}"
        return HTMLResponse(page(token, f"Review: {where} ({', '.join(session.config.targets)})"))

    async def static_js(request: Request) -> Response:
        return Response(_static("review.js"), media_type=STATIC["review.js"])

    async def static_css(request: Request) -> Response:
        return Response(_static("review.css"), media_type=STATIC["review.css"])

    async def segments(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(session.segments))

    async def detail(request: Request) -> Response:
        sid = request.query_params.get("id", "")
        if len(sid) > MAX_FIELD:
            raise ApiError(413, "field_too_long", "the id is too long")
        return JSONResponse(await run_in_threadpool(session.detail, sid))

    async def save(request: Request) -> Response:
        _check_write(request, token)
        body = await _json_body(request)
        args = (_field(body, "id", str), _field(body, "target", str), _field(body, "text", str, limit=MAX_TEXT),
                _field(body, "action", str, required=False) or "approve", _field(body, "revision", int),
                _field(body, "en_hash", str, required=False), _field(body, "reviewer", str, required=False))
        result = await run_in_threadpool(session.save, *args)
        return JSONResponse({**result, "progress": await run_in_threadpool(session.progress)})

    async def undo(request: Request) -> Response:
        _check_write(request, token)
        body = await _json_body(request)
        result = await run_in_threadpool(session.undo, _field(body, "id", str), _field(body, "target", str),
                                         _field(body, "revision", int), _field(body, "reviewer", str, required=False))
        return JSONResponse({**result, "progress": await run_in_threadpool(session.progress)})

    async def refresh(request: Request) -> Response:
        _check_write(request, token)
        await _json_body(request)
        return JSONResponse(await run_in_threadpool(session.refresh))

    async def favicon(request: Request) -> Response:
        return Response(status_code=204)  # none, and no 404 in the browser's console

    async def api_error(request: Request, exc: ApiError) -> Response:
        return exc.response()

    routes = [Route("/", index), Route("/static/review.js", static_js), Route("/static/review.css", static_css),
              Route("/api/segments", segments), Route("/api/segment", detail),
              Route("/api/save", save, methods=["POST"]), Route("/api/undo", undo, methods=["POST"]),
              Route("/api/refresh", refresh, methods=["POST"]), Route("/favicon.ico", favicon)]
    middleware = [Middleware(_Guard, token=token, everywhere=everywhere),
                  Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))]
    return Starlette(routes=routes, middleware=middleware, exception_handlers={ApiError: api_error})




def loopback(host: str) -> bool:
    """Served to this machine only (IPv4 loopback; anything else needs a token)."""
    return host == "localhost" or host.startswith("127.")


def read_token(path: Path | None, env: str | None) -> str | None:
    """The token of ``--token-file`` (first line) or of the environment; InputError for a bad file."""
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8").strip().splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"{path}: cannot read the token file ({getattr(e, 'strerror', None) or e})") from None
        if not text or len(text[0].strip()) < 16:
            raise InputError(f"{path}: the token file must hold a token of at least 16 characters on its first line")
        return text[0].strip()
    if env is not None:
        if len(env.strip()) < 16:
            raise InputError("WORKFLOW_REVIEW_TOKEN must be at least 16 characters")
        return env.strip()
    return None
