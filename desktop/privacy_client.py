"""The desktop's side of the privacy API (no Qt here; every call blocks: run it off the GUI thread).

A person's own data: their requests (``/me/privacy/requests``), a copy of everything held about
them (``/me/data-export``, a ZIP), their e-mail preference and the policy version they
acknowledged. The privacy team's side: a request subject's ZIP. Notifications: marking one's own
read. :func:`summarize_export` reads a ZIP's ``data.json`` into what the "My data" page lists.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from desktop.api_client import ApiClient, ServerError

# What a person may ask, in the words the screens use (the command's RequestKind values).
REQUEST_KINDS: dict[str, str] = {
    "access": "Access: tell me what you hold about me",
    "export": "Copy: send me a copy of my data",
    "correction": "Correction: something about me is wrong",
    "erasure": "Erasure: delete my data",
    "opt_out": "Objection / opt-out: stop using my data for communications",
}
KIND_NAMES: dict[str, str] = {
    "access": "Access",
    "export": "Copy",
    "correction": "Correction",
    "erasure": "Erasure",
    "opt_out": "Opt-out",
}


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class PrivacyRequest:
    """A data subject request as the server reports it."""

    id: str
    org_id: str
    kind: str
    status: str
    subject_type: str
    subject_id: str
    requested_at: datetime | None
    due_at: datetime | None
    completed_at: datetime | None
    overdue: bool
    details: str | None = None
    verification: str | None = None
    outcome: Mapping[str, Any] = field(default_factory=dict)
    # A member subject's name and address (the privacy team's queue only).
    subject_name: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PrivacyRequest:
        try:
            return cls(
                id=str(data["id"]),
                org_id=str(data["org_id"]),
                kind=str(data["kind"]),
                status=str(data["status"]),
                subject_type=str(data["subject_type"]),
                subject_id=str(data["subject_id"]),
                requested_at=_when(data.get("requested_at")),
                due_at=_when(data.get("due_at")),
                completed_at=_when(data.get("completed_at")),
                overdue=bool(data.get("overdue")),
                details=data.get("details"),
                verification=data.get("verification"),
                outcome=dict(data.get("outcome") or {}),
                subject_name=data.get("subject_name"),
            )
        except (KeyError, TypeError) as exc:
            raise ServerError(f"the server's request is missing {exc}", code="bad_response") from None


def outcome_text(status: str, outcome: Mapping[str, Any]) -> str:
    """What was done, in words: the reason of a rejection, what is kept and until when."""
    if status == "rejected":
        return f"Rejected: {outcome.get('reason') or 'no reason given'}"
    if status != "completed":
        return ""
    parts = []
    if outcome.get("note"):
        parts.append(str(outcome["note"]))
    kept = outcome.get("kept") or []
    if isinstance(kept, list) and kept:
        held = "; ".join(
            f"{k.get('data')} ({k.get('reason')}{', until ' + str(k['until']) if k.get('until') else ''})"
            for k in kept
            if isinstance(k, dict)
        )
        parts.append(f"Kept by law: {held}")
    if outcome.get("opted_out") is not None:
        parts.append("Opted out of every channel")
    return ". ".join(parts) or "Done"


def my_requests(api: ApiClient) -> list[PrivacyRequest]:
    data = api.request("GET", "/me/privacy/requests")
    return [PrivacyRequest.from_json(r) for r in (data.get("requests") or [])]


def open_my_request(api: ApiClient, org_id: str, kind: str, details: str | None) -> PrivacyRequest:
    body: dict[str, Any] = {"org_id": org_id, "kind": kind}
    if details:
        body["details"] = details
    return PrivacyRequest.from_json(api.request("POST", "/me/privacy/requests", json=body))


def org_requests(api: ApiClient, org_id: str) -> list[PrivacyRequest]:
    """The privacy team's queue (``privacy.manage``), newest first."""
    data = api.request("GET", f"/orgs/{quote(org_id, safe='')}/privacy/requests")
    return [PrivacyRequest.from_json(r) for r in (data.get("requests") or [])]


def email_opt_out(api: ApiClient) -> bool:
    return bool(api.request("GET", "/me/email-preferences").get("email_opt_out"))


def set_email_opt_out(api: ApiClient, opted_out: bool) -> bool:
    data = api.request("PUT", "/me/email-preferences", json={"email_opt_out": opted_out})
    return bool(data.get("email_opt_out"))


@dataclass(frozen=True)
class PolicyStatus:
    version: int
    effective_date: str
    summary: str
    acknowledged: bool

    @property
    def needs_acknowledgement(self) -> bool:
        # Version 1 is what every account agreed to on joining; a later one is asked once.
        return not self.acknowledged and self.version > 1


def _policy(data: Mapping[str, Any]) -> PolicyStatus:
    return PolicyStatus(
        int(data["version"]), str(data["effective_date"]), str(data["summary"]), bool(data["acknowledged"])
    )


def my_policy(api: ApiClient) -> PolicyStatus:
    return _policy(api.request("GET", "/me/policy"))


def acknowledge_policy(api: ApiClient, version: int) -> PolicyStatus:
    return _policy(api.request("POST", "/me/policy/acknowledgement", json={"version": version}))


def policy_text(api: ApiClient) -> str:
    return str(api.request("GET", "/policy").get("text") or "")


def mark_notifications_read(api: ApiClient, org_id: str, ids: list[str]) -> int:
    data = api.request("POST", f"/orgs/{quote(org_id, safe='')}/notifications/read", json={"ids": ids})
    return int(data.get("marked") or 0)


Progress = Callable[[int, int | None], None]


def download_my_data(
    api: ApiClient,
    target: Path,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """Save the ZIP of the signed-in user's data in every organization to ``target``."""
    return api.download_to("/me/data-export", target, progress=progress, cancelled=cancelled)


def download_request_export(
    api: ApiClient,
    org_id: str,
    request_id: str,
    target: Path,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """Save the ZIP about a request's subject (``privacy.manage``) to ``target``."""
    path = f"/orgs/{quote(org_id, safe='')}/privacy/requests/{quote(request_id, safe='')}/export"
    return api.download_to(path, target, progress=progress, cancelled=cancelled)


@dataclass(frozen=True)
class HeldInOrganization:
    org_name: str
    roles: tuple[str, ...]
    # Entity → how many records about the person.
    records: dict[str, int]
    audit_events: int


@dataclass(frozen=True)
class HeldSummary:
    """What a copy of one's data holds, for the "My data" page."""

    account: dict[str, Any]
    sign_ins: int
    organizations: tuple[HeldInOrganization, ...]
    files: tuple[str, ...]


def summarize_export(payload: bytes) -> HeldSummary:
    """Read an export ZIP's ``data.json``: the account, sign-ins, and per organization how many
    records of each kind and audit events are about the person."""
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            files = tuple(archive.namelist())
            data = json.loads(archive.read("data.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ServerError(f"the copy of your data cannot be read: {exc}", code="bad_response") from None
    organizations = []
    for org in data.get("organizations") or []:
        records = org.get("records") or {}
        organizations.append(
            HeldInOrganization(
                org_name=str(org.get("org_name") or org.get("org_id") or ""),
                roles=tuple(org.get("roles") or ()),
                records={str(k): len(v) for k, v in records.items() if isinstance(v, list) and v},
                audit_events=len(org.get("audit_events") or []),
            )
        )
    return HeldSummary(
        account=dict(data.get("account") or {}),
        sign_ins=len(data.get("sign_in_history") or []),
        organizations=tuple(organizations),
        files=files,
    )
