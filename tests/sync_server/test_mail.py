"""The mailer against a real local SMTP server (aiosmtpd): plain, STARTTLS, implicit TLS, login
only over TLS, certificates verified, the password never shown; invitations mailed with it."""

from __future__ import annotations

import logging
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import replace
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from sync_server.app import create_app
from sync_server.config import ConfigError, ServerConfig
from sync_server.mail import Mailer, MailError
from sync_server.services import Services
from tests.sync_server.conftest import PASSWORD, World

SECRET = "s3cret-smtp-pw"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword) and data.login == b"ops" and data.password == SECRET.encode():
            self.logins.append(data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tls(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


SmtpServer = Callable[..., tuple[str, Inbox]]


@pytest.fixture
def smtp_server(tls_files: tuple[Path, Path]) -> Iterator[SmtpServer]:
    """``start(kind)`` runs a local SMTP server: ``plain``, ``starttls`` (offered, with login) or
    ``smtps`` (TLS from the first byte); returns its ``host:port`` and its inbox."""
    running: list[Controller] = []

    def start(kind: str) -> tuple[str, Inbox]:
        inbox = Inbox()
        port = _free_port()
        options: dict[str, Any] = {}
        if kind == "starttls":
            options = {
                "tls_context": _tls(*tls_files),
                "authenticator": inbox.authenticate,
                "auth_require_tls": True,
            }
        elif kind == "smtps":
            # TLS from the first byte, which aiosmtpd's AUTH check does not see as TLS.
            options = {
                "ssl_context": _tls(*tls_files),
                "authenticator": inbox.authenticate,
                "auth_require_tls": False,
            }
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
        if kind == "smtps":
            # The readiness probe of aiosmtpd speaks plain SMTP: trust our own certificate for it.
            controller._trigger_server = lambda: _probe_tls(port, tls_files[0])  # type: ignore[method-assign]
        controller.start()
        running.append(controller)
        return f"127.0.0.1:{port}", inbox

    yield start
    for controller in running:
        controller.stop()


def _probe_tls(port: int, cafile: Path) -> None:
    context = ssl.create_default_context(cafile=str(cafile))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.recv(1024)


def test_plain_smtp_delivers_one_message_with_its_headers(smtp_server: SmtpServer) -> None:
    where, inbox = smtp_server("plain")
    mailer = Mailer.from_url(f"smtp://{where}?from=ops@acme.test")
    mailer.send("ann@acme.test", "Hello Ann", "Line one\nLine two\n", {"X-Ops-Kind": "notification"})
    [(rcpt, message)] = inbox.messages
    assert rcpt == ["ann@acme.test"]
    assert (message["From"], message["To"], message["Subject"]) == (
        "ops@acme.test",
        "ann@acme.test",
        "Hello Ann",
    )
    assert message["X-Ops-Kind"] == "notification" and message["Message-ID"] and message["Date"]
    assert message.get_payload(decode=True).decode().splitlines() == ["Line one", "Line two"]
    for bad in ({"Bcc": "eve@x.test"}, {"X-Evil": "a\r\nBcc: eve@x.test"}):
        with pytest.raises(MailError, match="cannot be set"):
            mailer.send("ann@acme.test", "Hi", "x", bad)
    with pytest.raises(MailError, match="one line"):
        mailer.send("ann@acme.test\r\nBcc: eve@x.test", "Hi", "x")
    assert len(inbox.messages) == 1


def test_starttls_with_login_and_implicit_tls(
    smtp_server: SmtpServer, tls_files: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ca = tls_files[0]
    where, inbox = smtp_server("starttls")
    mailer = Mailer.from_url(f"smtp://ops:{SECRET}@{where}?cafile={ca}&starttls=required")
    mailer.send("bob@acme.test", "Over STARTTLS", "body")
    assert inbox.logins == ["ops"] and len(inbox.messages) == 1
    where, inbox = smtp_server("smtps")
    Mailer.from_url(f"smtps://ops:{SECRET}@{where}?cafile={ca}").send("bob@acme.test", "Over TLS", "body")
    assert inbox.logins == ["ops"] and inbox.messages[0][1]["Subject"] == "Over TLS"
    wrong = Mailer.from_url(f"smtps://ops:not-it@{where}?cafile={ca}")
    with pytest.raises(MailError, match="refused the user name or password") as refused:
        wrong.send("bob@acme.test", "x", "x")
    assert "not-it" not in str(refused.value)
    assert SECRET not in caplog.text and SECRET not in repr(mailer) and SECRET not in repr(mailer.settings)


def test_no_password_and_no_mail_in_clear_unless_allowed(
    smtp_server: SmtpServer, tls_files: tuple[Path, Path]
) -> None:
    where, inbox = smtp_server("plain")
    with pytest.raises(MailError, match="password is not sent in clear"):
        Mailer.from_url(f"smtp://ops:{SECRET}@{where}").send("a@acme.test", "x", "x")
    with pytest.raises(MailError, match="does not offer STARTTLS"):
        Mailer.from_url(f"smtp://{where}?starttls=required").send("a@acme.test", "x", "x")
    assert inbox.messages == []
    tls_where, tls_inbox = smtp_server("starttls")  # a certificate the system does not trust
    with pytest.raises(MailError, match="failed: SSLCertVerificationError"):
        Mailer.from_url(f"smtp://{tls_where}").send("a@acme.test", "x", "x")
    assert tls_inbox.messages == []
    with pytest.raises(MailError, match="failed"):
        Mailer.from_url(f"smtp://127.0.0.1:{_free_port()}").send("a@acme.test", "x", "x")


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example",
        "smtp://",
        "smtp://h:notaport",
        "smtp://h?from=nobody",
        "smtp://h?tls=yes",
        "smtp://h?starttls=maybe",
    ],
)
def test_bad_smtp_urls_are_refused_at_start(url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        ServerConfig.from_env(
            {"OPS_DATA_DIR": str(tmp_path), "OPS_SMTP_URL": url, "OPS_PUBLIC_URL": "https://ops.example"}
        )
    with pytest.raises(ConfigError, match="OPS_PUBLIC_URL"):
        ServerConfig.from_env({"OPS_DATA_DIR": str(tmp_path), "OPS_SMTP_URL": "smtp://127.0.0.1:25"})


def test_invitations_are_mailed_and_never_shown_to_the_administrator(
    world: World, services: Services, smtp_server: SmtpServer
) -> None:
    where, inbox = smtp_server("plain")
    config = replace(
        services.config, smtp_url=f"smtp://{where}?from=ops@acme.test", public_url="https://ops.example.com"
    )
    client = create_app(config, Services.build(config, services.store)).test_client()
    answer = client.post(
        f"/api/v1/orgs/{world.a.id}/members",
        json={"email": "sales@globex.test", "roles": ["auditor"]},
        headers=world.headers("admin@acme.test"),
    )
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["delivery"] == "mailed" and "token" not in answer.get_json()
    [(rcpt, message)] = inbox.messages
    assert rcpt == ["sales@globex.test"] and message["Subject"] == "Invitation to join Acme"
    text = message.get_payload(decode=True).decode()
    link = re.search(r"https://ops\.example\.com/console/#invitation=(\S+)", text)
    assert link is not None, text
    accepted = client.post("/api/v1/invitations/accept", json={"token": link.group(1), "password": PASSWORD})
    assert accepted.status_code == 200 and accepted.get_json()["org_name"] == "Acme"
    down = replace(config, smtp_url=f"smtp://127.0.0.1:{_free_port()}")
    failed = (
        create_app(down, Services.build(down, services.store))
        .test_client()
        .post(
            f"/api/v1/orgs/{world.a.id}/members",
            json={"email": "hr@globex.test", "roles": []},
            headers=world.headers("admin@acme.test"),
        )
    )
    assert failed.status_code == 201 and failed.get_json()["delivery"] == "mail_failed"
    assert "token" not in failed.get_json()
