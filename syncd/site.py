"""The report site of `syncd serve`: pages a stakeholder opens in a browser, behind a login form.

    GET  /                 goals with their status; links to every report kind and audience
    GET  /view/{kind}      ?audience=A&scope=ID&now=ISO: the report, the same HTML as its email
                           (charts embedded), linkable and printable; with &file=NAME one of the
                           report's own files as a download (status-engineering-risks.csv)
    GET  /history          the stored report history by date, each entry re-rendered as of its date
    GET  /login, POST /login, POST /logout

Browsers cannot send the API's bearer header, so they sign in with a form: the configured
`server.token`, or a user of `server.users` whose password is checked against its argon2 hash
(argon2-cffi). The session is a signed, timestamped cookie (itsdangerous), HttpOnly, SameSite=Lax,
Secure over HTTPS. Every POST carries a CSRF token (the OWASP double-submit and synchronizer-token
patterns): the login form's token must match a cookie set with the form; the logout form's token
is the one inside the session. Without a session every page redirects to the login form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from syncd.errors import ConfigError, ReportError, SyncdError
from syncd.settings import Settings
from syncd.settings_sections import ServerSettings
from syncd.store import Store

SESSION_COOKIE = "syncd_session"
LOGIN_CSRF_COOKIE = "syncd_login_csrf"
SITE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src data: https: http:; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_HASHER = PasswordHasher()


def is_site_path(path: str) -> bool:
    """Whether a path belongs to the browser site (session login) rather than the bearer API."""
    return path in ("/", "/login", "/logout", "/history") or path.startswith("/view/")


def hash_password(password: str) -> str:
    """An argon2id hash of a password, for `server.users`."""
    return _HASHER.hash(password)


class SiteAuth:
    """Passwords, signed session cookies and CSRF tokens of the site."""

    def __init__(self, server: ServerSettings) -> None:
        assert server.token is not None
        self.token = server.token.get_secret_value()
        secret = (server.session_secret.get_secret_value() if server.session_secret is not None
                  else hmac.new(self.token.encode(), b"syncd-site-session", hashlib.sha256).hexdigest())
        self.serializer = URLSafeTimedSerializer(secret, salt="syncd-site-session")
        self.max_age = int(server.session_hours * 3600)
        self.users = {name: h.get_secret_value() for name, h in server.users.items()}

    def check(self, user: str, password: str) -> str | None:
        """The signed-in name for a user and password (a blank user with the server token), or None."""
        if not password:
            return None
        if not user:
            return "token" if hmac.compare_digest(password.encode(), self.token.encode()) else None
        stored = self.users.get(user)
        if stored is None:
            _HASHER.hash(password)  # about as slow as a check, so a wrong name is not told apart by timing
            return None
        try:
            _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return user

    def new_session(self, user: str) -> str:
        """A signed cookie value for a session of `user`, with its own CSRF token."""
        return self.serializer.dumps({"u": user, "csrf": secrets.token_urlsafe(24)})

    def session(self, request: Request) -> dict[str, str] | None:
        """The request's valid session ({"u", "csrf"}), or None (missing, forged or expired)."""
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self.serializer.loads(raw, max_age=self.max_age)
        except BadSignature:
            return None
        return data if isinstance(data, dict) and {"u", "csrf"} <= data.keys() else None


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=SITE_HEADERS)


def _safe_next(target: str | None) -> str:
    """A local path to return to after login ("/" unless `target` is a path on this site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def site_routes(settings: Settings, store: Store, *, clock: Callable[[], datetime],
                render_lock: threading.Lock) -> list[Route]:
    """The site's routes, to mount beside the API's (the report modules load on first use, not at startup)."""
    from syncd.store._history import report_history

    auth = SiteAuth(settings.server)

    def render_html(template: str, **context: Any) -> str:
        from syncd.reports.render.templating import render_html as render

        return render(template, **context)

    def secure(request: Request) -> bool:
        return request.url.scheme == "https"

    def to_login(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303, headers=SITE_HEADERS)

    def login_form(request: Request, *, error: str | None = None, status: int = 200) -> Response:
        csrf = secrets.token_urlsafe(24)
        response = _page(render_html("site-login.html.j2", csrf=csrf, error=error,
                                     next=_safe_next(request.query_params.get("next"))), status)
        response.set_cookie(LOGIN_CSRF_COOKIE, csrf, max_age=3600, httponly=True, samesite="lax",
                            secure=secure(request), path="/login")
        return response

    async def login_page(request: Request) -> Response:
        if auth.session(request) is not None:
            return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
        return login_form(request)

    async def login(request: Request) -> Response:
        form = await request.form()
        given, expected = str(form.get("csrf", "")), request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return login_form(request, error="The form expired; please sign in again.", status=403)
        user = await run_in_threadpool(auth.check, str(form.get("user", "")).strip(), str(form.get("password", "")))
        if user is None:
            return login_form(request, error="Wrong name or password.", status=401)
        response = RedirectResponse(_safe_next(str(form.get("next", "/"))), status_code=303, headers=SITE_HEADERS)
        response.set_cookie(SESSION_COOKIE, auth.new_session(user), max_age=auth.max_age, httponly=True,
                            samesite="lax", secure=secure(request), path="/")
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    async def logout(request: Request) -> Response:
        session = auth.session(request)
        form = await request.form()
        if session is None:
            return to_login(request)
        if not hmac.compare_digest(str(form.get("csrf", "")).encode(), session["csrf"].encode()):
            return _page("<!DOCTYPE html><title>Forbidden</title><p>Sign-out form expired.</p>", 403)
        response = RedirectResponse("/login", status_code=303, headers=SITE_HEADERS)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    def links() -> list[dict[str, str]]:
        from syncd.reporting import REPORT_KINDS

        out = []
        for kind, audiences in REPORT_KINDS.items():
            for audience in audiences:
                query = urlencode({"audience": audience}) if audience else ""
                out.append({"label": kind.replace("-", " ") + (f" · {audience}" if audience else ""),
                            "href": f"/view/{kind}" + (f"?{query}" if query else "")})
        return out

    async def index(request: Request) -> Response:
        session = auth.session(request)
        if session is None:
            return to_login(request)

        def goals() -> list[dict[str, Any]]:
            from syncd.reporting import load_context

            with render_lock:
                ctx = load_context(settings, store, now=clock())
            return [{"title": g.goal.title, "rag": str(g.status.rag), "reason": g.status.reason,
                     "target": g.goal.target_date} for g in ctx.analysis.goals]

        try:
            listed = await run_in_threadpool(goals)
            problem = None
        except SyncdError as exc:
            listed, problem = [], str(exc)
        return _page(render_html("site-index.html.j2", user=session["u"], csrf=session["csrf"], goals=listed,
                                 problem=problem, links=links()))

    async def history(request: Request) -> Response:
        session = auth.session(request)
        if session is None:
            return to_login(request)
        rows = await run_in_threadpool(report_history, store, limit=500)
        entries = []
        for row in rows:
            params = {"now": row.as_of.astimezone(UTC).isoformat()}
            if row.audience:
                params["audience"] = row.audience
            if row.scope:
                params["scope"] = row.scope
            entries.append({"as_of": row.as_of.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                            "label": row.kind.replace("-", " ") + (f" · {row.audience}" if row.audience else ""),
                            "scope": row.scope or "", "href": f"/view/{row.kind}?{urlencode(params)}"})
        return _page(render_html("site-history.html.j2", user=session["u"], csrf=session["csrf"], entries=entries))

    async def view(request: Request) -> Response:
        from syncd.reporting import REPORT_KINDS, generate_report

        if auth.session(request) is None:
            return to_login(request)
        kind = request.path_params["kind"]
        if kind not in REPORT_KINDS:
            return _page(render_html("site-error.html.j2", message=f"unknown report kind {kind!r}"), 404)
        audience = request.query_params.get("audience") or None
        scope = request.query_params.get("scope") or None
        try:
            now = datetime.fromisoformat(request.query_params["now"]) if "now" in request.query_params else clock()
        except ValueError:
            return _page(render_html("site-error.html.j2", message="now: not an ISO date-time"), 400)
        now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)

        def render() -> Any:
            with render_lock:
                return generate_report(settings, store, kind, audience, now=now, scope=scope, record=False)

        try:
            report = await run_in_threadpool(render)
        except (ReportError, ConfigError) as exc:
            return _page(render_html("site-error.html.j2", message=str(exc)), 422)
        except SyncdError as exc:
            return _page(render_html("site-error.html.j2", message=str(exc)), 503)
        wanted = request.query_params.get("file")
        if wanted is None:
            return _page(report.standalone_html())
        if wanted not in report.files:
            message = (f"this report has no file {wanted!r}" if not report.files else
                       f"this report has no file {wanted!r} (it has {', '.join(sorted(report.files))})")
            return _page(render_html("site-error.html.j2", message=message + ": a report that lists everything itself "
                                     "comes without one"), 404)
        kind_of = "text/csv; charset=utf-8" if wanted.endswith(".csv") else "application/octet-stream"
        return Response(report.files[wanted], media_type=kind_of, headers={
            **SITE_HEADERS, "Content-Disposition": f'attachment; filename="{wanted}"'})

    return [
        Route("/", index), Route("/history", history), Route("/view/{kind}", view),
        Route("/login", login_page, methods=["GET"]), Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]

