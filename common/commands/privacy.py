"""Privacy commands: communication opt-outs and data subject requests.

The policy promises that people may opt out of communications and ask for access, correction,
export or erasure of their data. Opt-outs are recorded per subject, channel and purpose, and
:func:`may_contact` is the one question every sender asks. A data subject request is opened,
then completed or rejected (open → completed | rejected). Completing an erasure of a customer or
supplier blanks the columns the schema classifies as personal or sensitive (nothing else decides
what is personal) and keeps the row, so legally retained invoices, orders and payments stay intact.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.classification import personal_columns
from common.commands.fields import Args, Id, OptText2000
from common.commands.framework import CommandContext, CommandError, command, invalid
from common.commands.rules import Transitions, require_transition
from common.schema import CommunicationPreference, Customer, DataSubjectRequest, Employee, Supplier
from common.schema.base import SyncedEntity, table_of

SubjectType = Literal["customer", "employee", "supplier"]
Channel = Literal["email", "phone", "sms", "post"]
Purpose = Literal["marketing", "newsletter", "surveys"]
RequestKind = Literal["access", "export", "correction", "erasure", "opt_out"]
CHANNELS: tuple[str, ...] = get_args(Channel)
PURPOSES: tuple[str, ...] = get_args(Purpose)
SUBJECTS: dict[str, type[SyncedEntity]] = {"customer": Customer, "employee": Employee, "supplier": Supplier}
# Subjects whose personal data an erasure request blanks automatically; employee records are kept
# for as long as employment and payroll law require and are handled by HR. Whatever writes an
# employee row (HR anonymising a leaver, or an erasure here one day), their employee directory
# row follows it in the same command (``common.commands.hr.keep_directory_in_step``).
ERASABLE = frozenset({"customer", "supplier"})
ERASED_TEXT = "[erased]"

DATA_SUBJECT_REQUEST_TRANSITIONS: Transitions = {
    "open": frozenset({"completed", "rejected"}),
    "completed": frozenset(),
    "rejected": frozenset(),
}


def may_contact(
    session: Session, org_id: str, subject_type: str, subject_id: str, channel: str, purpose: str
) -> bool:
    """Whether the subject may be contacted on ``channel`` for ``purpose``.

    No if they opted out of it, or if the subject was erased; yes otherwise (including when
    they opted back in).
    """
    opted_out = session.execute(
        select(CommunicationPreference.opted_out).where(
            CommunicationPreference.org_id == org_id,
            CommunicationPreference.deleted.is_(False),
            CommunicationPreference.subject_type == subject_type,
            CommunicationPreference.subject_id == subject_id,
            CommunicationPreference.channel == channel,
            CommunicationPreference.purpose == purpose,
        )
    ).scalar()
    if opted_out:
        return False
    if subject_type == "customer":
        erased = session.execute(
            select(Customer.erased).where(Customer.org_id == org_id, Customer.id == subject_id)
        ).scalar()
        return not erased
    return True


class SetCommunicationPreferenceArgs(Args):
    subject_type: SubjectType
    subject_id: Id
    channel: Channel
    purpose: Purpose
    opted_out: bool


class OpenDataSubjectRequestArgs(Args):
    id: Id
    subject_type: SubjectType
    subject_id: Id
    kind: RequestKind
    details: OptText2000 | None = None


class CompleteDataSubjectRequestArgs(Args):
    id: Id
    # What was done, for the record (kept in the request's outcome).
    note: OptText2000 | None = None


class RejectDataSubjectRequestArgs(Args):
    id: Id
    reason: OptText2000


def _subject(ctx: CommandContext, subject_type: str, subject_id: str) -> dict[str, Any]:
    return ctx.require(SUBJECTS[subject_type], subject_id, "subject_id")


@command(
    "privacy.set_communication_preference",
    args=SetCommunicationPreferenceArgs,
    permission="privacy.manage",
    alternatives=("sales.write",),
)
def set_communication_preference(ctx: CommandContext, args: SetCommunicationPreferenceArgs) -> None:
    """Record that a person opts out of (or back into) a channel for a purpose.

    Sales staff may record a customer's opt-out when they hear it (never an opt-in: only the
    privacy team re-subscribes someone).
    """
    if "privacy.manage" not in ctx.permissions and (args.subject_type != "customer" or not args.opted_out):
        raise CommandError(
            "forbidden",
            "opted_out: with sales.write only a customer's opt-out can be recorded; "
            "anything else needs the permission privacy.manage",
            field="opted_out",
            details={"permission": "privacy.manage"},
        )
    _subject(ctx, args.subject_type, args.subject_id)
    existing = (
        ctx.session.execute(
            ctx.select(
                CommunicationPreference,
                CommunicationPreference.subject_type == args.subject_type,
                CommunicationPreference.subject_id == args.subject_id,
                CommunicationPreference.channel == args.channel,
                CommunicationPreference.purpose == args.purpose,
            )
        )
        .mappings()
        .first()
    )
    if existing is None:
        ctx.insert(
            CommunicationPreference,
            {"id": ctx.derived_id("communication_preference"), **args.model_dump(), "changed_at": ctx.now},
        )
    elif existing["opted_out"] != args.opted_out:
        ctx.update(
            CommunicationPreference, existing["id"], {"opted_out": args.opted_out, "changed_at": ctx.now}
        )


@command("privacy.open_data_subject_request", args=OpenDataSubjectRequestArgs, permission="privacy.manage")
def open_data_subject_request(ctx: CommandContext, args: OpenDataSubjectRequestArgs) -> None:
    """Record a person's request (access, export, correction, erasure, opt-out) as open."""
    _subject(ctx, args.subject_type, args.subject_id)
    ctx.insert(DataSubjectRequest, {**args.model_dump(), "status": "open", "requested_at": ctx.now})


def _opt_out_of_everything(ctx: CommandContext, subject_type: str, subject_id: str) -> int:
    """Record an opt-out of every channel and purpose; returns how many preferences changed."""
    existing = {
        (row["channel"], row["purpose"]): row
        for row in ctx.session.execute(
            ctx.select(
                CommunicationPreference,
                CommunicationPreference.subject_type == subject_type,
                CommunicationPreference.subject_id == subject_id,
            )
        ).mappings()
    }
    changed = 0
    for channel in CHANNELS:
        for purpose in PURPOSES:
            row = existing.get((channel, purpose))
            if row is None:
                ctx.insert(
                    CommunicationPreference,
                    {
                        "id": ctx.derived_id("communication_preference", channel, purpose),
                        "subject_type": subject_type,
                        "subject_id": subject_id,
                        "channel": channel,
                        "purpose": purpose,
                        "opted_out": True,
                        "changed_at": ctx.now,
                    },
                )
            elif not row["opted_out"]:
                ctx.update(CommunicationPreference, row["id"], {"opted_out": True, "changed_at": ctx.now})
            else:
                continue
            changed += 1
    return changed


def _erase(ctx: CommandContext, subject_type: str, subject_id: str) -> list[str]:
    """Blank the subject's personal and sensitive columns; returns their names."""
    model = SUBJECTS[subject_type]
    table = table_of(model)
    row = _subject(ctx, subject_type, subject_id)
    changes: dict[str, Any] = {}
    for name in personal_columns(table):
        if row[name] is None:
            continue
        # A required column keeps a placeholder; every other one is emptied.
        changes[name] = None if table.c[name].nullable else ERASED_TEXT
    for flag in ("erased", "archived"):
        if flag in table.c:
            changes[flag] = True
    if changes:
        ctx.update(model, subject_id, changes)
    return sorted(name for name in changes if name not in ("erased", "archived"))


@command(
    "privacy.complete_data_subject_request", args=CompleteDataSubjectRequestArgs, permission="privacy.manage"
)
def complete_data_subject_request(ctx: CommandContext, args: CompleteDataSubjectRequestArgs) -> None:
    """Complete an open request. An opt-out request opts the person out of every channel and
    purpose; an erasure of a customer or supplier erases their personal data."""
    request = ctx.require(DataSubjectRequest, args.id, "id")
    require_transition(DATA_SUBJECT_REQUEST_TRANSITIONS, request, "completed", f"{request['kind']} request")
    outcome: dict[str, Any] = {"note": args.note} if args.note else {}
    if request["kind"] == "opt_out":
        outcome["opted_out"] = _opt_out_of_everything(ctx, request["subject_type"], request["subject_id"])
    elif request["kind"] == "erasure":
        if request["subject_type"] not in ERASABLE:
            raise invalid(
                "id",
                f"an erasure of {request['subject_type']} data is done by HR once the legal retention "
                "period ends; reject the request with the reason instead",
            )
        outcome["erased_columns"] = _erase(ctx, request["subject_type"], request["subject_id"])
    ctx.update(
        DataSubjectRequest, args.id, {"status": "completed", "completed_at": ctx.now, "outcome": outcome}
    )


@command(
    "privacy.reject_data_subject_request", args=RejectDataSubjectRequestArgs, permission="privacy.manage"
)
def reject_data_subject_request(ctx: CommandContext, args: RejectDataSubjectRequestArgs) -> None:
    """Reject an open request, giving the reason (e.g. a legal obligation to keep the data)."""
    request = ctx.require(DataSubjectRequest, args.id, "id")
    require_transition(DATA_SUBJECT_REQUEST_TRANSITIONS, request, "rejected", f"{request['kind']} request")
    if not args.reason:
        raise invalid("reason", "is required to reject a request")
    outcome = {"reason": args.reason}
    ctx.update(
        DataSubjectRequest, args.id, {"status": "rejected", "completed_at": ctx.now, "outcome": outcome}
    )
