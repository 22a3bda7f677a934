"""Jira's error body and offset pages, shared by the fake Jira's platform and agile routes."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from syncd.sandbox._http import json_response

Json = dict[str, Any]


class JiraApiError(Exception):
    """Answered as Jira answers errors: `{"errorMessages": [message], "errors": {}}`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def jira_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A Jira error response."""
    return json_response({"errorMessages": [message], "errors": {}}, status, headers)


def int_arg(args: Any, name: str, default: int, low: int = 0) -> int:
    """An integer parameter (query string or JSON body); 400 in Jira's words when it is not one."""
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise JiraApiError(400, f"The '{name}' parameter must be an integer, not '{raw}'.") from None
    return max(low, value)


def offset_page(request: Request, items: list[Any], default_max: int = 50, cap: int = 100,
                with_links: bool = True) -> Json:
    """An offset page: `{self, nextPage?, maxResults, startAt, total, isLast, values}` (agile: no links)."""
    start = int_arg(request.args, "startAt", 0)
    size = min(cap, max(1, int_arg(request.args, "maxResults", default_max)))
    chunk = items[start:start + size]
    is_last = start + len(chunk) >= len(items)
    page: Json = {"self": request.url} if with_links else {}
    page.update({"maxResults": size, "startAt": start, "total": len(items), "isLast": is_last, "values": chunk})
    if with_links and not is_last:
        page["nextPage"] = f"{request.base_url}?startAt={start + size}&maxResults={size}"
    return page
