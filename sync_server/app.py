"""The Flask app factory (no module-level app): ``create_app(config)``.

Every answer is JSON, errors included (DESIGN §5): handlers raise :class:`ApiError`; werkzeug's
HTTP errors (404 route, 405, 413…) and unexpected exceptions are rendered in the same shape,
the latter as a 500 that reveals nothing of the internals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

from flask import Flask, Response, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from common.version import package_version
from sync_server import console, metrics, noop_sync
from sync_server.api import json_response
from sync_server.blueprints import BLUEPRINTS
from sync_server.config import ServerConfig
from sync_server.errors import ApiError
from sync_server.incidents import log_incident
from sync_server.services import Services

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}

_SECURITY_ITEMS = tuple(_SECURITY_HEADERS.items())
_SECURITY_NAMES = tuple((name.lower(), (name, value)) for name, value in _SECURITY_ITEMS)
_HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
# The Date header of this second (HTTP-date, as cheroot writes it): cheroot formats one for every
# answer that has none (email.utils, ~5 % of a no-op pull's server time under load). Given to
# cheroot only (``ops-server run``), which then adds none: another server may add its own anyway.
_date: tuple[int, tuple[str, str]] = (0, ("Date", ""))


def _date_header() -> tuple[str, str]:
    global _date
    second = int(time.time())
    if _date[0] != second:
        _date = (second, ("Date", formatdate(second, usegmt=True)))
    return _date[1]


def _with_security_headers(wsgi_app: Callable[..., Any]) -> Callable[..., Any]:
    """``wsgi_app`` answering every response with the security headers (and HSTS over https) and
    the date (under cheroot).

    Added to the WSGI header list as the answer starts, not in an ``after_request`` hook through
    werkzeug's ``Headers`` (which checks every value again): this runs on every request. A header
    the endpoint set itself (the console's CSP) is kept. Wrapped inside ``ProxyFix``, so a request
    a trusted proxy received over https counts as https.
    """

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        secure = environ.get("wsgi.url_scheme") == "https"
        dated = environ.get("SERVER_SOFTWARE", "").startswith("Cheroot/")

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers.extend([item for name, item in _SECURITY_NAMES if name not in present])
            if secure and "strict-transport-security" not in present:
                headers.append(_HSTS)
            if dated and "date" not in present:
                headers.append(_date_header())
            return start_response(status, headers, exc_info)

        return wsgi_app(environ, start)

    return app


def create_app(config: ServerConfig, services: Services | None = None) -> Flask:
    """A new app over ``config``'s store (which must already be prepared: ``ops-server init``)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_content_length
    # No automatic OPTIONS (an empty text/html answer): there is no CORS to serve, so OPTIONS
    # is a method like any other the route does not allow, a JSON 405 with Allow.
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # No redirects from routing: werkzeug would answer "/api//v1/me" (merged slashes) with a 308
    # to an absolute URL built from the Host header, which the client chose. Such paths are
    # simply not found (a JSON 404). No rule ends in "/" without its twin without, so a missing
    # trailing slash never redirects either (tests/sync_server/test_http.py).
    app.url_map.merge_slashes = False
    app.url_map.redirect_defaults = False
    app.extensions["ops"] = services or Services.build(config)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    app.register_blueprint(console.bp)  # the admin console's pages (no API endpoints)
    noop_sync.install(app)  # the most frequent requests, answered before Flask when they change nothing
    app.wsgi_app = _with_security_headers(app.wsgi_app)  # type: ignore[method-assign]
    if config.trusted_proxies > 0:
        n = config.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return json_response(exc.body(), exc.status, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        message = (exc.description or exc.name or "error").split("\n")[0]
        if status == 413:
            message = f"the request is larger than {config.max_content_length} bytes"
        headers = {}
        if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            headers["Allow"] = ", ".join(exc.valid_methods)
        return json_response({"error": {"code": code, "message": message, "details": {}}}, status, headers)

    @app.errorhandler(DataError)
    def _unstorable_value(exc: DataError) -> Response:
        # A safety net: validation refuses such values first (a NUL byte, which PostgreSQL
        # cannot store; a value the column cannot hold). Bad input is a 400, never a 500.
        incident = log_incident(
            log, f"the store refused a value in {request.method} {request.url_rule or '?'}", exc
        )
        body = {
            "error": {
                "code": "invalid",
                "message": "a value in the request cannot be stored (a character or size the database refuses)",
                "details": {"incident": incident},
            }
        }
        return json_response(body, 400)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Logged by type and place only: the request body may hold a password, an error's text
        # the values of a failed statement.
        incident = log_incident(log, f"unexpected error in {request.method} {request.url_rule or '?'}", exc)
        body = {
            "error": {
                "code": "internal_error",
                "message": f"an unexpected error occurred (incident {incident})",
                "details": {"incident": incident},
            }
        }
        return json_response(body, 500)

    # Last: its middleware wraps everything above, ProxyFix included.
    metrics.install(app, config, app.extensions["ops"].store, package_version() or "unknown")
    return app
