"""Sending notifications: the in-app row (through the command ``notifications.create_notification``,
so the recipient's workstations pull it) and an e-mail through ``OPS_SMTP_URL``.

Essential kinds (``common.commands.notifications.ESSENTIAL``) are always mailed; the others only
to users who have not opted out (``app_user.email_opt_out``), each with a one-click unsubscribe
link (``List-Unsubscribe`` and ``List-Unsubscribe-Post``, RFC 8058). The link carries an HMAC of
the user id under a key derived from the server's audit key, so it needs no sign-in and cannot
be forged for another user. Customer mail asks ``common.commands.privacy.may_contact`` first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select, update

from common.commands.notifications import is_essential
from common.commands.privacy import may_contact
from common.ids import new_id
from common.schema import AppUser
from sync_server.mail import Mailer, MailError
from sync_server.store import Store
from sync_server.writes import apply_system_command

log = logging.getLogger(__name__)
_NAMESPACE = uuid.UUID("0c6f1d3e-5a57-4c1b-8a3e-2b9d0f4c7e15")


def _unsubscribe_key(store: Store) -> bytes:
    return hmac.new(store.audit_key(), b"ops-unsubscribe", hashlib.sha256).digest()


def unsubscribe_token(store: Store, user_id: str) -> str:
    mac = hmac.new(_unsubscribe_key(store), user_id.encode(), hashlib.sha256).digest()[:16]
    return f"{user_id}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def user_of_token(store: Store, token: str) -> str | None:
    """The user a valid unsubscribe token names, or ``None``."""
    user_id, _, _ = token.partition(".")
    if not user_id or len(token) > 120:
        return None
    expected = unsubscribe_token(store, user_id).encode()
    # As bytes: compare_digest refuses str with non-ASCII characters (a forged token may hold any).
    return user_id if hmac.compare_digest(expected, token.encode("utf-8", "surrogatepass")) else None


def opt_out(store: Store, user_id: str) -> None:
    with store.session(user_id=user_id, write=True) as session:
        session.execute(update(AppUser).where(AppUser.id == user_id).values(email_opt_out=True))


@dataclass
class Delivery:
    notified: list[str] = field(default_factory=list)
    mailed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # opted out of non-essential mail
    failed: list[str] = field(default_factory=list)


def notify(
    store: Store,
    mailer: Mailer | None,
    public_url: str | None,
    org_id: str,
    user_ids: list[str],
    kind: str,
    title: str,
    body: str,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
) -> Delivery:
    """Write an in-app notification for each user and mail it where the category allows."""
    delivery = Delivery()
    recipients: dict[str, tuple[str, bool]] = {}
    with store.session(org_id, write=True) as session:
        for user_id in user_ids:
            apply_system_command(
                session,
                org_id,
                "notifications.create_notification",
                {
                    "id": new_id(),
                    "user_id": user_id,
                    "kind": kind,
                    "title": title,
                    "body": body,
                    "entity": entity,
                    "entity_id": entity_id,
                },
                str(uuid.uuid4()),
            )
            delivery.notified.append(user_id)
        rows = session.execute(
            select(AppUser.id, AppUser.email, AppUser.email_opt_out, AppUser.erased_at).where(
                AppUser.id.in_(user_ids)
            )
        ).all()
        for user_id, email, opted_out, erased_at in rows:
            if erased_at is None:
                recipients[user_id] = (email, bool(opted_out))
    if mailer is None:
        return delivery
    for user_id, (email, opted_out) in recipients.items():
        headers = {"X-Ops-Kind": kind}
        if not is_essential(kind):
            if opted_out:
                delivery.skipped.append(user_id)
                continue
            link = f"{(public_url or '').rstrip('/')}/api/v1/unsubscribe?token={unsubscribe_token(store, user_id)}"
            headers["List-Unsubscribe"] = f"<{link}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            body_text = f"{body}\n\nTo stop these e-mails, unsubscribe: {link}\n"
        else:
            body_text = body
        try:
            mailer.send(email, title, body_text, headers)
            delivery.mailed.append(user_id)
        except MailError:
            log.warning("a %s notification could not be mailed", kind)
            delivery.failed.append(user_id)
    return delivery


def may_mail_customer(store: Store, org_id: str, customer_id: str, purpose: str) -> bool:
    """Whether outbound mail to a customer for ``purpose`` is allowed (their opt-outs honoured)."""
    with store.session(org_id) as session:
        return may_contact(session, org_id, "customer", customer_id, "email", purpose)


ANSWERING_COMMANDS = frozenset(
    {"privacy.complete_data_subject_request", "privacy.reject_data_subject_request"}
)


def notify_answered_requests(
    store: Store, mailer: Mailer | None, public_url: str | None, org_id: str, request_ids: list[str]
) -> None:
    """Tell each person who asked about their own data that their request was answered (an
    essential notification: in the app, and by e-mail when the server mails)."""
    from common.schema import DataSubjectRequest

    with store.session(org_id) as session:
        rows = session.execute(
            select(DataSubjectRequest.subject_id, DataSubjectRequest.kind, DataSubjectRequest.status).where(
                DataSubjectRequest.org_id == org_id,
                DataSubjectRequest.id.in_(request_ids),
                DataSubjectRequest.subject_type == "user",
            )
        ).all()
    for user_id, kind, status in rows:
        notify(
            store,
            mailer,
            public_url,
            org_id,
            [user_id],
            "privacy.request_status",
            f"Your {kind} request was {status}",
            f"Your {kind} request about your data was {status}. Its outcome is in the app "
            "(your requests) and in a copy of your data.",
        )
