"""The signed-in session: who, in which organization, with which permissions, on which store.

Session facts (the user, the organization, the permissions from the login's memberships) are
kept in the encrypted store's ``sync_state`` too, so an offline sign-in knows them. The refresh
token is kept there as well (encrypted at rest), so a session opened offline can reach the server
again when the network returns without asking for the password.

Every change the interface makes goes through :meth:`UserSession.apply`, which first marks the
profile as possibly holding unsynced changes (a marker file next to the database). The marker is
what lets the sign-in offer "start fresh" safely after a server-side password change: it is only
offered when nothing unsynced can be lost.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common.commands import CommandOutcome
from common.ids import new_id
from common.permissions import permissions_for_roles
from desktop.api_client import ApiClient, Membership, SessionEndedError, User
from desktop.local_store import LocalStore
from desktop.profiles import Profile

log = logging.getLogger(__name__)

USER_KEY = "session.user"
MEMBERSHIP_KEY = "session.membership"
MEMBERSHIPS_KEY = "session.memberships"
REFRESH_TOKEN_KEY = "session.refresh_token"  # noqa: S105 (a state key, not a secret)
SIGNED_IN_AT_KEY = "session.signed_in_at"
# Written by the sync engine after a successful cycle (ISO 8601, UTC); read by the status bar.
LAST_SYNC_KEY = "last_sync_at"

UNSYNCED_MARKER = "unsynced"


def unsynced_marker(root: Path, profile: Profile) -> Path:
    return profile.directory(root) / UNSYNCED_MARKER


def may_have_unsynced(root: Path, profile: Profile) -> bool:
    """True unless the profile is known to hold no change the server has not seen."""
    return unsynced_marker(root, profile).exists()


def mark_unsynced(root: Path, profile: Profile) -> None:
    marker = unsynced_marker(root, profile)
    if marker.exists():
        return
    # Durable before the change it announces: created and fsynced before the command is written.
    fd = os.open(marker, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def clear_unsynced_if_empty(store: LocalStore) -> bool:
    """Remove the marker when the outbox is empty (after a sync or after resolving entries)."""
    if store.outbox():
        return False
    unsynced_marker(store.root, store.profile).unlink(missing_ok=True)
    return True


def save_session_facts(
    store: LocalStore, user: User, membership: Membership, all_: tuple[Membership, ...]
) -> None:
    with store.write_session() as s:
        store.set_state(USER_KEY, json.dumps(user.to_json()), session=s)
        store.set_state(MEMBERSHIP_KEY, json.dumps(membership.to_json()), session=s)
        store.set_state(MEMBERSHIPS_KEY, json.dumps([m.to_json() for m in all_]), session=s)
        store.set_state(SIGNED_IN_AT_KEY, datetime.now(UTC).isoformat(), session=s)


class SessionFactsMissing(Exception):
    """The local data does not say who its user is (it was never signed in online)."""


def load_session_facts(store: LocalStore) -> tuple[User, Membership, tuple[Membership, ...]]:
    user_json, membership_json = store.get_state(USER_KEY), store.get_state(MEMBERSHIP_KEY)
    if not user_json or not membership_json:
        raise SessionFactsMissing("this computer's copy of the data has no sign-in details; sign in online")
    memberships_json = store.get_state(MEMBERSHIPS_KEY) or "[]"
    membership = Membership.from_json(json.loads(membership_json))
    others = tuple(Membership.from_json(m) for m in json.loads(memberships_json)) or (membership,)
    return User.from_json(json.loads(user_json)), membership, others


@dataclass
class UserSession:
    """A signed-in user working in one organization's local store."""

    root: Path
    server_url: str
    user: User
    membership: Membership
    memberships: tuple[Membership, ...]
    store: LocalStore
    api: ApiClient
    online: bool
    remembered: bool = False
    demo: bool = False
    notices: list[str] = field(default_factory=list)
    # After an offline sign-in: the password typed then, in memory only, so the session can sign
    # in to the server by itself when it answers again (then forgotten). Never stored or logged.
    offline_password: str | None = field(default=None, repr=False)

    @property
    def permissions(self) -> frozenset[str]:
        """What the interface offers (the server decides for real)."""
        return self.membership.permissions

    @property
    def org_id(self) -> str:
        return self.membership.org_id

    @property
    def org_name(self) -> str:
        return self.membership.org_name

    @property
    def profile(self) -> Profile:
        return self.store.profile

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def apply(self, name: str, args: dict[str, Any], **kwargs: Any) -> tuple[str, CommandOutcome]:
        """Apply a command as this user: locally at once, queued for the server."""
        mark_unsynced(self.root, self.profile)
        return self.store.apply(name, args, actor_id=self.user.id, permissions=self.permissions, **kwargs)

    @property
    def can_reconnect(self) -> bool:
        return self.offline_password is not None

    def reconnect(self, password: str | None = None) -> None:
        """Sign in to the server again as this user (blocking: run off the GUI thread).

        Without ``password``, the one given at the offline sign-in is used. With a new one (the
        password was changed on the server), the local data's key is re-wrapped under it, as an
        online sign-in does. Raises ``InvalidCredentialsError`` when the server refuses it.
        """
        given = password if password is not None else self.offline_password
        if given is None:
            raise SessionEndedError("you are not signed in to the server", code="not_signed_in", status=401)
        me = self.api.login(self.user.email, given, device_name=socket.gethostname())
        membership = me.membership(self.org_id)
        if membership is None:
            raise SessionEndedError(
                "the server no longer lists you as a member of this organization",
                code="not_member",
                status=403,
            )
        if password is not None:
            self.store.rewrap(password)
        save_session_facts(self.store, me.user, membership, me.memberships)
        self.user, self.membership, self.memberships = me.user, membership, me.memberships
        self.attach_token_persistence()
        self.offline_password = None
        self.online = True

    def persist_refresh_token(self, token: str | None) -> None:
        self.store.set_state(REFRESH_TOKEN_KEY, token)

    def attach_token_persistence(self) -> None:
        """From now on every rotated refresh token is written to the encrypted store."""
        self.persist_refresh_token(self.api.refresh_token)
        self.api.set_token_listener(self.persist_refresh_token)

    def last_sync_at(self) -> datetime | None:
        value = self.store.get_state(LAST_SYNC_KEY)
        if not value:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def close(self) -> None:
        self.api.set_token_listener(None)
        self.store.close()


def local_session(
    root: Path,
    server_url: str,
    email: str,
    password: str,
    *,
    roles: tuple[str, ...] = ("admin",),
    org_name: str = "",
    user_name: str | None = None,
) -> UserSession:
    """A session over a fresh encrypted store of a new organization, as after an offline sign-in,
    with no server contacted (the self-check's probe store; the desktop tests' offline user)."""
    org_id = new_id()
    store = LocalStore.create(root, Profile(server_url, email, org_id), password, org_name=org_name)
    user = User(new_id(), email, user_name or email.split("@")[0].capitalize())
    membership = Membership(org_id, org_name, roles, permissions_for_roles(roles))
    save_session_facts(store, user, membership, (membership,))
    return UserSession(
        root=root,
        server_url=server_url,
        user=user,
        membership=membership,
        memberships=(membership,),
        store=store,
        api=ApiClient(server_url),
        online=False,
    )
