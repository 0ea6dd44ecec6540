"""Sync endpoints (DESIGN §5): push a batch of commands; pull changes page by page.

The work is elsewhere: :mod:`sync_server.writes` applies pushed commands, :mod:`sync_server.pull`
builds pull pages and :mod:`sync_server.pull_cursor` signs and checks cursors.
"""

from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, Response, after_this_request, request
from sqlalchemy import Connection

from common.access import OwnerIds
from common.commands import DERIVED_IDS, LEGACY_DERIVED_IDS
from common.schema import SCHEMA_VERSION
from common.wire import DERIVED_IDS_HEADER, PullBlocksResponse, PullResponse, PushRequest, PushResponse
from sync_server.api import ApiContext, HeaderParam, endpoint
from sync_server.config import ServerConfig
from sync_server.errors import ApiError
from sync_server.mail import Mailer
from sync_server.metrics import server_metrics
from sync_server.notifications import ANSWERING_COMMANDS, notify_answered_requests
from sync_server.pull import PullQuery, Reader, encode_page, pull
from sync_server.pull_cursor import InvalidCursor, cursor_key, decode_cursor, encode_cursor
from sync_server.writes import apply_in_slices

bp = Blueprint("sync", __name__, url_prefix="/api/v1/orgs")

# Client schema versions this server can serve (a newer client needs a newer server). 8 since a
# journal entry's lines moved into its row (revision 0019): a program of version 7 would download
# afresh, find no ``journal_line`` rows and show an empty ledger.
MIN_CLIENT_SCHEMA_VERSION = 8


def check_schema_version(client_version: int) -> None:
    """409 ``upgrade_required`` for a schema version this server cannot serve, saying which side
    must be upgraded: ``details.reason`` is ``client_older`` (upgrade the program) or
    ``client_newer`` (the program is newer than this server: upgrade the server)."""
    if MIN_CLIENT_SCHEMA_VERSION <= client_version <= SCHEMA_VERSION:
        return
    details = {"server_schema_version": SCHEMA_VERSION, "min_schema_version": MIN_CLIENT_SCHEMA_VERSION}
    if client_version > SCHEMA_VERSION:
        raise ApiError(
            409,
            "upgrade_required",
            f"this program (schema version {client_version}) is newer than this server (schema version "
            f"{SCHEMA_VERSION}): the server must be upgraded before it can sync; keep your pending changes",
            {**details, "reason": "client_newer"},
        )
    raise ApiError(
        409,
        "upgrade_required",
        f"schema version {client_version} is no longer served here (this server serves "
        f"{MIN_CLIENT_SCHEMA_VERSION}..{SCHEMA_VERSION}); keep your pending changes and upgrade the program",
        {**details, "reason": "client_older"},
    )


# How the pushed commands derive the ids of rows they create (common.commands.framework): the
# desktop applied them already and kept those rows, so the server must derive the same ids.
_DERIVED_IDS_PARAM = HeaderParam(
    DERIVED_IDS_HEADER,
    "How the pushed commands derive the ids of rows they create without an id in their args: "
    "2 = the command id's first 48 bits, then a SHA-256 of the command id and the row's parts. "
    "1 or absent: scheme 1 (the whole id from that SHA-256), as clients that do not send it derive. "
    "The answer to a push of commands carries Ops-Derived-Ids: 2: this server derives scheme 2 when asked.",
    (str(LEGACY_DERIVED_IDS), str(DERIVED_IDS)),
)


def derived_ids_scheme(value: str | None) -> int:
    """The scheme the ``Ops-Derived-Ids`` header names; 400 for a value this server does not know."""
    if value is None or value.strip() == str(LEGACY_DERIVED_IDS):
        return LEGACY_DERIVED_IDS
    if value.strip() == str(DERIVED_IDS):
        return DERIVED_IDS
    raise ApiError(
        400,
        "invalid",
        f"header {DERIVED_IDS_HEADER}: must be {LEGACY_DERIVED_IDS}, {DERIVED_IDS} or absent",
        {"header": DERIVED_IDS_HEADER},
    )


def _say_derived_ids(response: Response) -> Response:
    response.headers[DERIVED_IDS_HEADER] = str(DERIVED_IDS)
    return response


@endpoint(
    bp,
    "POST",
    "/<org_id>/sync/push",
    summary="Apply a batch of commands, in order",
    auth="org",
    body=PushRequest,
    response=PushResponse,
    errors=(400, 401, 404, 409, 413),
    # The caller is checked in a read transaction; the commands are applied in write transactions
    # of their own, a slice at a time (sync_server.writes.apply_in_slices).
    own_sessions=True,
    headers=(_DERIVED_IDS_PARAM,),
)
def push(ctx: ApiContext, org_id: str) -> PushResponse:
    body: PushRequest = ctx.body
    check_schema_version(body.schema_version)
    if not body.mutations:
        # Nothing to apply: no need for the organization's write lock; the header changes
        # nothing (as on the no-op path, sync_server.noop_sync, which does not read it).
        return PushResponse(results=[])
    derived_ids = derived_ids_scheme(request.headers.get(DERIVED_IDS_HEADER))
    # The answer says this server derives scheme 2 when asked: a desktop applies its commands so
    # only once it has seen this (a server of an older version would ignore the header).
    after_this_request(_say_derived_ids)
    principal = ctx.user
    results = apply_in_slices(
        ctx.services.store,
        org_id,
        principal.user_id,
        principal.device_id,
        principal.permissions,
        body.mutations,
        derived_ids=derived_ids,
    )
    counters = server_metrics()
    if counters is not None:
        counters.count_push(result.status for result in results)
    answered = [
        str(m.args.get("id"))
        for m, result in zip(body.mutations, results, strict=True)
        if m.name in ANSWERING_COMMANDS and result.status == "applied"
    ]
    if answered:
        config = ctx.services.config
        mailer = Mailer.from_url(config.smtp_url) if config.smtp_url else None
        notify_answered_requests(ctx.services.store, mailer, config.public_url, org_id, answered)
    return PushResponse(results=results)


@lru_cache(maxsize=8)
def _cursor_key(config: ServerConfig) -> bytes:
    return cursor_key(config.signing_key())


@lru_cache(maxsize=1024)
def _reader(permissions: frozenset[str], owner: OwnerIds) -> Reader:
    """The read rights of these permissions and owner ids (a pure function of them; the
    permissions and owner ids themselves are looked up on every request)."""
    return Reader.of(permissions, owner)


@endpoint(
    bp,
    "GET",
    "/<org_id>/sync/pull",
    summary="Changes the caller may read: a snapshot without a cursor, else what changed since it",
    auth="org",
    query=PullQuery,
    response=PullResponse,
    response_alternatives=(PullBlocksResponse,),  # format=blocks
    errors=(400, 401, 404, 409),
)
def pull_changes(ctx: ApiContext, org_id: str) -> Response:
    query: PullQuery = ctx.query
    if query.schema_version is not None:
        check_schema_version(query.schema_version)
    key = _cursor_key(ctx.services.config)
    cursor = None
    if query.cursor is not None:
        try:
            cursor = decode_cursor(query.cursor, key, org_id)
        except InvalidCursor as exc:
            raise ApiError(400, "invalid_cursor", str(exc), {"field": "cursor"}) from None
    principal = ctx.user
    reads = ctx.reads
    reader = _reader(principal.permissions, principal.owner_ids(reads))
    page = pull(
        reads if isinstance(reads, Connection) else reads.connection(),
        org_id,
        reader,
        cursor,
        query.limit,
        blocks=query.format == "blocks",
    )
    counters = server_metrics()
    if counters is not None:
        counters.count_pull("snapshot" if cursor is None or cursor.in_snapshot else "incremental", page.count)
    # Nothing new: the cursor the client sent is the answer's cursor (no need to sign it again).
    text = query.cursor if query.cursor is not None and page.cursor == cursor else None
    body = encode_page(page, text or encode_cursor(page.cursor, key), query.format)
    return Response(body, status=200, mimetype="application/json")
