"""Logging an unexpected failure without the data it was about.

Exception messages are not safe to log: a store error repeats the statement's parameters and, on
PostgreSQL, the offending key values; any other error may quote its input. An incident is logged
by the exception's type (and its cause's), the code locations it passed through and a short id;
the answer to the client carries the same id so an operator can find the entry.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from pathlib import PurePath


def _type_name(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}"


def log_incident(logger: logging.Logger, what: str, exc: BaseException) -> str:
    """Log ``exc`` as an incident of ``what`` (which must hold no user data); returns its id."""
    incident = secrets.token_hex(6)
    kinds = [_type_name(exc)]
    cause = exc.__cause__ or exc.__context__
    if cause is not None:
        kinds.append(_type_name(cause))
    frames = traceback.extract_tb(exc.__traceback__)
    # Our own frames tell where it went wrong; of the libraries', only the last one.
    ours = [f for f in frames[:-1] if "site-packages" not in f.filename][-12:]
    shown = [*ours, *frames[-1:]]
    where = " > ".join(f"{PurePath(f.filename).name}:{f.lineno}:{f.name}" for f in shown)
    logger.error("%s [incident %s]: %s at %s", what, incident, " from ".join(kinds), where or "?")
    return incident
