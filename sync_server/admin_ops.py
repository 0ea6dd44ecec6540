"""Organization and user administration without HTTP: used by the CLI and the demo seeding.

Each operation runs in its own transaction through the normal scoped sessions (as the
application role on PostgreSQL), and is audited in the organization's chain.
"""

from __future__ import annotations

from sqlalchemy import insert, select

from common.commands.fields import check_name_text
from common.ids import is_uuid, new_id
from common.money import CURRENCIES
from common.permissions import BUILTIN_ROLES
from common.schema import AppUser, Organization
from sync_server import memberships
from sync_server.api_models import is_role_name
from sync_server.audit import PendingEvent, append_events
from sync_server.auth.passwords import Passwords, check_new_password
from sync_server.auth.service import normalize_email
from sync_server.store import SYSTEM_ORG_ID, Store
from sync_server.writes import apply_system_command, create_counters


class AdminError(Exception):
    """A maintenance command that cannot be done; the message says why."""


def find_org(store: Store, name_or_id: str) -> tuple[str, str]:
    """``(id, name)`` of the organization with this id or name (``system`` names the system chain)."""
    if name_or_id == "system":
        return SYSTEM_ORG_ID, "system"
    with store.admin_session() as session:
        stmt = select(Organization.id, Organization.name)
        stmt = (
            stmt.where(Organization.id == name_or_id)
            if is_uuid(name_or_id)
            else stmt.where(Organization.name == name_or_id)
        )
        row = session.execute(stmt).first()
    if row is None:
        raise AdminError(f"there is no organization {name_or_id!r}")
    return row.id, row.name


def create_org(
    store: Store, name: str, *, base_currency: str = "EUR", org_id: str | None = None, books: bool = True
) -> str:
    """Create an organization: its counters, the first link of its audit chain, and its books
    (the default chart of accounts and posting settings, by ``finance.set_up_books``, so the
    change log and the audit trail carry them and every client pulls them). ``books=False``
    makes one as organizations were before the books (tests of sync mechanics use it)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise AdminError("the organization name must have 1 to 200 characters")
    if base_currency not in CURRENCIES:
        raise AdminError(f"{base_currency!r} is not a supported ISO 4217 currency code")
    with store.admin_session() as session:
        if session.execute(select(Organization.id).where(Organization.name == name)).first() is not None:
            raise AdminError(f"an organization called {name!r} already exists")
    org_id = org_id or new_id()
    with store.session(org_id, write=True) as session:
        session.execute(insert(Organization).values(id=org_id, name=name, base_currency=base_currency))
        create_counters(session, org_id)
        append_events(
            session,
            org_id,
            [
                PendingEvent(
                    action="admin.create_org", entity="organization", entity_id=org_id, after={"name": name}
                )
            ],
        )
        if books:
            apply_system_command(
                session, org_id, "finance.set_up_books", {"currency": base_currency}, command_id=new_id()
            )
    return org_id


def find_user(store: Store, email: str) -> str | None:
    with store.session() as session:
        return session.execute(select(AppUser.id).where(AppUser.email == normalize_email(email))).scalar()


def create_user(
    store: Store,
    passwords: Passwords,
    email: str,
    name: str,
    password: str,
    *,
    password_hash: str | None = None,
) -> str:
    """Create a user account (global: memberships are granted per organization).

    ``password_hash``: the Argon2 hash of ``password`` when the caller already computed it.
    """
    try:  # the API's rule for names and addresses (NFC, no control or format characters)
        email = normalize_email(check_name_text(email))
        name = check_name_text(name.strip())
    except ValueError as exc:
        raise AdminError(f"the e-mail address or name {exc}") from None
    if "@" not in email or len(email) > 254:
        raise AdminError(f"{email!r} is not an e-mail address")
    if not name or len(name) > 200:
        raise AdminError("the name must have 1 to 200 characters")
    problem = check_new_password(password)
    if problem is not None:
        raise AdminError(f"the password {problem}")
    if find_user(store, email) is not None:
        raise AdminError(f"a user with the e-mail address {email} already exists")
    user_id = new_id()
    password_hash = password_hash or passwords.hash(password)
    with store.session(write=True) as session:
        session.execute(
            insert(AppUser).values(id=user_id, email=email, name=name, password_hash=password_hash)
        )
    return user_id


def grant(store: Store, email: str, org: str, role: str) -> list[str]:
    """Add ``role`` to the user's membership of ``org`` (creating it). Returns the roles held."""
    if not is_role_name(role):
        raise AdminError(
            f"{role!r} is not a role name: use lowercase ASCII letters (a-z), digits and underscores"
        )
    user_id = find_user(store, email)
    if user_id is None:
        raise AdminError(f"there is no user with the e-mail address {normalize_email(email)}")
    org_id, _ = find_org(store, org)
    if org_id == SYSTEM_ORG_ID:
        raise AdminError("the system chain is not an organization")
    with store.session(org_id, user_id=user_id, write=True) as session:
        if memberships.unknown_role(session, [role]) is not None:
            raise AdminError(
                f"{role!r} is neither a built-in role ({', '.join(BUILTIN_ROLES)}) nor a custom role of this organization"
            )
        change = memberships.add_role(session, user_id, role)
        if change.changed:
            append_events(
                session,
                org_id,
                [
                    PendingEvent(
                        action="admin.grant",
                        entity="membership",
                        entity_id=change.membership_id,
                        before=change.audit_before(),
                        after=change.audit_after(),
                    )
                ],
            )
        roles = change.after
    return roles
