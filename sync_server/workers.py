"""``ops-server run --workers N``: N server processes on one port, sharing nothing but the store.

One Python process serves one request at a time for most of each request (the interpreter lock),
so more cores need more processes. On POSIX the parent prepares everything that must be made
once (the schema, the signing keys), then forks the workers; each opens its own store
connections and runs its own cheroot server on the same port with ``SO_REUSEPORT``, so the
kernel spreads new connections over them (TLS included: each worker terminates its own). The
parent only watches: a worker that dies is started again; SIGTERM or Ctrl+C stops them all.
Where there is no ``fork`` (Windows) one process serves with N times the threads instead.

What the workers share is in the store: sign-in rate limits, refresh tokens, memberships, the
audit chain. Their caches are pure functions of what they cache. On the embedded store the
writers of one process take turns in arrival order (``sync_server.store.WriterTurns``); between
processes SQLite's own wait for its write lock decides, which is fair only roughly: PostgreSQL is
the store for more than one worker under write load.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from sync_server.config import ServerConfig
from sync_server.serve import make_server

if TYPE_CHECKING:
    import argparse

    from sync_server.store import Store

log = logging.getLogger("ops-server")

STOP_TIMEOUT_S = 30.0


def worker_count(text: str) -> int:
    """``--workers``: a whole number of at least 1 (argparse type)."""
    import argparse

    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if count < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return count


def run_workers(config: ServerConfig, store: Store, args: argparse.Namespace) -> int:
    """``ops-server run --workers N`` once the store is prepared: make the signing keys now (so
    every worker reads the same ones), close the parent's connections, serve."""
    config.signing_key()
    config.audit_signing_key()
    store.dispose()

    def make_app() -> Any:
        from sync_server.app import create_app
        from sync_server.services import Services
        from sync_server.store import Store
        from sync_server.writes import settle_heap

        store = Store.open(config)
        app = create_app(config, Services.build(config, store))
        settle_heap(store)  # start-up's objects out of the collector's way
        return app

    scheme = "https" if args.cert else "http"
    print(f"ops-server on {scheme}://{args.host}:{args.port} ({args.workers} workers)", flush=True)
    return serve_workers(
        make_app,
        args.host,
        args.port,
        workers=args.workers,
        threads=args.threads,
        cert=args.cert,
        key=args.key,
    )


def serve_workers(
    make_app: Callable[[], Any],
    host: str,
    port: int,
    *,
    workers: int,
    threads: int,
    cert: Path | None = None,
    key: Path | None = None,
) -> int:
    """Serve the app that ``make_app()`` builds (called once in each worker) with ``workers``
    processes; returns the exit status once they have stopped."""
    if workers < 1:
        raise ValueError("--workers must be at least 1")
    if not hasattr(os, "fork"):
        server = make_server(make_app(), host, port, cert=cert, key=key, threads=threads * workers)
        server.safe_start()
        return 0
    return _Supervisor(_Serving(make_app, host, port, threads, cert, key)).run(workers)


@dataclass(frozen=True)
class _Serving:
    """What each worker serves, and where."""

    make_app: Callable[[], Any]
    host: str
    port: int
    threads: int
    cert: Path | None
    key: Path | None


class _Supervisor:
    def __init__(self, serving: _Serving) -> None:
        self.serving = serving
        # pid → the read end of a pipe the worker writes to once it listens: a worker that exits
        # before that could not start (port taken, bad certificate), and starting it again would
        # only repeat the failure.
        self.children: dict[int, int] = {}
        self.stopping = False

    def run(self, workers: int) -> int:
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        status = 0
        try:
            for _ in range(workers):
                self._spawn()
            while self.children:
                try:
                    pid, code = os.wait()
                except ChildProcessError:
                    break
                except InterruptedError:  # pragma: no cover - retried by Python itself
                    continue
                ready_pipe = self.children.pop(pid, None)
                if ready_pipe is None:
                    continue
                was_ready = _was_ready(ready_pipe)
                if self.stopping:
                    continue
                exit_code = os.waitstatus_to_exitcode(code)
                if not was_ready:
                    log.error("a worker could not start (exit %s); stopping", exit_code)
                    status = 1
                    self._stop_all()
                    continue
                log.warning("worker %s stopped (exit %s); starting another", pid, exit_code)
                self._spawn()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status

    def _spawn(self) -> None:
        ready_read, ready_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(ready_read)
            code = 1
            try:
                code = _worker(self.serving, ready_write)
            except BaseException:
                log.exception("worker failed")
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        os.close(ready_write)
        self.children[pid] = ready_read

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        for pid in list(self.children):
            _signal(pid, signal.SIGTERM)

    def _stop_all(self) -> None:
        self.stopping = True
        for pid in list(self.children):
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while self.children and time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                break
            if pid == 0:
                time.sleep(0.05)  # polling the workers' exit, with a deadline
            elif pid in self.children:
                os.close(self.children.pop(pid))
        for pid in list(self.children):
            _signal(pid, signal.SIGKILL)
            os.close(self.children.pop(pid))


def _was_ready(ready_pipe: int) -> bool:
    """Whether the (exited) worker had said it listens; closes the pipe."""
    try:
        return os.read(ready_pipe, 1) == b"1"
    finally:
        os.close(ready_pipe)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # out of the worker's serve loop


def _worker(serving: _Serving, ready_pipe: int) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    server = make_server(
        serving.make_app(),
        serving.host,
        serving.port,
        cert=serving.cert,
        key=serving.key,
        threads=serving.threads,
        reuse_port=True,
    )
    server.prepare()  # listening from here on
    os.write(ready_pipe, b"1")
    os.close(ready_pipe)
    try:
        server.serve()
    except KeyboardInterrupt:  # SIGTERM or Ctrl+C: stop
        pass
    finally:
        server.stop()
    return 0
