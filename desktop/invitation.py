"""Accepting an invitation from the sign-in screen, then signing in (issue 10). No Qt.

The person pastes the link they were given (``https://ops.example.com/console/#invitation=…``)
or the bare token. :meth:`AcceptInvitation.check` asks the server which organization and address
it is for; :meth:`AcceptInvitation.join` accepts it — with the password of the account they
already have, or with the name and password (typed twice) of a new one — and signs in with that
address and password, as the sign-in state machine (:mod:`desktop.signin`) does for any sign-in.
Each step may block: the dialog runs it off the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from desktop.api_client import (
    ApiClient,
    ApiError,
    InsecureTransportError,
    InvalidCredentialsError,
    NotFoundError,
    OfflineError,
    RateLimitedError,
    check_server_url,
)
from desktop.signin import Credentials, SignIn, SignInError, SignInResult

MIN_PASSWORD = 8  # the server's rule (sync_server.auth.passwords); the server decides
_FRAGMENT = "invitation="


@dataclass(frozen=True)
class Invitation:
    """What the server says an invitation is for."""

    server_url: str
    token: str
    org_name: str
    email: str
    expires_at: str


def parse_invitation(text: str, server_url: str) -> tuple[str, str]:
    """``(server address, token)`` from a pasted link or a bare token.

    A link names its server; a bare token needs the server field. Raises :class:`SignInError`.
    """
    text = text.strip()
    if not text:
        raise SignInError("invitation: paste the link or the code you were given", field="invitation")
    if "#" in text:
        parts = urlsplit(text)
        fragment = parts.fragment
        if not fragment.startswith(_FRAGMENT) or not parts.scheme or not parts.netloc:
            raise SignInError("invitation: that link is not an invitation link", field="invitation")
        text, server_url = unquote(fragment[len(_FRAGMENT) :]), f"{parts.scheme}://{parts.netloc}"
    if not text.startswith("inv.") or any(c.isspace() for c in text):
        raise SignInError("invitation: that is not an invitation code", field="invitation")
    try:
        return check_server_url(server_url), text
    except InsecureTransportError as exc:
        raise SignInError(exc.message, field="server_url") from None


class AcceptInvitation:
    """One invitation being accepted: :meth:`check`, then :meth:`join`."""

    def __init__(self, root: Path, *, ca_bundle: str | None = None, remember: bool = False) -> None:
        self.root = root
        self.ca_bundle = ca_bundle
        self.remember = remember
        self.invitation: Invitation | None = None
        self.attempt: SignIn | None = None  # the sign-in after joining (it may ask for more)

    def _api(self, server_url: str) -> ApiClient:
        try:
            return ApiClient(server_url, ca_bundle=self.ca_bundle)
        except ApiError as exc:
            raise SignInError(exc.message, field="server_url") from None

    def check(self, text: str, server_url: str) -> Invitation:
        server, token = parse_invitation(text, server_url)
        try:
            found = self._api(server).preview_invitation(token)
        except NotFoundError as exc:
            raise SignInError(f"invitation: {exc.message}", field="invitation") from None
        except OfflineError as exc:
            raise SignInError(f"{exc.message}. Accepting an invitation needs the server.") from None
        except ApiError as exc:
            raise SignInError(f"The server refused: {exc.message}") from None
        self.invitation = Invitation(
            server,
            token,
            str(found.get("org_name", "")),
            str(found["email"]),
            str(found.get("expires_at", "")),
        )
        return self.invitation

    def join(self, password: str, *, new_account: bool, name: str = "", repeat: str = "") -> SignInResult:
        """Accept with these answers, then sign in; the result is :class:`SignIn`'s."""
        invitation = self.invitation
        if invitation is None:
            raise SignInError("check the invitation first")
        if new_account:
            if not name.strip():
                raise SignInError("name: enter your name", field="name")
            if len(password) < MIN_PASSWORD:
                raise SignInError(f"password: choose at least {MIN_PASSWORD} characters", field="password")
            if password != repeat:
                raise SignInError("repeat: the two passwords are not the same", field="repeat")
        elif not password:
            raise SignInError("password: enter your password", field="password")
        try:
            joined = self._api(invitation.server_url).accept_invitation(
                invitation.token, password, name.strip() if new_account else None
            )
        except InvalidCredentialsError:
            raise SignInError(
                "password: that is not the password of this address's account", field="password"
            ) from None
        except NotFoundError as exc:
            raise SignInError(f"invitation: {exc.message}", field="invitation") from None
        except (RateLimitedError, OfflineError) as exc:
            raise SignInError(exc.message) from None
        except ApiError as exc:
            field = exc.details.get("field") if isinstance(exc.details.get("field"), str) else None
            raise SignInError(exc.message, field=field) from None
        credentials = Credentials(
            server_url=invitation.server_url,
            email=invitation.email,
            password=password,
            org_id=str(joined["org_id"]),
            remember=self.remember,
            ca_bundle=self.ca_bundle,
        )
        self.attempt = SignIn(self.root, credentials)
        return self.attempt.start()
