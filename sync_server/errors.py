"""The one error type of the HTTP API (no Flask here: services raise it, handlers render it).

Rendered as ``{"error": {"code", "message", "details"}}`` with the status of DESIGN §5.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from common.commands.framework import format_validation_error


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def bad_request(message: str, *, field: str | None = None, code: str = "invalid") -> ApiError:
    return ApiError(400, code, message, {"field": field} if field else None)


def from_validation(exc: ValidationError, prefix: str = "") -> ApiError:
    """A 400 naming the first bad field (every problem is in ``details.errors``)."""
    err = format_validation_error(exc, prefix)
    return ApiError(400, "invalid", err.message, err.details)


def unauthenticated(message: str = "sign in first", code: str = "unauthenticated") -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": 'Bearer realm="ops"'})


def forbidden(permission: str) -> ApiError:
    return ApiError(403, "forbidden", f"this needs the permission {permission}", {"permission": permission})


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"no such {what}")


def rate_limited(wait: int, message: str) -> ApiError:
    """429 with ``Retry-After``: ``wait`` seconds until the next attempt may succeed."""
    return ApiError(429, "rate_limited", message, {"retry_after": wait}, headers={"Retry-After": str(wait)})
