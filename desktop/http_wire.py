"""One HTTP/1.1 exchange on a connection of a urllib3 pool, written and read here.

:class:`desktop.api_client.ApiClient` sends its requests through the urllib3 pool the ``requests``
session's adapter set up (keep-alive connections, TLS verified against the CA bundle). Going
through ``pool.urlopen`` costs ~0.33 ms of the client's CPU a request — ``http.client`` writes the
request line and each header in turn and then the body in a second segment, parses the answer's
headers through ``email.feedparser``, and urllib3 wraps it all in its response object — where the
exchange itself (one ``sendall``, one ``recv``) costs ~35 µs. A no-op sync is two such requests.

:func:`exchange` takes a connection from the same pool (``_get_conn``: a dropped keep-alive
connection is reset there as for ``urlopen``), connects it when it is not (urllib3's own
``connect``: TCP, and TLS with its certificate and host name checks), sends the request — the
same bytes, header for header, as urllib3 writes them — in one ``sendall``, and reads the answer
with httptools (MagicStack's binding of llhttp, the parser of Node.js and uvicorn): the status
line and headers, then the body as RFC 9112 frames it (``Content-Length``, chunked, or to the end
of the connection; none for 1xx/204/304). Not for HEAD (the caller sends it through ``urlopen``:
llhttp cannot be told a HEAD answer has no body). An encoded body (``Content-Encoding``, from
a proxy: the session asks for ``gzip, deflate``) is decoded by urllib3's decoders. The connection
goes back to the pool when the answer leaves it reusable, else it is closed first. Failures are
raised as urllib3 or the socket raises them, for the caller to map as ``requests`` maps them.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from typing import Any

import httptools
import urllib3
from urllib3.exceptions import ProtocolError

_MAX_HEAD = 64 * 1024
_RECV = 64 * 1024
_NO_BODY = frozenset({204, 304})


class _Answer:
    """What httptools' parser has read of an answer so far (its callbacks). An interim 1xx
    answer's headers are dropped when it ends, and the parser reads on to the real answer."""

    __slots__ = ("beyond", "body", "complete", "fields", "head_done", "keep", "parser", "status", "switched")

    def __init__(self) -> None:
        self.parser: Any = httptools.HttpResponseParser(self)
        # llhttp refuses an obsolete folded header line unless its headers are lenient; RFC 9112
        # §5.2 has a user agent read one as a space, as http.client does. Lenient headers also let
        # control characters through in a value, as http.client does; a bare CR is still refused.
        self.parser.set_dangerous_leniencies(lenient_headers=True)
        self.fields: list[list[str]] = []
        self.body: list[bytes] = []
        self.status = 0
        self.head_done = self.keep = self.complete = self.beyond = self.switched = False

    def on_message_begin(self) -> None:
        if self.complete:  # another answer starts after this one's end
            self.beyond = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.head_done:  # a chunked body's trailer fields are not the answer's headers
            self.fields.append([name.decode("latin-1"), value.decode("latin-1").strip()])

    def on_headers_complete(self) -> None:
        parser = self.parser
        self.status = parser.get_status_code()
        self.keep = parser.should_keep_alive()  # read here: at the message's end llhttp has reset it
        self.head_done = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        status = self.status
        if self.complete:
            self.beyond = True
        elif status == 101:
            self.switched = True  # llhttp stops after it
        elif status < 200:  # an interim answer (100 Continue, 103 Early Hints): the real one follows
            self.fields, self.body, self.head_done = [], [], False
        else:
            self.complete = True

    def delimited_by_close(self) -> bool:
        """Whether the answer's body runs to the end of the connection (RFC 9112 §6.3: no
        Content-Length and not chunked), so that the connection's end completes it."""
        if not self.head_done or self.status < 200 or self.status in _NO_BODY:
            return False
        headers = Headers(self.fields)
        codings = headers.get("Transfer-Encoding")
        if codings is not None:
            return codings.replace(" ", "").lower().split(",")[-1] != "chunked"
        return "Content-Length" not in headers


def _read(answer: _Answer, sock: Any) -> None:
    feed = answer.parser.feed_data
    received = 0
    while not answer.complete:
        data = sock.recv(_RECV)
        if not data:
            if answer.delimited_by_close():
                answer.keep = False
                return
            raise ProtocolError(
                "Connection broken: the answer ended early" if received else "Connection aborted.",
                ConnectionResetError("the server closed the connection"),
            )
        received += len(data)
        try:
            feed(data)
        except httptools.HttpParserUpgrade:  # a 101 with an Upgrade header
            raise ProtocolError("the server switched protocols") from None
        except httptools.HttpParserError as exc:
            if answer.switched:  # a 101 without one: llhttp stops all the same
                raise ProtocolError("the server switched protocols") from None
            if not answer.complete:
                raise ProtocolError(f"a malformed answer from the server: {exc}") from None
            answer.beyond = True  # what came after the answer is not one (or came after a close)
        if answer.switched:
            raise ProtocolError("the server switched protocols")
        if not answer.head_done and received > _MAX_HEAD:
            raise ProtocolError("the answer's headers are too long")


def read_answer(sock: Any) -> tuple[int, bool, Headers, bytes]:
    """Read one whole answer off ``sock`` with httptools (interim 1xx answers skipped): its
    status, whether the connection can carry the next request (keep-alive, and nothing came after
    the answer), its headers and its body as sent (not decoded). A malformed answer, one cut
    short, one switching protocols or a head over 64 KiB raise urllib3's ``ProtocolError``. Not
    for the answer to a HEAD request (llhttp cannot be told its body is absent)."""
    answer = _Answer()
    try:
        _read(answer, sock)
    finally:
        answer.parser = None  # the parser holds the answer's callbacks: no cycle left for the gc
    body = answer.body[0] if len(answer.body) == 1 else b"".join(answer.body)
    return answer.status, answer.keep and not answer.beyond, Headers(answer.fields), body


def request_bytes(conn: Any, method: str, target: str, headers: dict[str, str], body: bytes | None) -> bytes:
    """The request as urllib3's ``HTTPConnection.request`` writes it (``http.client``'s request
    line and ``Host``; ``Accept-Encoding: identity`` when none is given; ``Content-Length`` before
    the other headers, ``0`` for a POST without a body; then the headers in order)."""
    for text in (method, target, *headers, *headers.values()):
        if not text.isascii() or "\r" in text or "\n" in text:  # as http.client refuses them
            raise ValueError(f"a request's method, target and headers are ASCII on one line: {text[:40]!r}")
    lines = [f"{method} {target} HTTP/1.1"]
    names = {name.lower() for name in headers}
    if "host" not in names:
        host = conn.host
        if ":" in host:
            host = f"[{host}]"
        lines.append(f"Host: {host}" if conn.port == conn.default_port else f"Host: {host}:{conn.port}")
    if "accept-encoding" not in names:
        lines.append("Accept-Encoding: identity")
    if "content-length" not in names and "transfer-encoding" not in names:
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        elif method.upper() not in ("GET", "HEAD", "DELETE", "TRACE", "OPTIONS", "CONNECT"):
            lines.append("Content-Length: 0")
    if "user-agent" not in names:
        lines.append(f"User-Agent: python-urllib3/{urllib3.__version__}")
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    lines.append("\r\n")
    head = "\r\n".join(lines).encode("latin-1")
    return head + body if body else head


class Headers(Mapping[str, str]):
    """An answer's headers by name, case-insensitive; a name given more than once has its values
    joined with ", " (as urllib3's ``HTTPHeaderDict`` reads them)."""

    __slots__ = ("_by_name",)

    def __init__(self, fields: list[list[str]]) -> None:
        by_name: dict[str, tuple[str, str]] = {}
        for name, value in fields:
            key = name.lower()
            given = by_name.get(key)
            by_name[key] = (name, value) if given is None else (given[0], f"{given[1]}, {value}")
        self._by_name = by_name

    def __getitem__(self, name: str) -> str:
        return self._by_name[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)


def _decoded(status: int, headers: Headers, body: bytes) -> bytes:
    encoding = headers.get("Content-Encoding", "").strip().lower()
    if not body or encoding in ("", "identity"):
        return body
    response = urllib3.HTTPResponse(
        body=io.BytesIO(body),
        headers={"Content-Encoding": headers["Content-Encoding"]},
        status=status,
        preload_content=True,
        decode_content=True,
    )
    return bytes(response.data)


def exchange(
    pool: Any,
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes | None,
    *,
    connect_timeout: float,
    read_timeout: float,
) -> tuple[int, bytes, Headers]:
    """Send one request on a connection of ``pool`` and read its whole answer: the status, the
    body (decoded) and the headers."""
    if method.upper() == "HEAD":  # llhttp would wait for the body its headers announce
        raise ValueError("http_wire cannot read the answer to a HEAD request: send it through urlopen")
    conn = pool._get_conn()
    reusable = False
    try:
        if conn.sock is None:
            conn.timeout = connect_timeout
            conn.connect()
        sock = conn.sock
        sock.settimeout(connect_timeout)
        try:
            sock.sendall(request_bytes(conn, method, target, headers, body))
        except (BrokenPipeError, ConnectionResetError) as exc:
            # The server answered before reading the whole request (a 413 for a body too large)
            # and closed: its answer is what the caller must see, as urllib3 reads it too.
            sock.settimeout(read_timeout)
            try:
                status, _, answer_headers, data = read_answer(sock)
            except (OSError, ProtocolError):
                raise exc from None
            return status, _decoded(status, answer_headers, data), answer_headers
        sock.settimeout(read_timeout)
        status, reusable, answer_headers, data = read_answer(sock)
        return status, _decoded(status, answer_headers, data), answer_headers
    finally:
        if not reusable:
            conn.close()
        pool._put_conn(conn)
