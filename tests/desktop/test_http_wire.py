"""The client's own HTTP exchange (desktop.http_wire) against a scripted server: the request's
bytes are urllib3's, and every way an answer can be framed is read as urllib3 reads it."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import urllib3

from desktop.api_client import ApiClient, OfflineError, RateLimitedError

_OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'


class Scripted:
    """A server on loopback that answers each request it reads with the next scripted bytes
    (``None``: close the connection without answering) and records every request's bytes."""

    def __init__(self, answers: list[bytes | None]) -> None:
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _read_request(self, conn: socket.socket, buffer: bytearray) -> bytes | None:
        while b"\r\n\r\n" not in buffer:
            data = conn.recv(65536)
            if not data:
                return None
            buffer += data
        head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        total = len(head) + 4 + length
        while len(buffer) < total:
            buffer += conn.recv(65536)
        request = bytes(buffer[:total])
        del buffer[:total]
        return request

    def _serve(self) -> None:
        while self.answers:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            buffer = bytearray()
            with conn:
                while self.answers:
                    request = self._read_request(conn, buffer)
                    if request is None:
                        break
                    self.requests.append(request)
                    answer = self.answers.pop(0)
                    if answer is None:
                        break
                    conn.sendall(answer)
                    if b"Connection: close" in answer.partition(b"\r\n\r\n")[0]:
                        break

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def scripted(answers: list[bytes | None]) -> Iterator[Scripted]:
    server = Scripted(answers)
    server.thread.start()
    try:
        yield server
    finally:
        server.listener.close()
        server.thread.join(timeout=5)


def _client(url: str) -> ApiClient:
    api = ApiClient(url)
    api._access_token = "token-for-tests"
    return api


def test_the_requests_sent_are_byte_for_byte_those_urllib3_sends() -> None:
    """Both sync calls, written by the client itself and by urllib3's ``urlopen`` (the path an
    adapter with retries takes), reach the server as the same bytes."""
    push_answer = (
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{"results":[]}'
    )
    pull_answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 48\r\n\r\n"
        b'{"changes":[],"cursor":"c1","has_more":false}   '
    )
    sent: dict[str, list[bytes]] = {}
    for path in ("own", "urllib3"):
        with scripted([push_answer, pull_answer]) as server:
            api = _client(server.url)
            if path == "urllib3":
                api.http.get_adapter(server.url).max_retries = urllib3.Retry(1, read=False)  # type: ignore[attr-defined]
            assert api.push("org-1", [], client_id="device-1", schema_version=7) == []
            page = api.pull("org-1", "c0", limit=1000, schema_version=7)
            assert page == {"changes": [], "cursor": "c1", "has_more": False}
            sent[path] = [
                r.replace(f"Host: 127.0.0.1:{server.port}".encode(), b"Host: HOST") for r in server.requests
            ]
            assert server.connections == 1  # kept alive between the two
    assert sent["own"] == sent["urllib3"]
    push, pull = sent["own"]
    assert push.startswith(b"POST /api/v1/orgs/org-1/sync/push HTTP/1.1\r\nHost: HOST\r\n")
    assert b"Authorization: Bearer token-for-tests\r\n" in push
    assert push.endswith(b'\r\n\r\n{"client_id":"device-1","schema_version":7,"mutations":[]}')
    assert pull.startswith(
        b"GET /api/v1/orgs/org-1/sync/pull?limit=1000&schema_version=7&cursor=c0 HTTP/1.1\r\n"
    )


def _get(answer: bytes, then: bytes | None = _OK) -> tuple[Any, Scripted]:
    """The client's reading of ``answer`` to a GET, and the server (which answers a second GET
    with ``then``)."""
    with scripted([answer, then]) as server:
        api = _client(server.url)
        first = api.request("GET", "/first")
        second = api.request("GET", "/second")
        assert second == {"ok": True}
    return first, server


@pytest.mark.parametrize(
    "answer",
    [
        b'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{"a":[1]}',
        b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n5;x=y\r\n:[1]}\r\n0\r\nX-T: 1\r\n\r\n',
        b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{"a":[1]}',
        b'HTTP/1.1 200 OK\r\nX-Folded: one\r\n two\r\nContent-Length: 9\r\n\r\n{"a":[1]}',
    ],
    ids=["length", "chunked", "interim", "folded"],
)
def test_an_answer_is_read_as_framed_and_the_connection_kept(answer: bytes) -> None:
    body, server = _get(answer)
    assert body == {"a": [1]}
    assert server.connections == 1


def test_a_gzipped_answer_is_decoded() -> None:
    packed = gzip.compress(b'{"a":[1]}')
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len(packed)}\r\n\r\n".encode()
    body, _ = _get(head + packed)
    assert body == {"a": [1]}


@pytest.mark.parametrize(
    "answer",
    [
        b'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 9\r\n\r\n{"a":[1]}',
        b'HTTP/1.0 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{"a":[1]}',
        b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"a":[1]}',
    ],
    ids=["close", "http/1.0", "to-the-end"],
)
def test_an_answer_that_ends_its_connection_leaves_it_and_the_next_request_reconnects(answer: bytes) -> None:
    body, server = _get(answer)
    assert body == {"a": [1]}
    assert server.connections == 2


@pytest.mark.parametrize(
    "answer",
    [
        None,  # closed without an answer
        b'HTTP/1.1 200 OK\r\nContent-Length: 50\r\nConnection: close\r\n\r\n{"a"',  # cut short
        b"SMTP ready\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\nConnection: close\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n",
    ],
    ids=["closed", "short", "not-http", "bad-length", "bad-chunk"],
)
def test_a_broken_answer_is_offline_and_the_connection_not_reused(answer: bytes | None) -> None:
    with scripted([answer, _OK]) as server:
        api = _client(server.url)
        with pytest.raises(OfflineError) as failed:
            api.request("GET", "/first")
        assert failed.value.code == "offline"
        assert api.request("GET", "/second") == {"ok": True}
    assert server.connections == 2


def test_an_error_answer_is_the_servers_error() -> None:
    error = b'{"error":{"code":"rate_limited","message":"slow down","details":{}}}'
    answer = b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 7\r\nContent-Length: %d\r\n\r\n%s" % (
        len(error),
        error,
    )
    with scripted([answer]) as server, pytest.raises(RateLimitedError) as limited:
        _client(server.url).request("GET", "/first")
    assert limited.value.retry_after == 7
    assert limited.value.code == "rate_limited"


def _read(answer: bytes) -> tuple[int, bool, Any, bytes]:
    """``read_answer`` of ``answer`` sent whole on a socket whose other end stays open."""
    from desktop.http_wire import read_answer

    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(answer)
        ours.settimeout(5)
        return read_answer(ours)


def test_headers_are_read_by_any_case_and_a_repeated_one_joined() -> None:
    status, keep, headers, body = _read(
        b"HTTP/1.1 302 Found\r\nlocation: /a\r\nX-A: 1\r\nx-a: 2\r\nVary: b\r\nContent-Length: 0\r\n\r\n"
    )
    assert (status, keep, body) == (302, True, b"")
    assert headers["Location"] == headers.get("LOCATION") == "/a"
    assert headers["X-A"] == "1, 2"
    assert list(headers) == ["location", "X-A", "Vary", "Content-Length"] and "vary" in headers


def test_a_chunked_answers_trailer_fields_are_not_its_headers() -> None:
    status, keep, headers, body = _read(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nX-T: 1\r\n\r\n"
    )
    assert (status, keep, body) == (200, True, b"ab")
    assert "X-T" not in headers


@pytest.mark.parametrize(
    "answer",
    [
        _OK + b"HTTP/1.1 200 OK\r\n",  # the start of another answer
        _OK + b"junk",
        b'HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{"a":[1]}junk',
    ],
    ids=["another", "junk", "after-close"],
)
def test_bytes_after_the_answer_leave_the_connection_unused(answer: bytes) -> None:
    status, keep, _, body = _read(answer)
    assert status == 200 and body.startswith(b'{"')
    assert keep is False


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X-Long: a\r\n" * 7_000,  # and no end in sight
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n0\r\n\r\n",
    ],
    ids=["upgrade", "101", "head-too-long", "length-and-chunked"],
)
def test_an_answer_the_client_cannot_use_is_offline(answer: bytes) -> None:
    with scripted([answer, _OK]) as server:
        api = _client(server.url)
        with pytest.raises(OfflineError) as failed:
            api.request("GET", "/first")
        assert failed.value.code == "offline"  # refused at once, not waited on to the time-out
        assert api.request("GET", "/second") == {"ok": True}
    assert server.connections == 2


def test_a_head_answer_has_no_body_and_the_connection_is_kept() -> None:
    """The headers of a HEAD answer announce a body that never comes: the client does not wait for it."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
    with scripted([head, _OK]) as server:
        api = _client(server.url)
        answer = api._exchange("HEAD", f"{server.url}/api/v1/first", {}, None)
        assert (answer.status_code, answer.content) == (200, b"")
        assert api.request("GET", "/second") == {"ok": True}
    assert server.connections == 1


def test_a_server_that_answers_before_reading_a_large_request_is_heard_not_offline() -> None:
    # A body over the server's limit: it answers 413 at once and closes without reading the rest
    # (the unread bytes make the close a reset, and the send fails). The client reads the answer
    # all the same, as urllib3 does: the user is told the push is too large, not "offline".
    from desktop.api_client import ApiError

    error = b'{"error":{"code":"too_large","message":"the request is too large","details":{}}}'
    answer = b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: application/json\r\n"
    answer += b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(error), error)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(ApiError) as refused:
            _client(f"http://127.0.0.1:{listener.getsockname()[1]}").request(
                "POST", "/big", json={"blob": "x" * (20 * 1024 * 1024)}
            )
    finally:
        listener.close()
        thread.join(timeout=5)
    assert not isinstance(refused.value, OfflineError)
    assert (refused.value.status, refused.value.code) == (413, "too_large")


@pytest.mark.parametrize(
    "header", [{"X-Note": "one\r\nInjected: yes"}, {"X-Note\n": "x"}, {"X-Note": "naïve"}]
)
def test_a_header_that_would_break_the_request_is_refused_before_sending(header: dict[str, str]) -> None:
    from desktop.http_wire import request_bytes

    class Conn:
        host, port, default_port = "127.0.0.1", 80, 80

    with pytest.raises(ValueError, match="ASCII on one line"):
        request_bytes(Conn(), "GET", "/x", header, None)
