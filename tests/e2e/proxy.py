"""A small HTTP-aware TCP proxy that can lose an answer: it forwards a request to the server,
reads the server's complete response, and then closes the client's connection without sending
it — the connection dropping after the server committed but before the client read the answer.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


def _read_message(sock: socket.socket, buffer: bytearray) -> bytes | None:
    """One HTTP/1.1 message (head and a Content-Length body) from ``sock``; None at EOF."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer.extend(chunk)
    head_end = buffer.index(b"\r\n\r\n") + 4
    length = 0
    for line in bytes(buffer[:head_end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        if name.strip().lower() == b"transfer-encoding":
            raise AssertionError("the proxy handles Content-Length messages only")
    while len(buffer) < head_end + length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer.extend(chunk)
    message = bytes(buffer[: head_end + length])
    del buffer[: head_end + length]
    return message


class DroppingProxy:
    """``with DroppingProxy(upstream_port) as proxy: proxy.drop_next("/sync/push")``.

    ``offline = True`` makes it refuse every connection (the network is gone) until reset;
    ``fail_next(fragment, status)`` answers the next matching request itself with that status
    (a failing server or gateway), without forwarding it.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.dropped: list[str] = []
        self._armed: list[str] = []
        self._failing: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._closing = False
        self.offline = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def drop_next(self, path_fragment: str) -> None:
        """Lose the answer to the next request whose request line contains ``path_fragment``."""
        with self._lock:
            self._armed.append(path_fragment)

    def fail_next(self, path_fragment: str, status: int = 503) -> None:
        with self._lock:
            self._failing.append((path_fragment, status))

    def _failure_for(self, request: bytes) -> int | None:
        line = request.split(b"\r\n", 1)[0].decode("latin-1")
        with self._lock:
            for fragment, status in self._failing:
                if fragment in line:
                    self._failing.remove((fragment, status))
                    return status
        return None

    def _should_drop(self, request: bytes) -> str | None:
        line = request.split(b"\r\n", 1)[0].decode("latin-1")
        with self._lock:
            for fragment in self._armed:
                if fragment in line:
                    self._armed.remove(fragment)
                    self.dropped.append(line)
                    return line
        return None

    def _serve_connection(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)
        inbound, outbound = bytearray(), bytearray()
        try:
            while True:
                request = _read_message(client, inbound)
                if request is None or self.offline:
                    return
                failure = self._failure_for(request)
                if failure is not None:
                    body = b'{"error":{"code":"unavailable","message":"try again","details":{}}}'
                    client.sendall(
                        f"HTTP/1.1 {failure} Failing\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                    continue
                upstream.sendall(request)
                response = _read_message(upstream, outbound)
                if response is None:
                    return
                if self._should_drop(request):
                    return  # the server answered (and committed); the client never hears it
                client.sendall(response)
        except OSError:
            return
        finally:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.offline:
                client.close()
                continue
            thread = threading.Thread(target=self._serve_connection, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def __enter__(self) -> DroppingProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closing = True
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self.listener.close()
