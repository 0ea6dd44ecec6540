"""The server's log: plain text lines, or one JSON object per line with ``OPS_LOG_FORMAT=json``
(for a log collector: journald, Loki, Elasticsearch…).

Both formats carry only what the code logs, and the code logs no passwords, keys, tokens or
personal data (``sync_server.incidents`` logs failures by type and place). The JSON form goes
one step further for exceptions: it names their type and the frames they passed through, never
their message, which may quote a statement's values.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any, TextIO

from sync_server.config import ConfigError

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# LogRecord attributes that are not extra fields given by the caller.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, process, and any
    ``extra={...}`` fields given by the caller."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info and record.exc_info[0] is not None:
            kind, _exc, tb = record.exc_info
            entry["exception"] = f"{kind.__module__}.{kind.__qualname__}"
            frames = traceback.extract_tb(tb)[-8:]
            entry["where"] = " > ".join(f"{PurePath(f.filename).name}:{f.lineno}:{f.name}" for f in frames)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(env: Mapping[str, str] | None = None, stream: TextIO | None = None) -> None:
    """Log INFO and above to ``stream`` (stderr) in the format ``OPS_LOG_FORMAT`` names."""
    env = os.environ if env is None else env
    chosen = (env.get("OPS_LOG_FORMAT") or "text").strip().lower()
    if chosen not in FORMATS:
        raise ConfigError(f"OPS_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {chosen!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if chosen == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)
