"""Signing in, online or offline, and signing out (issue 5 §1). No Qt: the dialog runs each step
off the GUI thread and shows what comes back.

Online first: the server checks the password and says which organizations the user belongs to;
the local store is created on the first sign-in (its key wrapped by the password) and unlocked on
later ones. When the server cannot be reached, the password unlocks this computer's copy of the
data instead (offline sign-in), with the permissions the last online sign-in recorded.

A sign-in is a small state machine (:class:`SignIn`): :meth:`SignIn.start` answers with a
session, or with a question: which organization (:class:`ChooseOrganization`), or — when the
server accepted a password that no longer unwraps the local key, because it was changed on the
server meanwhile — the previous password (:class:`PreviousPasswordNeeded`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from desktop import keychain
from desktop.api_client import (
    ApiClient,
    ApiError,
    InsecureTransportError,
    InvalidCredentialsError,
    Me,
    Membership,
    OfflineError,
    RateLimitedError,
    ServerError,
    check_server_url,
)
from desktop.local_store import DamagedKeyFileError, LocalStore, LocalStoreError, WrongPasswordError
from desktop.profiles import Profile, known_organizations, user_dir
from desktop.session import (
    REFRESH_TOKEN_KEY,
    UserSession,
    load_session_facts,
    may_have_unsynced,
    save_session_facts,
)

log = logging.getLogger(__name__)

LAST_PROFILE_ENTRY = "last-profile"
REPLACED_DIR = ".replaced"


class SignInError(Exception):
    """Sign-in refused; ``field`` names the input it is about (for the dialog to point at)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Credentials:
    server_url: str
    email: str
    password: str = field(repr=False)
    org_id: str | None = None
    remember: bool = False
    ca_bundle: str | None = None
    demo: bool = False


@dataclass(frozen=True)
class ChooseOrganization:
    """The user belongs to several organizations: which one to open."""

    options: tuple[Membership, ...]
    offline: bool


@dataclass(frozen=True)
class PreviousPasswordNeeded:
    """The server accepted the password but it does not unlock this computer's data."""

    org_name: str
    can_start_fresh: bool


SignInResult = UserSession | ChooseOrganization | PreviousPasswordNeeded


class SignIn:
    """One sign-in attempt, possibly over several steps (each may block: run off the GUI thread)."""

    def __init__(self, root: Path, credentials: Credentials) -> None:
        self.root = root
        self.credentials = credentials
        self.api: ApiClient | None = None
        self.me: Me | None = None
        self.offline_reason: str | None = None
        self._pending: Membership | None = None

    # -- steps ---------------------------------------------------------------------------------
    def start(self) -> SignInResult:
        creds = self.credentials
        try:
            server_url = check_server_url(creds.server_url)
        except InsecureTransportError as exc:
            raise SignInError(exc.message, field="server_url") from None
        if "@" not in creds.email.strip():
            raise SignInError("e-mail address: enter the address you sign in with", field="email")
        if not creds.password:
            raise SignInError("password: enter your password", field="password")
        self.server_url = server_url
        try:
            self.api = ApiClient(server_url, ca_bundle=creds.ca_bundle)
        except ApiError as exc:
            raise SignInError(exc.message, field="server_url") from None
        try:
            self.me = self.api.login(creds.email.strip(), creds.password, device_name=socket.gethostname())
        except InvalidCredentialsError:
            raise SignInError("wrong e-mail address or password", field="password") from None
        except RateLimitedError as exc:
            raise SignInError(f"The server refused: {exc.message}") from None
        except (OfflineError, ServerError) as exc:
            self.offline_reason = exc.message
            return self._start_offline()
        except ApiError as exc:
            raise SignInError(f"The server refused the sign-in: {exc.message}") from None
        if not self.me.memberships:
            raise SignInError("Your account does not belong to any organization yet; ask an administrator.")
        wanted = self.me.membership(creds.org_id) if creds.org_id else None
        if wanted is not None:
            return self._open_online(wanted)
        if len(self.me.memberships) == 1:
            return self._open_online(self.me.memberships[0])
        return ChooseOrganization(self.me.memberships, offline=False)

    def choose(self, org_id: str) -> SignInResult:
        if self.me is None:
            return self._open_offline(org_id)
        membership = self.me.membership(org_id)
        if membership is None:
            raise SignInError("you are not a member of that organization")
        return self._open_online(membership)

    def with_previous_password(self, previous: str) -> SignInResult:
        """Unlock with the password used before the server-side change and re-wrap the key."""
        membership = self._require_pending()
        profile = self._profile(membership.org_id)
        try:
            store = LocalStore.unlock(self.root, profile, previous)
        except WrongPasswordError:
            raise SignInError(
                "previous password: that does not unlock the data on this computer either",
                field="previous_password",
            ) from None
        store.rewrap(self.credentials.password)
        return self._finish(store, membership, online=True)

    def start_fresh(self) -> SignInResult:
        """Set this computer's undecryptable copy aside and download the data again.

        Only allowed when it cannot hold changes the server has not seen.
        """
        membership = self._require_pending()
        profile = self._profile(membership.org_id)
        if may_have_unsynced(self.root, profile):
            raise SignInError(
                "This computer's copy holds changes that were never synced; only the previous "
                "password can recover them, so it is kept."
            )
        directory = profile.directory(self.root)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        aside = profile.user_dir(self.root) / REPLACED_DIR / f"{membership.org_id}-{stamp}"
        aside.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory.rename(aside)  # kept, never deleted: the old copy stays recoverable
        keychain.forget_key(profile.keyring_name)
        store = LocalStore.create(self.root, profile, self.credentials.password, org_name=membership.org_name)
        return self._finish(store, membership, online=True)

    # -- online and offline opening ------------------------------------------------------------
    def _profile(self, org_id: str) -> Profile:
        return Profile(self.server_url, self.credentials.email.strip(), org_id)

    def _require_pending(self) -> Membership:
        if self._pending is None:
            raise SignInError("nothing is waiting for that answer; sign in again")
        return self._pending

    def _open_online(self, membership: Membership) -> SignInResult:
        profile = self._profile(membership.org_id)
        password = self.credentials.password
        try:
            if not LocalStore.exists(self.root, profile):
                store = LocalStore.create(self.root, profile, password, org_name=membership.org_name)
                return self._finish(store, membership, online=True)
            try:
                store = LocalStore.unlock(self.root, profile, password)
            except WrongPasswordError:
                remembered = self._open_remembered_key(profile)
                if remembered is None:
                    self._pending = membership
                    return PreviousPasswordNeeded(
                        membership.org_name, can_start_fresh=not may_have_unsynced(self.root, profile)
                    )
                remembered.rewrap(password)
                store = remembered
        except (LocalStoreError, DamagedKeyFileError) as exc:
            raise SignInError(str(exc)) from None
        return self._finish(store, membership, online=True)

    def _open_remembered_key(self, profile: Profile) -> LocalStore | None:
        key = keychain.recall_key(profile.keyring_name)
        if key is None:
            return None
        try:
            return LocalStore.open_with_key(self.root, profile, key)
        except LocalStoreError:
            return None

    def _start_offline(self) -> SignInResult:
        known = known_organizations(self.root, self.server_url, self.credentials.email)
        if not known:
            raise SignInError(
                f"{self.offline_reason}. The first sign-in on this computer needs the server; "
                "connect to the network and try again."
            )
        ids = [str(k.get("org_id")) for k in known]
        if self.credentials.org_id in ids:
            return self._open_offline(self.credentials.org_id)
        if len(known) == 1:
            return self._open_offline(ids[0])
        options = tuple(
            Membership(str(k.get("org_id")), str(k.get("org_name") or ""), (), frozenset()) for k in known
        )
        return ChooseOrganization(options, offline=True)

    def _open_offline(self, org_id: str) -> SignInResult:
        profile = self._profile(org_id)
        try:
            store = LocalStore.unlock(self.root, profile, self.credentials.password)
        except WrongPasswordError:
            raise SignInError(
                "password: it does not unlock the data on this computer (offline, the password is "
                "the one you last signed in with here)",
                field="password",
            ) from None
        except (LocalStoreError, DamagedKeyFileError) as exc:
            raise SignInError(str(exc)) from None
        return self._finish(store, None, online=False)

    def _finish(self, store: LocalStore, membership: Membership | None, *, online: bool) -> UserSession:
        creds = self.credentials
        try:
            if online and self.me is not None and membership is not None:
                save_session_facts(store, self.me.user, membership, self.me.memberships)
                user, memberships = self.me.user, self.me.memberships
                api = self.api
                assert api is not None
            else:
                user, membership, memberships = load_session_facts(store)
                api = ApiClient(
                    self.server_url,
                    ca_bundle=creds.ca_bundle,
                    refresh_token=store.get_state(REFRESH_TOKEN_KEY),
                )
        except Exception as exc:
            store.close()
            raise SignInError(str(exc)) from None
        session = UserSession(
            root=self.root,
            server_url=self.server_url,
            user=user,
            membership=membership,
            memberships=memberships,
            store=store,
            api=api,
            online=online,
            demo=creds.demo,
        )
        session.attach_token_persistence()
        if not online:
            session.notices.append(f"Working offline: {self.offline_reason}.")
            session.offline_password = creds.password
        remember(session, creds.remember)
        return session


def remember(session: UserSession, wanted: bool) -> None:
    """Keep (or forget) the database key in the OS keyring; say so when there is no keyring."""
    profile = session.profile
    if not wanted:
        keychain.forget_key(profile.keyring_name)
        if _last_profile() == _profile_json(profile):
            keychain.forget_key(LAST_PROFILE_ENTRY)
        return
    stored = keychain.remember_key(profile.keyring_name, session.store.key) and keychain.remember_text(
        LAST_PROFILE_ENTRY, _profile_json(profile)
    )
    session.remembered = stored
    if not stored:
        session.notices.append(keychain.NO_KEYRING_MESSAGE)


def _profile_json(profile: Profile) -> str:
    return json.dumps({"server_url": profile.server_url, "email": profile.email, "org_id": profile.org_id})


def _last_profile() -> str | None:
    return keychain.recall_text(LAST_PROFILE_ENTRY)


def open_remembered(
    root: Path, *, server_url: str | None = None, ca_bundle: str | None = None
) -> UserSession | None:
    """The session remembered on this computer ("remember me"), opened without a password."""
    text = _last_profile()
    if not text:
        return None
    try:
        data = json.loads(text)
        profile = Profile(str(data["server_url"]), str(data["email"]), str(data["org_id"]))
        if server_url is not None and check_server_url(server_url) != check_server_url(profile.server_url):
            return None
    except (ValueError, KeyError, TypeError, ApiError):
        return None
    key = keychain.recall_key(profile.keyring_name)
    if key is None or not LocalStore.exists(root, profile):
        return None
    try:
        store = LocalStore.open_with_key(root, profile, key)
    except LocalStoreError:
        return None
    try:
        user, membership, memberships = load_session_facts(store)
        api = ApiClient(
            profile.server_url, ca_bundle=ca_bundle, refresh_token=store.get_state(REFRESH_TOKEN_KEY)
        )
    except Exception:
        store.close()
        return None
    session = UserSession(
        root=root,
        server_url=check_server_url(profile.server_url),
        user=user,
        membership=membership,
        memberships=memberships,
        store=store,
        api=api,
        online=False,
        remembered=True,
    )
    session.attach_token_persistence()
    return session


def sign_out(session: UserSession) -> str | None:
    """End the session: revoke it on the server, forget it on this computer, close the store.

    Returns a note for the user when the server could not be told (the token is dropped here
    anyway, so it can no longer be used from this computer).
    """
    note = None
    try:
        session.api.logout()
    except ApiError as exc:
        note = f"Signed out on this computer; the server could not be told ({exc.message})."
    with contextlib.suppress(Exception):
        session.persist_refresh_token(None)
    keychain.forget_key(session.profile.keyring_name)
    if _last_profile() == _profile_json(session.profile):
        keychain.forget_key(LAST_PROFILE_ENTRY)
    session.close()
    return note


def known_sign_ins(root: Path, server_url: str, email: str) -> list[dict[str, str]]:
    """Organizations with data on this computer for this user (offline organization choice)."""
    try:
        server = check_server_url(server_url)
    except ApiError:
        return []
    if not user_dir(root, server, email).is_dir():
        return []
    return [
        {"org_id": str(k.get("org_id")), "org_name": str(k.get("org_name") or "")}
        for k in known_organizations(root, server, email)
    ]
