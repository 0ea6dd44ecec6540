"""HTTP client of the sync server's API (DESIGN §5): authentication, the user, the audit trail,
and the two sync calls, push and pull.

One :class:`ApiClient` per signed-in session. It holds the access and refresh tokens in memory
(the caller persists the refresh token in the encrypted local store through ``on_tokens``),
refreshes the access token once when a request answers 401, and turns every failure into an
:class:`ApiError` subclass that says what happened: offline, wrong credentials, rate limited,
session ended, server error. Tokens and passwords are never logged and never part of a ``repr``.

Transport: plain ``http://`` is refused except to this computer (loopback); a custom CA bundle
can be given (``ca_bundle`` or the ``OPS_CA_BUNDLE`` environment variable). No Qt here: the
sync engine (``desktop/sync``) calls :meth:`ApiClient.push` and :meth:`ApiClient.pull` off the
GUI thread. JSON is encoded and decoded with orjson: a pull page holds thousands of rows.
Requests go straight through the ``requests`` session's connection pool, as its adapter set it
up, unless a proxy or a ``response`` hook needs the whole ``requests`` path (:meth:`ApiClient._pool_for`).
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import orjson
import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.hooks import dispatch_hook
from urllib3.util.ssl_match_hostname import CertificateError

from common.ids import DERIVED_IDS, LEGACY_DERIVED_IDS
from common.wire import DERIVED_IDS_HEADER
from desktop import http_wire
from desktop.profiles import normalize_server_url
from desktop.version import user_agent

API_PREFIX = "/api/v1"
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 60.0
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
_TIMEOUT = urllib3.Timeout(connect=CONNECT_TIMEOUT_S, read=READ_TIMEOUT_S)


class ApiError(Exception):
    """The server could not do what was asked; ``code`` is the server's error code."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "error",
        status: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = dict(details or {})


class InsecureTransportError(ApiError, ValueError):
    """The server address would send passwords unencrypted (``http://`` to another machine)."""


class OfflineError(ApiError):
    """The server cannot be reached (no network, server down, TLS failure, time-out)."""


class InvalidCredentialsError(ApiError):
    """Wrong e-mail address or password (the server does not say which)."""


class RateLimitedError(ApiError):
    """Too many attempts; ``retry_after`` seconds to wait when the server says."""

    def __init__(self, message: str, *, retry_after: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class SessionEndedError(ApiError):
    """The session is over (refresh token expired, revoked or reused): sign in again."""


class ForbiddenError(ApiError):
    """The server refused: this user may not do that."""


class NotFoundError(ApiError):
    """No such thing (also the answer for another organization's data)."""


class ServerError(ApiError):
    """The server failed (5xx) or answered something this client cannot read."""


class DownloadCancelled(ApiError):
    """The user stopped a download (nothing was kept)."""


class ResyncRequiredError(ApiError):
    """The server cannot continue this copy's download (rights changed, or the copy is older than
    the server's change history): download a fresh copy, keeping the pending changes."""


class UpgradeRequiredError(ApiError):
    """This program is too old (or too new) for the server: upgrade it; pending changes are kept."""


def names_field(exc: ApiError, name: str) -> bool:
    """``exc`` is a 400 ``invalid`` answer naming the field ``name`` (e.g. a query parameter the server
    does not know)."""
    if exc.status != 400 or exc.code != "invalid":
        return False
    problems = exc.details.get("errors")
    if isinstance(problems, list):
        return any(isinstance(p, dict) and p.get("field") == name for p in problems)
    return exc.details.get("field") == name


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_server_url(url: str) -> str:
    """The normalized server address; refuses plain http to anything but this computer."""
    try:
        normalized = normalize_server_url(url)
    except ValueError as exc:
        raise InsecureTransportError(str(exc), code="invalid_url") from None
    parts = urlsplit(normalized)
    if parts.scheme == "http" and not is_loopback_host(parts.hostname or ""):
        raise InsecureTransportError(
            f"{normalized} is not encrypted: use an https:// address (plain http is only allowed "
            "to this computer, e.g. http://127.0.0.1)",
            code="insecure_transport",
        )
    return normalized


def resolve_ca_bundle(ca_bundle: str | None = None) -> str | bool:
    """What ``requests`` verifies TLS with: the given bundle, ``OPS_CA_BUNDLE``, or the defaults."""
    chosen = ca_bundle or os.environ.get("OPS_CA_BUNDLE") or None
    if chosen is None:
        return True
    if not Path(chosen).is_file():
        raise ApiError(f"the CA bundle {chosen} does not exist", code="ca_bundle_missing")
    return chosen


@dataclass(frozen=True)
class _Answer:
    """A whole answer as the client reads it, from the connection pool (the status, the body, the
    headers: case-insensitive, as ``requests`` gives them)."""

    status_code: int
    content: bytes
    headers: Mapping[str, str]


Answer = requests.Response | _Answer
_SCHEME_2 = str(DERIVED_IDS)


def _as_requests_error(exc: Exception) -> requests.exceptions.RequestException:
    """The exception ``requests`` raises for this transport failure of urllib3 (its adapter's
    mapping): certificate and TLS failures, time-outs (a refused connection is not one), the rest
    a connection error."""
    errors = urllib3.exceptions
    reason = exc.reason if isinstance(exc, errors.MaxRetryError) and exc.reason is not None else exc
    if isinstance(reason, errors.SSLError | ssl.SSLError | CertificateError):  # ssl's own: from http_wire
        return requests.exceptions.SSLError(str(reason))
    if isinstance(reason, errors.ReadTimeoutError | TimeoutError) or (
        isinstance(reason, errors.ConnectTimeoutError) and not isinstance(reason, errors.NewConnectionError)
    ):
        return requests.exceptions.Timeout(str(reason))
    return requests.exceptions.ConnectionError(str(reason))


def _well_formed_block(block: Any) -> bool:
    """Whether a ``blocks`` pull answer's block has the shape the desktop writes from: an entity,
    an op, distinct column names among them ``id``, and rows that are each a list of one value
    per column (a text or a number in a row's place would be taken apart, not refused)."""
    if not isinstance(block, dict) or not isinstance(block.get("entity"), str):
        return False
    columns, rows = block.get("columns"), block.get("rows")
    if block.get("op") not in ("upsert", "delete") or type(columns) is not list or type(rows) is not list:
        return False
    if "id" not in columns or not all(type(c) is str for c in columns) or len(set(columns)) != len(columns):
        return False
    # Over the whole page in C (a page holds thousands of rows).
    return not rows or (set(map(type, rows)) == {list} and set(map(len, rows)) == {len(columns)})


@lru_cache(maxsize=16)
def _segment(value: str) -> str:
    """``value`` quoted as one path segment (an organization id: the same few every sync)."""
    return quote(value, safe="")


@lru_cache(maxsize=16)
def _pull_path(org_id: str, cursor: str | None, limit: int, schema_version: int, blocks: bool) -> str:
    """A pull's path and query (a synced workstation's every no-op pull asks the same one)."""
    params: dict[str, Any] = {"limit": limit, "schema_version": schema_version}
    if cursor is not None:
        params["cursor"] = cursor
    if blocks:
        params["format"] = "blocks"
    return f"/orgs/{_segment(org_id)}/sync/pull?{urlencode(params)}"


def _read_environment_once(client: ApiClient) -> None:
    """Read the proxy and CA variables of the environment now, not on every request.

    ``requests`` looks them up for each request (scanning the whole environment twice): a third
    of the client's time in a no-op sync. The same settings are taken once, as requests would
    take them (``HTTPS_PROXY``/``NO_PROXY`` for this server, ``REQUESTS_CA_BUNDLE`` or
    ``CURL_CA_BUNDLE`` when no bundle was chosen); a change takes effect at the next sign-in.
    """
    if not client.http.trust_env:
        return
    client.http.proxies.update(requests.utils.get_environ_proxies(client.server_url))
    if client.verify is True:
        client.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    client.http.trust_env = False


@dataclass(frozen=True)
class Membership:
    """The user's place in one organization, as the server reported it at sign-in."""

    org_id: str
    org_name: str
    roles: tuple[str, ...]
    permissions: frozenset[str]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Membership:
        return cls(
            org_id=str(data["org_id"]),
            org_name=str(data.get("org_name") or ""),
            roles=tuple(str(r) for r in data.get("roles") or ()),
            permissions=frozenset(str(p) for p in data.get("permissions") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "org_name": self.org_name,
            "roles": list(self.roles),
            "permissions": sorted(self.permissions),
        }


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> User:
        return cls(id=str(data["id"]), email=str(data["email"]), name=str(data.get("name") or ""))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "name": self.name}


@dataclass(frozen=True)
class Me:
    """Who is signed in and where: the answer of login and of ``GET /me``."""

    user: User
    memberships: tuple[Membership, ...] = field(default_factory=tuple)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Me:
        try:
            return cls(
                user=User.from_json(data["user"]),
                memberships=tuple(Membership.from_json(m) for m in data.get("memberships") or ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ServerError(f"the server's answer is missing {exc}", code="bad_response") from None

    def membership(self, org_id: str) -> Membership | None:
        return next((m for m in self.memberships if m.org_id == org_id), None)


TokensCallback = Callable[[str | None], None]


class ApiClient:
    """Client of ``/api/v1`` on one server. Safe to use from one worker thread at a time;
    token refresh is serialized so two workers never spend the same refresh token."""

    def __init__(
        self,
        server_url: str,
        *,
        ca_bundle: str | None = None,
        refresh_token: str | None = None,
        on_tokens: TokensCallback | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.server_url = check_server_url(server_url)
        self.verify = resolve_ca_bundle(ca_bundle)
        self.http = session or requests.Session()
        self.http.headers["User-Agent"] = user_agent()
        _read_environment_once(self)
        self._access_token: str | None = None
        self._refresh_token = refresh_token
        self._on_tokens = on_tokens
        self._lock = threading.Lock()
        # Set once an answer says the server derives ids of scheme 2 (``Ops-Derived-Ids: 2`` on
        # a push's answer): the store then applies new commands so (LocalStore.server_derives_ids).
        self.server_derives_ids = False
        parts = urlsplit(self.server_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._pool: tuple[Any, Any] | None = None
        self._retries: Any = None

    def __repr__(self) -> str:  # never show tokens
        return f"ApiClient({self.server_url!r}, signed_in={self.signed_in})"

    @property
    def signed_in(self) -> bool:
        return self._access_token is not None or self._refresh_token is not None

    @property
    def refresh_token(self) -> str | None:
        return self._refresh_token

    def set_token_listener(self, callback: TokensCallback | None) -> None:
        """``callback(refresh_token)`` runs whenever the refresh token changes (to persist it)."""
        self._on_tokens = callback

    def url(self, path: str) -> str:
        return f"{self.server_url}{API_PREFIX}{path}"

    # -- authentication ----------------------------------------------------------------------
    def login(
        self, email: str, password: str, *, device_id: str | None = None, device_name: str | None = None
    ) -> Me:
        body: dict[str, Any] = {"email": email, "password": password}
        if device_id:
            body["device_id"] = device_id
        if device_name:
            body["device_name"] = device_name[:200]
        data = self._send("POST", "/auth/login", json=body, auth=False)
        self._store_tokens(data)
        return Me.from_json(data)

    def refresh(self) -> None:
        """Exchange the refresh token for a new pair (tokens rotate)."""
        with self._lock:
            self._refresh_locked()

    def _refresh_locked(self) -> None:
        if self._refresh_token is None:
            raise SessionEndedError("you are not signed in to the server", code="not_signed_in", status=401)
        try:
            data = self._send(
                "POST", "/auth/refresh", json={"refresh_token": self._refresh_token}, auth=False
            )
        except (InvalidCredentialsError, SessionEndedError) as exc:
            self._set_tokens(None, None)
            raise SessionEndedError(
                "your session with the server has ended; sign in again", code=exc.code, status=exc.status
            ) from None
        self._store_tokens(data)

    def logout(self) -> None:
        """Revoke the refresh token on the server and forget both tokens (also when offline)."""
        token = self._refresh_token
        self._set_tokens(None, None)
        if token is not None:
            self._send("POST", "/auth/logout", json={"refresh_token": token}, auth=False)

    def preview_invitation(self, token: str) -> dict[str, Any]:
        """Which organization and address an invitation is for (``NotFoundError`` if not valid)."""
        data = self._send("POST", "/invitations/preview", json={"token": token}, auth=False)
        if not isinstance(data, dict) or not isinstance(data.get("email"), str):
            raise ServerError("the server's invitation answer is incomplete", code="bad_response")
        return data

    def accept_invitation(self, token: str, password: str, name: str | None = None) -> dict[str, Any]:
        """Join the invitation's organization with this password (and, for a new account, name)."""
        body: dict[str, Any] = {"token": token, "password": password}
        if name is not None:
            body["name"] = name
        data = self._send("POST", "/invitations/accept", json=body, auth=False)
        if not isinstance(data, dict) or not isinstance(data.get("org_id"), str):
            raise ServerError("the server's answer to the invitation is incomplete", code="bad_response")
        return data

    def me(self) -> Me:
        return Me.from_json(self.request("GET", "/me"))

    def member_names(self, org_id: str, user_ids: list[str]) -> dict[str, str]:
        """Names of the organization's members among ``user_ids`` (others are not answered)."""
        wanted = sorted(set(user_ids))[:100]
        if not wanted:
            return {}
        data = self.request(
            "GET", f"/orgs/{quote(org_id, safe='')}/member-names", params={"ids": ",".join(wanted)}
        )
        names = data.get("names") if isinstance(data, dict) else None
        if not isinstance(names, dict):
            raise ServerError("the server's answer about member names is incomplete", code="bad_response")
        return {str(k): str(v) for k, v in names.items() if isinstance(v, str)}

    def audit(
        self, org_id: str, *, entity: str | None = None, entity_id: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Audit events of one organization the user may read, optionally of one record."""
        params: dict[str, Any] = {"limit": limit}
        if entity:
            params["entity"] = entity
        if entity_id:
            params["entity_id"] = entity_id
        data = self.request("GET", f"/orgs/{quote(org_id, safe='')}/audit", params=params)
        events = data.get("events", data.get("items")) if isinstance(data, dict) else data
        if not isinstance(events, list):
            raise ServerError("the server's audit answer has no list of events", code="bad_response")
        return [e for e in events if isinstance(e, dict)]

    # -- sync ----------------------------------------------------------------------------------
    def push(
        self,
        org_id: str,
        mutations: list[dict[str, Any]],
        *,
        client_id: str,
        schema_version: int,
        derived_ids: int = LEGACY_DERIVED_IDS,
    ) -> list[dict[str, Any]]:
        """Send commands (at most 1000) in order; one result per command, in the same order.
        ``derived_ids``: the scheme they were applied with (one for all), told the server in the
        ``Ops-Derived-Ids`` header unless it is 1."""
        data = self.request(
            "POST",
            f"/orgs/{_segment(org_id)}/sync/push",
            json={"client_id": client_id, "schema_version": schema_version, "mutations": mutations},
            headers=None if derived_ids == LEGACY_DERIVED_IDS else {DERIVED_IDS_HEADER: str(derived_ids)},
        )
        results = data.get("results") if isinstance(data, dict) else None
        if (
            not isinstance(results, list)
            or len(results) != len(mutations)
            or any(
                not isinstance(r, dict) or r.get("id") != m["id"]
                for r, m in zip(results, mutations, strict=False)
            )
        ):
            raise ServerError(
                "the server's push answer does not match the commands sent", code="bad_response"
            )
        return results

    def pull(
        self,
        org_id: str,
        cursor: str | None,
        *,
        limit: int,
        schema_version: int,
        blocks: bool = False,
    ) -> dict[str, Any]:
        """One page of changes after ``cursor`` (``None``: start a full download). ``blocks``: ask
        for the ``blocks`` format (``common.wire.PullBlocksResponse``: the same changes, each run's
        column names once); a server that does not know it answers 400 naming ``format``
        (:func:`names_field`)."""
        data = self.request("GET", _pull_path(org_id, cursor, limit, schema_version, blocks))
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("blocks" if blocks else "changes"), list)
            or not isinstance(data.get("cursor"), str)
            or not isinstance(data.get("has_more"), bool)
        ):
            raise ServerError("the server's pull answer is incomplete", code="bad_response")
        if blocks:
            for block in data["blocks"]:
                if not _well_formed_block(block):
                    raise ServerError("the server's pull answer has a malformed block", code="bad_response")
        return data

    # -- plumbing ------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """An authenticated request (``headers``: more request headers); on 401 the access
        token is refreshed once and it is retried."""
        if self._access_token is None:
            self.refresh()
        try:
            return self._send(method, path, json=json, params=params, auth=True, headers=headers)
        except (InvalidCredentialsError, SessionEndedError) as exc:
            if exc.status != 401:
                raise
        used = self._access_token
        with self._lock:
            if self._access_token == used:  # nobody refreshed meanwhile
                self._refresh_locked()
        return self._send(method, path, json=json, params=params, auth=True, headers=headers)

    def download(self, path: str) -> bytes:
        """An authenticated GET of a file (``path`` under the API prefix, like :meth:`request`):
        its bytes; errors as :meth:`request`."""
        if self._access_token is None:
            self.refresh()
        try:
            return bytes(self._send("GET", path, auth=True, raw=True))
        except (InvalidCredentialsError, SessionEndedError) as exc:
            if exc.status != 401:
                raise
        used = self._access_token
        with self._lock:
            if self._access_token == used:
                self._refresh_locked()
        return bytes(self._send("GET", path, auth=True, raw=True))

    def download_to(
        self,
        path: str,
        target: Path,
        *,
        progress: Callable[[int, int | None], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> int:
        """Stream an authenticated GET of a file into ``target`` (written beside it, renamed when
        complete: a cancelled or failed download leaves no partial file); its size in bytes.
        ``progress(done, total)`` after each chunk; ``cancelled()`` true stops it
        (:class:`DownloadCancelled`)."""
        if self._access_token is None:
            self.refresh()
        try:
            return self._stream_to(path, target, progress, cancelled)
        except (InvalidCredentialsError, SessionEndedError) as exc:
            if exc.status != 401:
                raise
        used = self._access_token
        with self._lock:
            if self._access_token == used:
                self._refresh_locked()
        return self._stream_to(path, target, progress, cancelled)

    def _stream_to(
        self,
        path: str,
        target: Path,
        progress: Callable[[int, int | None], None] | None,
        cancelled: Callable[[], bool] | None,
    ) -> int:
        headers = {"Accept": "*/*", "Authorization": f"Bearer {self._access_token}"}
        partial = target.with_name(target.name + ".part")
        try:
            with self.http.get(
                self.url(path),
                headers=headers,
                timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
                verify=self.verify,
                allow_redirects=False,
                stream=True,
            ) as response:
                if not 200 <= response.status_code < 300:
                    return int(self._parse(response) or 0)  # raises the server's error
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                done = 0
                with open(partial, "wb") as out:
                    for chunk in response.iter_content(chunk_size=64 * 1024):
                        if cancelled is not None and cancelled():
                            raise DownloadCancelled("the download was cancelled", code="cancelled")
                        out.write(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done, total)
            partial.replace(target)
            return done
        except requests.exceptions.RequestException:
            raise OfflineError(f"cannot reach {self.server_url}; working offline", code="offline") from None
        finally:
            partial.unlink(missing_ok=True)

    def sepa_file(self, org_id: str, payroll_run_id: str) -> bytes:
        """A posted payroll run's net pay as a SEPA credit transfer (pain.001.001.03 XML)."""
        return self.download(
            f"/orgs/{quote(org_id, safe='')}/payroll-runs/{quote(payroll_run_id, safe='')}/sepa.xml"
        )

    def payslip_pdf(self, org_id: str, payslip_id: str) -> bytes:
        """A payslip as a PDF: one's own (``hr.self_service``) or, for payroll, anyone's."""
        return self.download(f"/orgs/{quote(org_id, safe='')}/payslips/{quote(payslip_id, safe='')}/pdf")

    def _store_tokens(self, data: Any) -> None:
        if not isinstance(data, dict) or not data.get("access_token") or not data.get("refresh_token"):
            raise ServerError("the server's sign-in answer has no tokens", code="bad_response")
        self._set_tokens(str(data["access_token"]), str(data["refresh_token"]))

    def _set_tokens(self, access: str | None, refresh: str | None) -> None:
        changed = refresh != self._refresh_token
        self._access_token, self._refresh_token = access, refresh
        if changed and self._on_tokens is not None:
            self._on_tokens(refresh)

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        auth: bool,
        raw: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        sent = {"Accept": "*/*" if raw else "application/json", **(headers or {})}
        if auth and self._access_token:
            sent["Authorization"] = f"Bearer {self._access_token}"
        body = None
        if json is not None:
            body = orjson.dumps(json)
            sent["Content-Type"] = "application/json"
        url = self.url(path)
        if params:
            url = f"{url}?{urlencode(params)}"
        try:
            response = self._exchange(method, url, sent, body)
        except requests.exceptions.SSLError:
            raise OfflineError(
                f"the secure connection to {self.server_url} failed: its certificate is not trusted "
                "(set a CA bundle if your organization uses its own)",
                code="tls_error",
            ) from None
        except requests.exceptions.Timeout:
            raise OfflineError(f"{self.server_url} did not answer in time", code="timeout") from None
        except requests.exceptions.RequestException:
            raise OfflineError(f"cannot reach {self.server_url}; working offline", code="offline") from None
        if not self.server_derives_ids and response.headers.get(DERIVED_IDS_HEADER) == _SCHEME_2:
            self.server_derives_ids = True
        if raw and 200 <= response.status_code < 300:
            return response.content
        return self._parse(response)

    def _exchange(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Answer:
        """One request and its whole answer. Straight through the session's connection pool
        (:meth:`_pool_for`) when nothing of the session must see it, else :meth:`_exchange_session`;
        on the pool, written and read by :func:`desktop.http_wire.exchange` unless the adapter
        retries or the request is a HEAD (then ``urlopen``, which retries and knows a HEAD answer
        has no body). A transport failure is raised as requests raises it."""
        pool = self._pool_for(url)
        if pool is None:
            return self._exchange_session(method, url, headers, body)
        # The adapter's default, no retries; HEAD's answer is read by urlopen (http_wire cannot).
        if self._retries is not None and self._retries.total == 0 and method.upper() != "HEAD":
            try:
                status, data, answer_headers = http_wire.exchange(
                    pool,
                    method,
                    url[len(self._origin) :],
                    {**self.http.headers, **headers},
                    body,
                    connect_timeout=CONNECT_TIMEOUT_S,
                    read_timeout=READ_TIMEOUT_S,
                )
            except (urllib3.exceptions.HTTPError, OSError, CertificateError) as exc:
                raise _as_requests_error(exc) from None
            return _Answer(status, data, answer_headers)
        try:
            answer = pool.urlopen(
                method,
                url[len(self._origin) :],
                body=body,
                headers={**self.http.headers, **headers},
                redirect=False,
                assert_same_host=False,
                preload_content=True,
                decode_content=True,
                retries=self._retries,
                timeout=_TIMEOUT,
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _as_requests_error(exc) from None
        return _Answer(answer.status, answer.data, answer.headers)

    def _pool_for(self, url: str) -> Any:
        """The urllib3 pool the session's transport adapter would send ``url`` through, set up as
        the adapter sets it up (TLS verification against ``verify``, the client certificate), or
        ``None`` when the whole ``requests`` path must run: a proxy, a ``response`` hook (they see
        every answer), an adapter of another kind mounted.

        Sending through it directly skips what ``requests`` adds around each request and answer
        (preparing the request, the response object, its cookies, mapping exceptions), ~0.35 ms
        of the client's CPU a request: half of each no-op sync request's work on the client. The
        pool is the adapter's own: the same keep-alive connections, time-outs and retries."""
        http = self.http
        if http.proxies or http.hooks["response"] or not url.startswith(self._origin):
            return None
        adapter = http.get_adapter(url)
        if type(adapter) is not HTTPAdapter:
            return None
        key = (adapter, self.verify, http.cert)
        cached = self._pool
        if cached is not None and cached[0] == key and cached[1].pool is not None:  # not closed
            return cached[1]
        request = requests.PreparedRequest()
        request.prepare(method="GET", url=url)
        pool = adapter.get_connection_with_tls_context(request, self.verify, None, http.cert)
        adapter.cert_verify(pool, url, self.verify, http.cert)
        self._pool, self._retries = (key, pool), adapter.max_retries
        return pool

    def _exchange_session(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> requests.Response:
        """One request through the session's transport adapter, which does the work of
        ``Session.request`` that matters here: its connection pool (keep-alive), TLS
        verification against ``verify``, the proxies, the time-outs. What the session would add
        on top is skipped on purpose: cookies (the API sets none; the client authenticates with
        its bearer token), redirects (never followed) and re-reading the environment (done once,
        :func:`_read_environment_once`); that was a third of the client's work in a no-op sync.
        The session's ``response`` hooks still see every answer."""
        request = requests.PreparedRequest()
        request.prepare(method=method, url=url, headers={**self.http.headers, **headers}, data=body)
        response = self.http.get_adapter(url).send(
            request,
            timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
            verify=self.verify,
            cert=self.http.cert,
            proxies=self.http.proxies,
        )
        response = dispatch_hook("response", self.http.hooks, response)
        response.content  # noqa: B018 - read now, as the session does: the connection goes back to the pool
        return response

    def _parse(self, response: Answer) -> Any:
        status = response.status_code
        if status == 204:
            return None
        try:
            body = orjson.loads(response.content) if response.content else None
        except orjson.JSONDecodeError:
            body = None
        if 200 <= status < 300:
            if body is None:
                raise ServerError(
                    f"the server answered {status} without JSON", status=status, code="bad_response"
                )
            return body
        error = body.get("error") if isinstance(body, dict) else None
        code = str(error.get("code", "error")) if isinstance(error, dict) else "error"
        message = str(error.get("message", "")) if isinstance(error, dict) else ""
        details = error.get("details") if isinstance(error, dict) else None
        details = details if isinstance(details, dict) else {}
        kwargs: dict[str, Any] = {"code": code, "status": status, "details": details}
        if status == 401:
            if code == "invalid_credentials":
                raise InvalidCredentialsError("wrong e-mail address or password", **kwargs)
            raise SessionEndedError(message or "your session with the server has ended", **kwargs)
        if status == 429:
            retry = response.headers.get("Retry-After")
            retry_after = int(retry) if retry and retry.isdigit() else None
            wait = f" Try again in {retry_after} seconds." if retry_after else " Try again later."
            raise RateLimitedError(f"too many attempts.{wait}", retry_after=retry_after, **kwargs)
        if status == 403 and code == "signed_out":
            # The organization signed this person out: only typing the password again helps.
            raise SessionEndedError(message or "this organization signed you out; sign in again", **kwargs)
        if status == 403:
            raise ForbiddenError(message or "the server refused: you do not have permission", **kwargs)
        if status == 404:
            raise NotFoundError(message or "not found on the server", **kwargs)
        if status == 409 and code == "resync_required":
            raise ResyncRequiredError(message or "download a fresh copy of the data", **kwargs)
        if status == 409 and code == "upgrade_required":
            raise UpgradeRequiredError(
                message or "this program is too old for the server; upgrade it", **kwargs
            )
        if 300 <= status < 400:
            raise ServerError(
                f"the server redirected to {response.headers.get('Location', '?')}; check the address",
                **kwargs,
            )
        if status >= 500:
            raise ServerError(f"the server failed ({status}); try again later", **kwargs)
        raise ApiError(message or f"the server refused the request ({status})", **kwargs)
