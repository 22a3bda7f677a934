"""`syncd serve`: reports on demand over HTTP, a sync trigger, health and Prometheus metrics.

API routes (every one but /healthz needs `Authorization: Bearer <server.token>`; the browser
site at `/`, `/view/{kind}`, `/history`, `/login` and `/logout` signs in with a form instead, see
syncd/site.py):

    GET  /healthz                  200 when the store answers, 503 otherwise
    GET  /reports/{kind}           ?audience=A&format=html|md&scope=ID&now=ISO, rendered from the store
    POST /sync                     ?source=NAME (repeatable)&full=1: start a sync in the background, or
                                   join the one queued after the running sync (202)
    GET  /sync                     the background sync's status
    GET  /metrics                  Prometheus text format

Reports are rendered one at a time (the charts library is not thread-safe) and never recorded in
the report history: only delivered reports count as "the previous report".

`POST /sync` while a sync runs does not start another: the request joins one queued follow-up sync
(the union of the sources asked for), so a burst of triggers costs at most the running sync and one
more. The bearer scheme is matched case-insensitively (RFC 6750 section 2.1 uses the `auth-scheme`
of RFC 7235 section 2.1, which is case-insensitive); the token itself is compared in constant time.
Request headers are capped at MAX_HEADER_BYTES before anything else reads them: h11 refuses a
header block that grows past the cap while it buffers it (431), and the outermost middleware refuses
one that arrived whole in a single read, before authentication.
"""

from __future__ import annotations

import base64
import hmac
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncd import jobs
from syncd.clock import report_moment
from syncd.errors import ConfigError, ReportError, SyncdError
from syncd.metrics_export import metrics_registry
from syncd.settings import Settings
from syncd.site import is_site_path, site_routes
from syncd.store import Store

log = logging.getLogger("syncd.service")
OPEN_PATHS = frozenset({"/healthz"})
MAX_HEADER_BYTES = 16 * 1024  # request line + headers; nginx's large_client_header_buffers default is 4 x 8 KiB


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class HeaderLimit:
    """ASGI middleware: refuse a request whose headers exceed `limit` bytes (431), before auth reads them."""

    def __init__(self, app: ASGIApp, limit: int = MAX_HEADER_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            size += sum(len(name) + len(value) + 4 for name, value in scope["headers"])  # ": " and CRLF
            if size > self.limit:
                response = _error(431, f"request headers too large (at most {self.limit} bytes)")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def bearer_token(header: bytes) -> bytes | None:
    """The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 7235)."""
    scheme, _, token = header.strip().partition(b" ")
    if scheme.lower() != b"bearer":
        return None
    return token.strip(b" ") or None


class BearerAuth:
    """ASGI middleware: a constant-time bearer-token check on every path but the open ones."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS and not is_site_path(scope["path"]):
            given = bearer_token(dict(scope["headers"]).get(b"authorization", b"")) or b""
            if not hmac.compare_digest(given, self.expected):
                response = JSONResponse({"error": "missing or wrong bearer token"}, status_code=401,
                                        headers={"WWW-Authenticate": 'Bearer realm="syncd"'})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class CountRequests:
    """ASGI middleware: count responses per route family and status class."""

    def __init__(self, app: ASGIApp, counter: Any) -> None:
        self.app, self.counter = app, counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        segment = scope["path"].strip("/").split("/")[0]
        route = f"/{segment}" if segment in ("healthz", "reports", "sync", "metrics") else "other"

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.counter.labels(route=route, status=f"{message['status'] // 100}xx").inc()
            await send(message)

        await self.app(scope, receive, counted)


@dataclass
class BackgroundSync:
    """At most one sync at a time, run in a thread, plus at most one queued follow-up; status for `GET /sync`."""

    settings: Settings
    store: Store
    stop: threading.Event = field(default_factory=threading.Event)
    state: str = "idle"  # idle | running | done | failed
    started_at: datetime | None = None
    finished_at: datetime | None = None
    sources: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    error: str | None = None
    queued: list[str] = field(default_factory=list)  # the follow-up sync's sources, run when this one ends
    queued_full: bool = False
    thread: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def status(self) -> dict[str, Any]:
        """What the last (or current) background sync did, and what is queued after it."""
        with self.lock:
            return {"state": self.state, "sources": self.sources, "busy": self.busy, "error": self.error,
                    "started_at": self.started_at.isoformat() if self.started_at else None,
                    "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                    "results": self.results, "queued": self.queued}

    def start(self, names: list[str], full: bool) -> bool:
        """Start a sync of `names` (default: every enabled source); False when it joined the queued follow-up.

        While a sync runs, the sources asked for are added to one follow-up sync (a source asked for
        again is not added twice), which starts when the running one ends.
        """
        wanted = jobs.wanted_sources(self.settings, names)
        with self.lock:
            if self.state == "running":
                self.queued += [name for name in wanted if name not in self.queued]
                self.queued_full = self.queued_full or full
                return False
            self._begin(wanted)
            self.thread = threading.Thread(target=self._run, args=(wanted, full), name="syncd-sync", daemon=True)
            self.thread.start()
        return True

    def _begin(self, names: list[str]) -> None:
        self.state, self.sources, self.results, self.busy, self.error = "running", names, [], [], None
        self.started_at, self.finished_at = datetime.now(UTC), None

    def _run(self, names: list[str], full: bool) -> None:
        while True:
            state, results, busy, error = self._sync(names, full)
            with self.lock:  # one critical section: a start() in between either queues or sees the final state
                self.state, self.results, self.busy, self.error = state, results, busy, error
                self.finished_at = datetime.now(UTC)
                if not self.queued or self.stop.is_set():
                    self.queued, self.queued_full = [], False
                    return
                names, full, self.queued, self.queued_full = self.queued, self.queued_full, [], False
                self._begin(names)

    def _sync(self, names: list[str], full: bool) -> tuple[str, list[dict[str, Any]], list[str], str | None]:
        try:
            outcome = jobs.sync_sources(self.settings, self.store, names, full=full, should_stop=self.stop.is_set)
        except Exception as exc:  # noqa: BLE001 - reported through GET /sync and the log
            log.exception("background sync failed")
            return "failed", [], [], str(exc) if isinstance(exc, SyncdError) else repr(exc)
        results = [{"source": r.source, "ok": r.ok, "summary": r.summary(), "error": r.error, "warnings": r.warnings}
                   for r in outcome.results]
        return ("done" if outcome.ok else "failed"), results, outcome.busy, None

    def shutdown(self, timeout: float = 30.0) -> None:
        """Ask a running sync to stop after its current batch, and wait for it."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout)


def _inline_charts(body: str, charts: dict[str, bytes], html: bool) -> str:
    """Charts as data: URIs, so a browser shows the report without the email's cid: parts."""
    for filename, png in charts.items():
        name = filename.removesuffix(".png")
        uri = "data:image/png;base64," + base64.b64encode(png).decode()
        if html:
            body = body.replace(f'"cid:{name}"', f'"{uri}"').replace(f"'cid:{name}'", f"'{uri}'")
        else:
            body = body.replace(f"](./{filename})", f"]({uri})")
    return body


def create_app(settings: Settings, store: Store, *,
               clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Starlette:
    """The HTTP application; ConfigError when no server.token is configured."""
    if settings.server.token is None or not settings.server.token.get_secret_value():
        raise ConfigError("config: server.token: required to serve HTTP (every route but /healthz needs it)")
    registry, http_counter = metrics_registry(store)
    background = BackgroundSync(settings, store)
    render_lock = threading.Lock()

    async def healthz(request: Request) -> Response:
        def ping() -> None:
            with store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        try:
            await run_in_threadpool(ping)
        except Exception as exc:  # noqa: BLE001 - any database failure means unhealthy
            return JSONResponse({"status": "unavailable", "store": exc.__class__.__name__}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def report(request: Request) -> Response:
        from syncd.reporting import REPORT_KINDS, generate_report

        kind = request.path_params["kind"]
        if kind not in REPORT_KINDS:
            return _error(404, f"unknown report kind {kind!r} (known: {', '.join(REPORT_KINDS)})")
        audiences = [a for a in REPORT_KINDS[kind] if a is not None]
        audience = request.query_params.get("audience") or (audiences[0] if audiences else None)
        if audience is not None and audience not in audiences:
            known = ", ".join(audiences) or "none"
            return _error(400, f"report {kind}: unknown audience {audience!r} (known: {known})")
        fmt = request.query_params.get("format", "html")
        if fmt not in ("html", "md", "csv"):
            return _error(400, f"unknown format {fmt!r} (use html, md or csv)")
        try:
            now = datetime.fromisoformat(request.query_params["now"]) if "now" in request.query_params else clock()
        except ValueError:
            return _error(400, "now: not an ISO date-time, e.g. 2026-05-04T09:00:00+00:00")
        try:
            now = report_moment(now if now.tzinfo is not None else now.replace(tzinfo=UTC))
        except ValueError as exc:
            return _error(400, f"now: {exc}")
        scope = request.query_params.get("scope") or None

        def render() -> Any:
            with render_lock:
                return generate_report(settings, store, kind, audience, now=now, scope=scope, record=False)
        try:
            rendered = await run_in_threadpool(render)
        except ReportError as exc:
            return _error(422, str(exc))
        except ConfigError as exc:
            return _error(500, str(exc))
        except SyncdError as exc:
            return _error(503, str(exc))
        if fmt == "md":
            return PlainTextResponse(_inline_charts(rendered.markdown, rendered.charts, html=False),
                                     media_type="text/markdown; charset=utf-8")
        if fmt == "csv":  # the report's CSV file: the engineering report's every signal, when it lists only some
            sheet = next((name for name in rendered.files if name.endswith(".csv")), None)
            if sheet is None:
                return _error(404, f"report {kind}: no CSV (the engineering status report has one when it lists "
                                   "only some of its signals)")
            return Response(rendered.files[sheet], media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{sheet}"'})
        return Response(_inline_charts(rendered.html, rendered.charts, html=True), media_type="text/html; charset=utf-8")

    async def sync_start(request: Request) -> Response:
        names = request.query_params.getlist("source")
        full = request.query_params.get("full", "").lower() in ("1", "true", "yes")
        try:
            background.start(names, full)
        except ConfigError as exc:
            return _error(400, str(exc))
        return JSONResponse(background.status(), status_code=202)

    async def sync_status(request: Request) -> Response:
        return JSONResponse(background.status())

    async def metrics(request: Request) -> Response:
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(background.shutdown)

    app = Starlette(routes=[
        Route("/healthz", healthz), Route("/reports/{kind}", report), Route("/sync", sync_start, methods=["POST"]),
        Route("/sync", sync_status, methods=["GET"]), Route("/metrics", metrics),
        *site_routes(settings, store, clock=clock, render_lock=render_lock),
    ], lifespan=lifespan)
    app.add_middleware(BearerAuth, token=settings.server.token.get_secret_value())
    app.add_middleware(CountRequests, counter=http_counter)
    app.add_middleware(HeaderLimit)  # added last: the outermost layer, before auth reads any header
    app.state.background = background
    return app


def uvicorn_config(app: Starlette, host: str, port: int) -> Any:
    """uvicorn's settings for syncd: h11 (whose header buffer is capped), our logging, no access log."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="on",
                          http="h11", h11_max_incomplete_event_size=MAX_HEADER_BYTES)


class RunningService:
    """A uvicorn server in a thread (inside `syncd run`, and in tests)."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn_config(app, host, port))
        self.thread = threading.Thread(target=self.server.run, name="syncd-http", daemon=True)

    def start(self, timeout: float = 10.0) -> RunningService:
        """Start serving; return once the socket listens."""
        import time

        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)  # polling a flag uvicorn sets; not a timing assumption
        if not self.server.started:
            raise SyncdError("serve: the HTTP server did not start (is the port free?)")
        return self

    @property
    def url(self) -> str:
        """http://HOST:PORT of the listening socket."""
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=30)


def serve(settings: Settings, store: Store, *, host: str | None = None, port: int | None = None) -> None:
    """Serve until SIGTERM/SIGINT, then finish open requests, stop a running sync and return (exit 0)."""
    import signal
    from collections.abc import Iterator
    from contextlib import contextmanager

    import uvicorn

    class Server(uvicorn.Server):
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn's own version re-raises the signal after shutdown (exit -15); a clean stop is exit 0
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    app = create_app(settings, store)
    Server(uvicorn_config(app, host or settings.server.host, port or settings.server.port)).run()
