"""Serving the app: cheroot, a pure-Python production WSGI server.

Why cheroot: it runs the same on Windows, macOS and Linux (no fork, unlike gunicorn), it is
threaded, and it terminates TLS itself when given a certificate and key, which waitress cannot
(waitress expects a TLS proxy in front). Behind a reverse proxy, run it on loopback without
``--cert`` and set ``OPS_TRUSTED_PROXIES`` (README, "Running behind a proxy").

:class:`BackgroundServer` runs it in a thread on a free port: the end-to-end tests, the bench and
the desktop's demo launcher use it to talk to a real server over real HTTP.

Tuning (measured with ``bench/bench_sync.py``, 50 clients doing no-op incremental syncs on two
cores): the app holds the GIL for most of a request, so threads beyond a handful add contention,
not throughput; going from 16 to 8 threads kept the requests/s and cut p99 latency (about 120 ms
to 90 ms). A thread is taken only while a request is read and answered (idle keep-alive
connections wait in cheroot's selector), but a client that sends its body slowly holds one
meanwhile: raise ``--threads`` where many clients are on slow links.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from cheroot import errors as cheroot_errors
from cheroot import server as cheroot_server
from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8750
DEFAULT_THREADS = 8
# cheroot keeps only 10 idle keep-alive connections by default and closes every other one after
# its answer: 50 syncing clients then reconnect (TCP and, with TLS, a handshake) on most requests.
# An idle connection costs a socket, and is closed after the server's ``timeout``.
KEEP_ALIVE_CONNECTIONS = 1000


# What cheroot answers itself, before the app sees the request, in the app's words: the
# status's code as the contract's error codes spell it.
_PROTOCOL_CODES = {
    "400": "bad_request",
    "404": "not_found",
    "405": "method_not_allowed",
    "408": "request_timeout",
    "413": "too_large",
    "414": "too_large",
    "500": "internal_error",
    "505": "http_version_not_supported",
}


class _JsonErrorRequest(cheroot_server.HTTPRequest):  # type: ignore[misc]
    """cheroot's request, answering its own protocol errors as JSON (never text/plain).

    A request-target that starts with "//" ("//evil.example/api/v1/me") parses as an authority,
    which cheroot refuses as an absolute URI (400): it names no resource here, so it is a 404,
    as "/api//v1/me" is in the app (never a redirect built from the Host header)."""

    def simple_response(self, status: Any, msg: Any = "") -> None:
        status = str(status)
        uri = getattr(self, "uri", None) or b""
        if status.startswith("400") and uri.startswith(b"//"):
            status, msg = "404 Not Found", "no such resource"
        code = status[:3]
        text = msg.decode("ISO-8859-1") if isinstance(msg, bytes) else str(msg or status[4:])
        error = {"code": _PROTOCOL_CODES.get(code, "bad_request"), "message": text, "details": {}}
        body = json.dumps({"error": error})
        headers = [f"{self.server.protocol} {status}", "Content-Type: application/json"]
        headers += [
            "X-Content-Type-Options: nosniff",
            "Cache-Control: no-store",
            f"Content-Length: {len(body)}",
        ]
        if code in {"413", "414"}:
            self.close_connection = True
            headers.append("Connection: close")
        try:
            self.conn.wfile.write(("\r\n".join(headers) + "\r\n\r\n" + body).encode("utf-8"))
        except OSError as ex:
            if ex.args and ex.args[0] not in cheroot_errors.socket_errors_to_ignore:
                raise

    # cheroot sends an answer's status line and headers in one write and its body in another
    # (its writer sends on every write): two sends, two segments, and two reads for the client.
    # An answer whose non-empty body has a declared length keeps them back and sends them with
    # the body's first chunk: the same bytes in one send (~35 us of server CPU a request).
    _head: bytes | None = None

    def send_headers(self) -> None:
        conn = self.conn
        wfile = conn.wfile
        held = _HeldHead()
        conn.wfile = held  # this request's thread alone writes to its connection
        try:
            super().send_headers()
        finally:
            conn.wfile = wfile
        length = next((v for k, v in self.outheaders if k.lower() == b"content-length"), b"")
        if self.method != b"HEAD" and not self.chunked_write and length.isdigit() and int(length) > 0:
            self._head = held.data
        else:
            wfile.write(held.data)

    def write(self, chunk: bytes) -> None:
        head = self._head
        if head is None:
            super().write(chunk)
            return
        self._head = None
        if len(chunk) > _JOINED_MAX:  # a large body (a pull page, a file): not copied to join it
            self.conn.wfile.write(head)
            super().write(chunk)
            return
        self.conn.wfile.write(head + chunk)

    def respond(self) -> None:
        try:
            super().respond()
        finally:
            head = self._head
            if head is not None:  # a body shorter than declared: the head as it would have gone
                self._head = None
                self.conn.wfile.write(head)


# Bodies up to this size go out in one send with their head (copied once to join them).
_JOINED_MAX = 64 * 1024


class _HeldHead:
    """Takes the head cheroot's ``send_headers`` writes."""

    data = b""

    def write(self, data: bytes) -> int:
        self.data = bytes(data)
        return len(data)


class _JsonErrorConnection(cheroot_server.HTTPConnection):  # type: ignore[misc]
    RequestHandlerClass = _JsonErrorRequest


def make_server(
    app: Any,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    cert: Path | None = None,
    key: Path | None = None,
    threads: int = DEFAULT_THREADS,
    reuse_port: bool = False,
) -> wsgi.Server:
    """A cheroot server for ``app`` (not yet listening); TLS when ``cert`` and ``key`` are given.
    ``reuse_port``: several processes listen on the same port (``sync_server.workers``)."""
    if (cert is None) != (key is None):
        raise ValueError("give both a certificate and its private key for TLS, or neither")
    server = wsgi.Server(
        (host, port),
        app,
        numthreads=threads,
        server_name="ops-server",
        request_queue_size=256,
        timeout=30,
        shutdown_timeout=5,
        reuse_port=reuse_port,
    )
    server.keep_alive_conn_limit = KEEP_ALIVE_CONNECTIONS
    server.ConnectionClass = _JsonErrorConnection
    if cert is not None and key is not None:
        server.ssl_adapter = BuiltinSSLAdapter(str(cert), str(key))
    return server


class BackgroundServer:
    """The app served on ``host`` and a free port in a background thread.

    ``with BackgroundServer(app) as server: requests.get(server.url + "/healthz")``
    """

    def __init__(
        self,
        app: Any,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        cert: Path | None = None,
        key: Path | None = None,
        threads: int = DEFAULT_THREADS,
    ) -> None:
        self._server = make_server(app, host, port, cert=cert, key=key, threads=threads)
        self._thread: threading.Thread | None = None
        self.scheme = "https" if cert is not None else "http"

    def start(self) -> BackgroundServer:
        self._server.prepare()  # binds and listens: connections are accepted from here on
        self._thread = threading.Thread(target=self._server.serve, name="ops-server", daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        return int(self._server.bind_addr[1])

    @property
    def url(self) -> str:
        host = self._server.bind_addr[0]
        return f"{self.scheme}://{host}:{self.port}"

    def stop(self) -> None:
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
