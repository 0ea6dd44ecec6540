"""Notifications: written in the app for every recipient; e-mailed through a real local SMTP
server (aiosmtpd); non-essential mail carries a one-click unsubscribe that works and is honoured,
essential mail is still sent; customer opt-outs are honoured."""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller

from common.ids import new_id
from sync_server import admin_ops
from sync_server.mail import Mailer
from sync_server.notifications import may_mail_customer, notify
from tests.privacy.conftest import PASSWORD, PrivacyServer


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [message for rcpt, message in self.messages if address in rcpt]


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[str, Inbox]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield f"127.0.0.1:{port}", inbox
    controller.stop()


def _member(server: PrivacyServer) -> tuple[str, str]:
    email = f"n-{uuid.uuid4().hex[:10]}@acme.test"
    user_id = admin_ops.create_user(server.services.store, server.services.passwords, email, "Nora", PASSWORD)
    admin_ops.grant(server.services.store, email, server.a.id, "warehouse")
    return email, user_id


def test_opting_out_stops_non_essential_mail_and_essential_mail_is_still_sent(
    privacy_server: PrivacyServer, smtp: tuple[str, Inbox]
) -> None:
    server, (where, inbox) = privacy_server, smtp
    mailer = Mailer.from_url(f"smtp://{where}?from=ops@acme.test")
    (ann, ann_id), (bob, bob_id) = _member(server), _member(server)
    store, org = server.services.store, server.a.id

    sent = notify(
        store, mailer, server.url, org, [ann_id, bob_id], "stock.low", "Low stock: bolts", "12 left"
    )
    assert sorted(sent.mailed) == sorted([ann_id, bob_id])
    [first] = inbox.to(ann)
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    folded = re.sub(r"\s+", "", str(first["List-Unsubscribe"]))  # a long header is folded
    link = re.fullmatch(r"<(.+)>", folded).group(1)  # type: ignore[union-attr]
    assert link.startswith(server.url)
    # The link's page does not unsubscribe by itself (scanners follow links); the one-click POST does.
    assert requests.get(link, timeout=30).status_code == 200
    assert requests.post(link, timeout=30).json() == {"unsubscribed": True}
    assert requests.post(link.replace(ann_id, bob_id), timeout=30).status_code == 404  # forged
    mangled = link[:-2] + "é"  # not ASCII: a 404 as well, never an error
    assert requests.post(mangled, timeout=30).status_code == 404

    again = notify(store, mailer, server.url, org, [ann_id, bob_id], "stock.low", "Low stock: nuts", "3 left")
    assert (again.mailed, again.skipped) == ([bob_id], [ann_id])
    assert len(inbox.to(ann)) == 1

    essential = notify(
        store,
        mailer,
        server.url,
        org,
        [ann_id],
        "security.password_changed",
        "Your password changed",
        "If not you…",
    )
    assert essential.mailed == [ann_id]
    last = inbox.to(ann)[-1]
    assert last["Subject"] == "Your password changed" and last["List-Unsubscribe"] is None

    # In the app every notification is there, mail or not; only the recipient reads them.
    mine = server.call("GET", ann, f"/orgs/{org}/notifications").json()["notifications"]
    assert [n["title"] for n in mine][:3] == ["Your password changed", "Low stock: nuts", "Low stock: bolts"]
    theirs = server.call("GET", bob, f"/orgs/{org}/notifications").json()["notifications"]
    assert "Your password changed" not in [n["title"] for n in theirs]


def test_customer_opt_outs_are_honoured_by_outbound_customer_mail(privacy_server: PrivacyServer) -> None:
    server = privacy_server
    customer_id = new_id()
    sales = server.a.email("sales")
    server.push(sales, server.a, "sales.create_customer", id=customer_id, name="Cy", currency="EUR")
    assert may_mail_customer(server.services.store, server.a.id, customer_id, "marketing")
    server.push(
        sales,
        server.a,
        "privacy.set_communication_preference",
        subject_type="customer",
        subject_id=customer_id,
        channel="email",
        purpose="marketing",
        opted_out=True,
    )
    assert not may_mail_customer(server.services.store, server.a.id, customer_id, "marketing")
    assert may_mail_customer(server.services.store, server.a.id, customer_id, "surveys")
