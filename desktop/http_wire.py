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
same bytes, header for header, as urllib3 writes them — in one ``sendall``, and reads the answer:
its status line and headers, then the body as RFC 9112 frames it (``Content-Length``, chunked, or
to the end of the connection; none for 1xx/204/304). An encoded body (``Content-Encoding``, from
a proxy: the session asks for ``gzip, deflate``) is decoded by urllib3's decoders. The connection
goes back to the pool when the answer leaves it reusable, else it is closed first. Failures are
raised as urllib3 or the socket raises them, for the caller to map as ``requests`` maps them.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from typing import Any

import urllib3
from urllib3.exceptions import ProtocolError

_MAX_HEAD = 64 * 1024
_MAX_LINE = 64 * 1024
_RECV = 64 * 1024
_NO_BODY = frozenset({204, 304})


class _Reader:
    """Reads an answer off a socket: lines and exact lengths, through one buffer."""

    __slots__ = ("buffer", "sock")

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.buffer = bytearray()

    def _more(self) -> None:
        data = self.sock.recv(_RECV)
        if not data:
            raise ProtocolError(
                "Connection aborted.", ConnectionResetError("the server closed the connection")
            )
        self.buffer += data

    def head(self) -> bytes:
        """Everything up to the blank line that ends the status line and headers (taken off)."""
        start = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n", start)
            if end >= 0:
                head = bytes(self.buffer[:end])
                del self.buffer[: end + 4]
                return head
            if len(self.buffer) > _MAX_HEAD:
                raise ProtocolError("the answer's headers are too long")
            start = max(0, len(self.buffer) - 3)
            self._more()

    def line(self) -> bytes:
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[: end + 2]
                return line
            if len(self.buffer) > _MAX_LINE:
                raise ProtocolError("a chunk line of the answer is too long")
            self._more()

    def exactly(self, size: int) -> bytes:
        have = len(self.buffer)
        if have >= size:
            data = bytes(self.buffer[:size])
            del self.buffer[:size]
            return data
        out = bytearray(size)
        out[:have] = self.buffer
        self.buffer.clear()
        view = memoryview(out)
        while have < size:
            got = self.sock.recv_into(view[have:])
            if not got:
                raise ProtocolError(
                    "Connection broken: the answer ended early",
                    ConnectionResetError(f"{have} of {size} bytes"),
                )
            have += got
        return bytes(out)

    def to_end(self) -> bytes:
        while True:
            data = self.sock.recv(_RECV)
            if not data:
                out = bytes(self.buffer)
                self.buffer.clear()
                return out
            self.buffer += data

    def chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size_text = self.line().split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError(f"a bad chunk size in the answer: {size_text[:20]!r}") from None
            if size < 0:
                raise ProtocolError("a bad chunk size in the answer")
            if size == 0:
                while self.line():  # trailer fields, up to the blank line
                    pass
                return b"".join(parts)
            parts.append(self.exactly(size))
            if self.line():
                raise ProtocolError("a chunk of the answer does not end where its size says")


def request_bytes(conn: Any, method: str, target: str, headers: dict[str, str], body: bytes | None) -> bytes:
    """The request as urllib3's ``HTTPConnection.request`` writes it (``http.client``'s request
    line and ``Host``; ``Accept-Encoding: identity`` when none is given; ``Content-Length`` before
    the other headers, ``0`` for a POST without a body; then the headers in order)."""
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


def _parse_head(head: bytes) -> tuple[int, bool, Headers]:
    """The status, whether the connection may be kept (HTTP/1.1), and the headers."""
    text = head.decode("iso-8859-1")
    status_line, _, rest = text.partition("\r\n")
    version, _, status_rest = status_line.partition(" ")
    code = status_rest[:3]
    if (
        not version.startswith("HTTP/1.")
        or len(code) != 3
        or not code.isdigit()
        or status_rest[3:4] not in ("", " ")
    ):
        raise ProtocolError(f"not an HTTP/1.x answer: {status_line[:40]!r}")
    fields: list[list[str]] = []
    for line in rest.split("\r\n") if rest else ():
        if line[:1] in (" ", "\t"):  # an obsolete folded line: part of the previous value
            if not fields:
                raise ProtocolError("the answer's headers start with a folded line")
            fields[-1][1] = f"{fields[-1][1]} {line.strip()}"
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise ProtocolError(f"a malformed header in the answer: {line[:40]!r}")
        fields.append([name, value.strip()])
    headers = Headers(fields)
    return int(code), version == "HTTP/1.1", headers


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
    conn = pool._get_conn()
    reusable = False
    try:
        if conn.sock is None:
            conn.timeout = connect_timeout
            conn.connect()
        sock = conn.sock
        sock.settimeout(connect_timeout)
        sock.sendall(request_bytes(conn, method, target, headers, body))
        sock.settimeout(read_timeout)
        reader = _Reader(sock)
        while True:
            status, keep, answer_headers = _parse_head(reader.head())
            if status >= 200 or status == 101:
                break  # an interim answer (100 Continue, 103) is followed by the real one
        if status == 101:
            raise ProtocolError("the server switched protocols")
        connection = answer_headers.get("Connection", "").lower()
        if "close" in connection:
            keep = False
        transfer = answer_headers.get("Transfer-Encoding")
        length = answer_headers.get("Content-Length")
        if status in _NO_BODY or method == "HEAD":
            data = b""
        elif transfer is not None:
            if transfer.replace(" ", "").lower().split(",")[-1] != "chunked":
                keep = False
                data = reader.to_end()
            else:
                data = reader.chunked()
        elif length is not None:
            if not length.strip().isdigit():
                raise ProtocolError(f"a bad Content-Length in the answer: {length[:20]!r}")
            data = reader.exactly(int(length))
        else:
            keep = False
            data = reader.to_end()
        # More than the answer would leave the connection in no known state: not reused.
        reusable = keep and not reader.buffer
        return status, _decoded(status, answer_headers, data), answer_headers
    finally:
        if not reusable:
            conn.close()
        pool._put_conn(conn)
