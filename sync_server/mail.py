"""Sending e-mail through an SMTP server named by a URL (``OPS_SMTP_URL``), with the stdlib.

    smtp://[user:password@]host[:587][?from=ops@example.com&starttls=required&cafile=/path/ca.pem]
    smtps://[user:password@]host[:465][?from=...&cafile=...]

``smtp://`` upgrades the connection with STARTTLS whenever the server offers it; with
``starttls=required`` it refuses to send in clear. ``smtps://`` speaks TLS from the first byte.
Certificates are verified (the system's CAs, or ``cafile``). A user name and password are only
ever sent over TLS: without it the mailer refuses to log in rather than send them in clear.
``from`` is the sender address (default ``ops-server@<host>``). User names and passwords are
percent-decoded.

A :class:`Mailer` is general: one message to one address with a subject, a plain-text body and
extra headers (invitations now; notifications later build on it). The password never appears in
logs, errors or the ``repr``; failures raise :class:`MailError` with a message safe to show.
"""

from __future__ import annotations

import email.policy
import logging
import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 15.0
_PORTS = {"smtp": 587, "smtps": 465}
# Headers a caller may not set: they are the mailer's (or would let a value inject recipients).
_RESERVED = frozenset({"from", "to", "cc", "bcc", "subject", "date", "message-id"})


# Header lines up to SMTP's limit: a long link (List-Unsubscribe) stays one readable URL instead
# of being RFC 2047-encoded, which mail clients would not recognise as a link.
_POLICY = email.policy.default.clone(max_line_length=998)


class MailError(Exception):
    """The message could not be sent; the message says why (never with a password)."""


@dataclass(frozen=True)
class SmtpSettings:
    scheme: str
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls_required: bool = False
    cafile: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Settings from an ``smtp://`` or ``smtps://`` URL; :class:`MailError` names what is wrong."""
        parts = urlsplit(url)
        if parts.scheme not in _PORTS:
            raise MailError("OPS_SMTP_URL must start with smtp:// or smtps://")
        try:
            port = parts.port or _PORTS[parts.scheme]
        except ValueError:
            raise MailError("OPS_SMTP_URL has a port that is not a number") from None
        if not parts.hostname:
            raise MailError("OPS_SMTP_URL names no host")
        query = parse_qs(parts.query)
        unknown = set(query) - {"from", "starttls", "cafile"}
        if unknown:
            raise MailError(f"OPS_SMTP_URL: unknown option {sorted(unknown)[0]!r} (from, starttls, cafile)")
        starttls = query.get("starttls", ["auto"])[0]
        if starttls not in ("auto", "required"):
            raise MailError("OPS_SMTP_URL: starttls is 'auto' or 'required'")
        sender = query.get("from", [f"ops-server@{parts.hostname}"])[0]
        if "@" not in sender or any(c in sender for c in "\r\n"):
            raise MailError("OPS_SMTP_URL: from must be an e-mail address")
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=port,
            sender=sender,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            starttls_required=starttls == "required",
            cafile=query.get("cafile", [None])[0],
        )

    def describe(self) -> str:
        """Where mail goes, for logs: never the password."""
        who = f"{self.username}@" if self.username else ""
        return f"{self.scheme}://{who}{self.host}:{self.port}"


class Mailer:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    @classmethod
    def from_url(cls, url: str) -> Mailer:
        return cls(SmtpSettings.from_url(url))

    def __repr__(self) -> str:
        return f"Mailer({self.settings.describe()!r})"

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.cafile)

    def compose(
        self, to: str, subject: str, text: str, headers: Mapping[str, str] | None = None
    ) -> EmailMessage:
        for value in (to, subject):
            if "\r" in value or "\n" in value:
                raise MailError("a recipient or subject must be one line")
        message = EmailMessage(policy=_POLICY)
        message["From"] = self.settings.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.settings.sender.rsplit("@", 1)[-1])
        for name, value in (headers or {}).items():
            if name.lower() in _RESERVED or "\r" in value or "\n" in value:
                raise MailError(f"the header {name!r} cannot be set this way")
            message[name] = value
        message.set_content(text)
        return message

    def send(self, to: str, subject: str, text: str, headers: Mapping[str, str] | None = None) -> None:
        """Send one plain-text message to ``to``; raises :class:`MailError` on any failure."""
        message = self.compose(to, subject, text, headers)
        settings = self.settings
        try:
            with self._connect() as smtp:
                if settings.username is not None:
                    smtp.login(settings.username, settings.password or "")
                smtp.send_message(message)
        except MailError:
            raise
        except smtplib.SMTPAuthenticationError:
            raise MailError(f"{settings.describe()} refused the user name or password") from None
        except smtplib.SMTPRecipientsRefused:
            raise MailError(f"{settings.describe()} refused the recipient") from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            # The exception's text may quote the server; it never holds our password.
            raise MailError(f"sending through {settings.describe()} failed: {type(exc).__name__}") from None
        log.info("mail sent through %s", settings.describe())

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        if settings.scheme == "smtps":
            return smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=self._tls()
            )
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout, local_hostname=_me())
        try:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=self._tls())
                smtp.ehlo()
            elif settings.starttls_required:
                raise MailError(f"{settings.describe()} does not offer STARTTLS (starttls=required)")
            elif settings.username is not None:
                raise MailError(
                    f"{settings.describe()} does not offer STARTTLS: the password is not sent in clear"
                )
        except BaseException:
            smtp.close()
            raise
        return smtp


def _me() -> str:
    try:
        return socket.getfqdn() or "localhost"
    except OSError:
        return "localhost"
