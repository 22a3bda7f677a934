"""requests' HTTP edge as both connectors use it: an answer's body read in one piece."""

from __future__ import annotations

from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

__all__ = ["WholeBodyAdapter", "read_body"]


class WholeBodyAdapter(HTTPAdapter):
    """requests' adapter, reading each answer's body (unless streamed) in one piece (`read_body`)."""

    def send(self, request: requests.PreparedRequest, stream: bool = False,  # type: ignore[override]
             **kwargs: Any) -> requests.Response:
        response = super().send(request, stream=stream, **kwargs)
        if not stream:
            read_body(response)
        return response


def read_body(response: requests.Response) -> None:
    """Read a response's whole body now, in one read, as `Response.content` would read it.

    `Response.content` reads in 10 KiB pieces (requests' `CONTENT_CHUNK_SIZE`), each through urllib3's and
    http.client's layers: about 100 of them per 1 MB search page, a millisecond of CPU per megabyte (issue 18
    item 3). One `read()` of the urllib3 response gives the same bytes (decoded as `content` decodes them);
    its failures become requests' exceptions as `Response.iter_content` maps them, so the retry policy sees
    what it saw before.
    """
    # the same conditions as `Response.content`: not read yet, and a body to read
    if response._content is not False or response._content_consumed or response.status_code == 0 \
            or not hasattr(response.raw, "stream"):  # not urllib3's response: `content` reads it as it can
        return
    try:
        body = response.raw.read(decode_content=True)
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.ConnectionError(exc) from exc
    except urllib3.exceptions.SSLError as exc:
        raise requests.exceptions.SSLError(exc) from exc
    response._content = body or b""
    response._content_consumed = True
