"""What both sandbox servers share: a loopback WSGI server, request accounting and faults on demand.

Each fake API is a `ServiceApp` subclass with werkzeug routing. Every request goes through
`ServiceApp.__call__`, which serves the admin routes (`/__sandbox/...`), counts the request per
endpoint, applies the configured faults, then dispatches to the service's handler.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Faults:
    """Faults injected into a fraction of requests (admin routes are never faulted)."""

    error_rate: float = 0.0  # answered 500/502/503
    drop_rate: float = 0.0  # connection dropped after half the body
    malformed_rate: float = 0.0  # body cut into invalid JSON, status 200
    rate_limit_rate: float = 0.0  # answered as a (secondary) rate limit with Retry-After
    retry_after_s: float = 1.0  # what rate-limit answers ask the client to wait
    latency_ms: float = 0.0  # added to every request
    rate_limit_after: int | None = None  # after K requests, every request is rate limited ...
    rate_limit_for_s: float = 2.0  # ... for this many seconds, then the budget resets
    seed: int = 0

    def any(self) -> bool:
        """True when some fault is configured."""
        return bool(self.error_rate or self.drop_rate or self.malformed_rate or self.rate_limit_rate
                    or self.latency_ms or self.rate_limit_after is not None)


@dataclass
class Controls:
    """Shared, thread-safe state of one sandbox: request counts and faults."""

    faults: Faults = field(default_factory=Faults)
    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _rng: random.Random = field(default_factory=random.Random)
    _window_start: float = 0.0
    _window_count: int = 0
    # (service, path, began, ended) of the latest requests, time.monotonic() seconds (tests read overlaps)
    log: deque[tuple[str, str, float, float]] = field(default_factory=lambda: deque(maxlen=100_000))

    def set_faults(self, faults: Faults) -> None:
        """Replace the faults in force (and reseed their random choices)."""
        with self.lock:
            self.faults = faults
            self._rng = random.Random(faults.seed)
            self._window_start = time.monotonic()
            self._window_count = 0

    def count(self, service: str, endpoint: str) -> None:
        """Account one request to `service`'s `endpoint` (a route name)."""
        with self.lock:
            self.counts[f"{service} {endpoint}"] += 1
            self.counts[f"{service} *"] += 1

    def note(self, service: str, path: str, began: float, ended: float) -> None:
        """Log one answered request's interval (from its arrival to its answer, latency included)."""
        with self.lock:
            self.log.append((service, path, began, ended))

    def stats(self) -> dict[str, Any]:
        """Request counts per endpoint and per service (`service *`)."""
        with self.lock:
            return {"requests": dict(sorted(self.counts.items())), "faults": asdict(self.faults)}

    def reset(self) -> None:
        """Zero every count (and forget the request log)."""
        with self.lock:
            self.counts.clear()
            self.log.clear()

    def total(self, service: str) -> int:
        """Requests counted for one service."""
        with self.lock:
            return self.counts.get(f"{service} *", 0)

    def pick_fault(self) -> str | None:
        """The fault to apply to this request, if any: error, drop, malformed or ratelimit."""
        with self.lock:
            f = self.faults
            if f.rate_limit_after is not None:
                now = time.monotonic()
                if self._window_count >= f.rate_limit_after:
                    if now - self._window_start < f.rate_limit_for_s:
                        return "budget"
                    self._window_start, self._window_count = now, 0
                if self._window_count == 0:
                    self._window_start = now
                self._window_count += 1
            r = self._rng.random()
            for name, rate in (("error", f.error_rate), ("drop", f.drop_rate),
                               ("malformed", f.malformed_rate), ("ratelimit", f.rate_limit_rate)):
                if r < rate:
                    return name
                r -= rate
            return None

    def budget_reset_in(self) -> float:
        """Seconds until a `rate_limit_after` budget resets."""
        with self.lock:
            return max(0.0, self.faults.rate_limit_for_s - (time.monotonic() - self._window_start))


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps(data: Any) -> str:
    """Compact JSON for a UTF-8 body; a lone surrogate (which UTF-8 cannot carry) is written as a `\\u`
    escape, as a server holding UTF-16 text (Java: Jira) does, so a client reads it back as the same value."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    if _LONE_SURROGATE.search(text):
        text = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (compact, UTF-8)."""
    body = dumps(data)
    return Response(body, status=status, headers=headers, content_type="application/json;charset=utf-8")


def mutation_response(url_map: Map, request: Request, path: str, run: Callable[..., Any]) -> Response:
    """Serve one admin mutation route of `url_map`: `run(endpoint, body, **route_args)` gives the changed
    payload; an unknown route answers 404 (405 for a wrong method), bad input (KeyError, ValueError,
    TypeError) 400."""
    adapter = url_map.bind("sandbox", path_info="/" + path, url_scheme="http")
    try:
        endpoint, args = adapter.match(method=request.method)
    except HTTPException as exc:
        return json_response({"error": f"no admin route {path} ({exc.name})"}, exc.code or 404)
    body = request.get_json(force=True, silent=True) or {}
    try:
        result = run(str(endpoint), body, **args)
    except (KeyError, ValueError, TypeError) as exc:
        return json_response({"error": str(exc)}, 400)
    return json_response(result)


class _DroppedBody(Iterable[bytes]):
    """Sends half the body then fails, so the server closes the connection mid-body."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def __iter__(self) -> Iterator[bytes]:
        yield self.body[: max(1, len(self.body) // 2)]
        raise ConnectionAbortedError("sandbox fault: connection dropped mid-body")


class ServiceApp:
    """Base WSGI app of one fake API. Subclasses set `service`, `rules` and `handle_*` methods."""

    service = "service"

    def __init__(self, controls: Controls, rules: list[Rule]) -> None:
        self.controls = controls
        self.url_map = Map(rules, strict_slashes=False, merge_slashes=False)

    # -- hooks for subclasses -----------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        """Return an error response for bad credentials, None when the request may proceed."""
        return None

    def rate_limited_response(self, retry_after: float, primary: bool) -> Response:
        """How this API answers a rate-limited request."""
        return json_response({"message": "rate limited"}, 429, {"Retry-After": str(int(retry_after + 0.999))})

    def error_response(self, status: int, message: str) -> Response:
        """How this API formats an error body."""
        return json_response({"message": message}, status)

    def decorate(self, request: Request, response: Response) -> Response:
        """Add per-service headers (rate-limit headers and the like) to every response."""
        return response

    # -- dispatch -----------------------------------------------------------------------------

    def admin(self, request: Request) -> Response:
        """`/__sandbox/stats` (GET; POST or DELETE resets) and `/__sandbox/faults` (GET; POST JSON)."""
        path = request.path.removeprefix("/__sandbox/")
        if path == "stats":
            if request.method in ("POST", "DELETE"):
                self.controls.reset()
            return json_response(self.controls.stats())
        if path == "faults":
            if request.method == "POST":
                try:
                    self.controls.set_faults(Faults(**(request.get_json(force=True) or {})))
                except (TypeError, ValueError) as exc:
                    return json_response({"error": str(exc)}, 400)
            return json_response(asdict(self.controls.faults))
        return self.admin_extra(request, path)

    def admin_extra(self, request: Request, path: str) -> Response:
        """Further admin routes of a service (mutations); 404 by default."""
        return json_response({"error": f"no admin route {path}"}, 404)

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except NotFound:
            self.controls.count(self.service, "404")
            return self.error_response(404, f"no such route: {request.path}")
        except HTTPException as exc:
            return self.error_response(exc.code or 400, str(exc.description))
        self.controls.count(self.service, str(endpoint))
        fault = self.controls.pick_fault()
        if fault == "error":
            status = random.choice([500, 502, 503])
            return self.error_response(status, "sandbox fault: server error")
        if fault in ("ratelimit", "budget"):
            wait = self.controls.budget_reset_in() if fault == "budget" else self.controls.faults.retry_after_s
            return self.rate_limited_response(wait, primary=fault == "budget")
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        handler: Callable[..., Response] = getattr(self, f"handle_{endpoint}")
        try:
            response = handler(request, **args)
        except HTTPException as exc:
            response = self.error_response(exc.code or 400, str(exc.description))
        if fault == "malformed":
            response.set_data(response.get_data()[: max(1, len(response.get_data()) // 2)])
        elif fault == "drop":
            body = response.get_data()
            response.response = _DroppedBody(body)
            response.headers["Content-Length"] = str(len(body))
        return response

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith("/__sandbox/"):
            response = self.admin(request)
        else:
            began = time.monotonic()
            if self.controls.faults.latency_ms:
                # before `dispatch`, which the services run under their world's lock: a request waiting
                # out its latency holds no lock, so requests in flight at once overlap as on a network
                time.sleep(self.controls.faults.latency_ms / 1000)
            response = self.decorate(request, self.dispatch(request))
            self.controls.note(self.service, request.path, began, time.monotonic())
        return response(environ, start_response)


@dataclass
class RunningServer:
    """A WSGI app served on a loopback port in a background thread."""

    name: str
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:43125."""
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve(name: str, app: Callable[..., Any], port: int = 0) -> RunningServer:
    """Serve `app` on 127.0.0.1 (a free port unless `port` is given), threaded, in the background."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", port, app, threaded=True)
    server.daemon_threads = True  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name=f"sandbox-{name}", daemon=True)
    thread.start()
    return RunningServer(name, server, thread)
