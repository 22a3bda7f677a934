"""`connectors._http.read_body`: a body read in one piece is what `Response.content` reads in 10 KiB
pieces, and a broken body fails with the exception requests raises for it (what the retry policy classifies).

Over loopback HTTP (a real socket, urllib3 and http.client): each answer is asked for twice, through a stock
`requests` session and through one with the Jira client's adapter, and the two outcomes compared."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from syncd.connectors.jira_client import _CountingAdapter

BIG = b'{"issues": [' + b",".join(b'{"id": "%d", "text": "\xc3\xa9t\xc3\xa9"}' % n for n in range(40_000)) + b"]}"
ANSWERS: dict[str, bytes] = {
    "/plain": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(BIG), BIG),
    "/empty": b"HTTP/1.1 204 No Content\r\n\r\n",
    "/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + b"".join(b"%x\r\n%s\r\n" % (len(BIG[i:i + 70_000]), BIG[i:i + 70_000]) for i in range(0, len(BIG), 70_000))
                + b"0\r\n\r\n",
    "/gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (
        len(gzip.compress(BIG)), gzip.compress(BIG)),
    # the connection closes after half the promised body, or inside a chunk, or in a broken gzip stream
    "/short": b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BIG), BIG[:len(BIG) // 2]),
    "/short-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s" % (len(BIG), BIG[:1000]),
    "/bad-gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 18\r\n\r\n\x1f\x8b not gzip at all",
}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A loopback server answering each path with its bytes as they are, then closing the connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(65536)
                conn.sendall(ANSWERS[request.split(b" ")[1].decode()])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()


def _outcome(session: requests.Session, url: str) -> Any:
    try:
        response = session.get(url, timeout=10)
    except requests.RequestException as exc:
        return type(exc)
    return response.status_code, response.content


@pytest.mark.parametrize("path", sorted(ANSWERS))
def test_a_body_read_in_one_piece_is_what_requests_reads(server: str, path: str) -> None:
    stock = requests.Session()
    ours = requests.Session()
    sent: list[int] = []
    ours.mount("http://", _CountingAdapter(lambda: sent.append(1)))
    expected = _outcome(stock, server + path)
    assert _outcome(ours, server + path) == expected and sent == [1]
    if path in ("/plain", "/chunked", "/gzip"):
        assert expected == (200, BIG)
    elif path == "/empty":
        assert expected == (204, b"")
    else:  # what the retry policy retries (`jira_client.classify`)
        assert expected in (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)


def test_a_streamed_answer_is_left_to_the_caller(server: str) -> None:
    ours = requests.Session()
    ours.mount("http://", _CountingAdapter(lambda: None))
    response = ours.get(server + "/plain", stream=True, timeout=10)
    assert response._content is False  # not read by the adapter
    assert b"".join(response.iter_content(4096)) == BIG
