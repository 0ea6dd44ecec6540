"""``ops-server`` commands run in this process, as a user's shell would run them.

:func:`ops_server` calls ``sync_server.cli.main`` with the given environment (and nothing else of
``OPS_*``), stdin, stdout and stderr; the tests whose point is a process of its own (serving)
start the real executable, :data:`OPS_SERVER`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

from sync_server.cli import main

OPS_SERVER = str(Path(sys.executable).with_name("ops-server"))


def shell_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """This process's environment without any ``OPS_*`` variable, with ``OPS_DATA_DIR`` and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_")}
    env["OPS_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def ops_server(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``ops-server ARGS``: its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # main() configures logging for the process
    try:
        with (
            mock.patch.dict(os.environ, env, clear=True),
            mock.patch.object(sys, "stdin", io.StringIO(stdin or "")),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            code = main(list(args))
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return subprocess.CompletedProcess([OPS_SERVER, *args], code, out.getvalue(), err.getvalue())
