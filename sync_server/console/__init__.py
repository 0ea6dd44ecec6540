"""The admin console: a single-page app served at ``/console`` (plain HTML, CSS and JS, no build).

It talks only to this server's ``/api/v1`` as any other client does: every check it makes is for
the interface only, the API decides. Its pages get a strict Content-Security-Policy of their own
(scripts, styles and requests from this origin only, no inline code, nothing framed or posted
anywhere); every other answer of the server keeps ``default-src 'none'``.
"""

from __future__ import annotations

from flask import Blueprint, Response, send_from_directory

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    static_folder="static",
    static_url_path="/static",
)
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@bp.get("")
@bp.get("/")
def index() -> Response:
    assert bp.static_folder is not None
    response = send_from_directory(bp.static_folder, "index.html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_request
def _console_headers(response: Response) -> Response:
    # Runs before the app's own after_request, which only fills in headers not set here.
    response.headers["Content-Security-Policy"] = CONSOLE_CSP
    return response
