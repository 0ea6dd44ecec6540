"""Privacy commands: communication opt-outs and data subject requests.

The policy promises that people may opt out of communications and ask for access, correction,
export or erasure of their data. Opt-outs are recorded per subject, channel and purpose, and
:func:`may_contact` is the one question every sender asks. A data subject request is opened,
then completed or rejected (open → completed | rejected). Completing an erasure of a customer or
supplier blanks the columns the schema classifies as personal or sensitive (nothing else decides
what is personal) and keeps the row, so legally retained invoices, orders and payments stay intact.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy import String, Table, select
from sqlalchemy.orm import Session

from common.classification import personal_columns_of_row
from common.commands.fields import Args, Id, OptText500, OptText2000, Text500
from common.commands.framework import CommandContext, CommandError, command, invalid
from common.commands.rules import Transitions, require_transition
from common.retention import schedule_of
from common.schema import (
    ENTITIES,
    CommunicationPreference,
    Customer,
    DataSubjectRequest,
    Employee,
    Supplier,
    entity_info,
)
from common.schema.base import SyncedEntity, table_of
from common.subjects import SUBJECT_ENTITIES, SUBJECT_LINKS

SubjectType = Literal["customer", "employee", "supplier", "user"]
Channel = Literal["email", "phone", "sms", "post"]
Purpose = Literal["marketing", "newsletter", "surveys"]
RequestKind = Literal["access", "export", "correction", "erasure", "opt_out"]
CHANNELS: tuple[str, ...] = get_args(Channel)
PURPOSES: tuple[str, ...] = get_args(Purpose)
SUBJECTS: dict[str, type[SyncedEntity]] = {"customer": Customer, "employee": Employee, "supplier": Supplier}
# Whatever writes an employee row (an erasure here), their employee directory row follows it in
# the same command (``common.commands.hr.keep_directory_in_step``).
ERASED_TEXT = "[erased]"
# The law's time to answer a data subject request.
ANSWER_DAYS = 30

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
    # How the requester's identity was checked (recorded with the request).
    verification: OptText500 | None = None


class CompleteDataSubjectRequestArgs(Args):
    id: Id
    # What was done, for the record (kept in the request's outcome).
    note: OptText2000 | None = None


class RejectDataSubjectRequestArgs(Args):
    id: Id
    reason: OptText2000


def _subject(ctx: CommandContext, subject_type: str, subject_id: str) -> dict[str, Any]:
    if subject_type == "user":
        # A user account is global: the server checks it is a member here (a workstation cannot).
        if ctx.members is not None and not ctx.members.is_member(subject_id):
            raise invalid("subject_id", f"no member with id {subject_id}")
        return {"id": subject_id}
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
    """Record a person's request (access, export, correction, erasure, opt-out) as open, due
    :data:`ANSWER_DAYS` days later, with who opened it and how the identity was verified."""
    _subject(ctx, args.subject_type, args.subject_id)
    ctx.insert(
        DataSubjectRequest,
        {
            **args.model_dump(),
            "status": "open",
            "requested_at": ctx.now,
            "due_at": ctx.now + timedelta(days=ANSWER_DAYS),
            "opened_by": ctx.actor_id,
        },
    )


class RecordVerificationArgs(Args):
    id: Id
    verification: Text500


@command("privacy.record_request_verification", args=RecordVerificationArgs, permission="privacy.manage")
def record_request_verification(ctx: CommandContext, args: RecordVerificationArgs) -> None:
    """Record how the requester's identity was checked (ID seen at the desk, a call back to the
    number on file…) on an open request, before it is answered."""
    request = ctx.require(DataSubjectRequest, args.id, "id")
    if request["status"] != "open":
        raise CommandError(
            "invalid_state", f"this {request['kind']} request is {request['status']} already", field="id"
        )
    ctx.update(DataSubjectRequest, args.id, {"verification": args.verification})


def is_overdue(request: dict[str, Any], now: datetime) -> bool:
    """An open request past its due date."""
    due = request.get("due_at")
    return request.get("status") == "open" and due is not None and due < now


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


def _erasure_targets(subject_type: str) -> list[tuple[type[SyncedEntity], list[str]]]:
    """Each entity that may hold the subject's personal data, and the columns that link it."""
    targets: list[tuple[type[SyncedEntity], list[str]]] = []
    for name, model in ENTITIES.items():
        table = table_of(model)
        if entity_info(name).append_only or name == "communication_preference":
            continue  # legal records (amounts kept); an opt-out is kept so it stays honoured
        if name in SUBJECT_ENTITIES:
            if SUBJECT_ENTITIES[name] == subject_type:
                targets.append((model, ["id"]))
            continue
        if "subject_type" in table.c and "subject_id" in table.c:
            targets.append((model, ["subject_type", "subject_id"]))
            continue
        for column, linked_type in SUBJECT_LINKS:
            if linked_type == subject_type and column in table.c:
                targets.append((model, [column]))
                break
    return targets


def _anonymized(table: Table, column: str) -> Any:
    """What an erased column holds: empty, or a placeholder where a value is required."""
    col = table.c[column]
    if col.nullable:
        return None
    if isinstance(col.type, String):
        return ERASED_TEXT
    return KEEP


KEEP = object()


def employee_hold(ctx: CommandContext, employee: dict[str, Any]) -> dict[str, Any] | None:
    """Why, and until when, an employee's record must still be kept (``None``: it is free)."""
    period = schedule_of(ctx.session, ctx.org_id)["employee_records"]
    ended = employee.get("termination_date")
    if ended is None:
        return {
            "data": "employee record",
            "reason": "employment has not ended; " + period.legal_basis,
            "until": None,
        }
    until = period.until(ended)
    if until > ctx.now.date():
        return {"data": "employee record", "reason": period.legal_basis, "until": until.isoformat()}
    return None


def _retained_documents(ctx: CommandContext, subject_type: str) -> list[dict[str, Any]]:
    """The legal records about the subject that are kept (with their amounts), and why."""
    schedule = schedule_of(ctx.session, ctx.org_id)
    if subject_type == "employee":
        period = schedule["payroll"]
        return [
            {
                "data": "payslips (amounts)",
                "reason": period.legal_basis,
                "until": "10 years after each period",
            }
        ]
    if subject_type in ("customer", "supplier"):
        period = schedule["invoices"]
        return [
            {
                "data": "invoices, bills and payments (numbers, dates, amounts; the name shows [erased])",
                "reason": period.legal_basis,
                "until": "10 years after each document's date",
            }
        ]
    return []


def erase_subject(ctx: CommandContext, subject_type: str, subject_id: str) -> dict[str, Any]:
    """Remove the subject's personal data from every row about them, in every module.

    Rows stay (legally retained invoices, orders and payslips keep pointing at them); their
    personal, sensitive and identifying columns are emptied. Data under a legal hold (an
    employee's record until the end of its retention) is kept and reported: what, why and until
    when. When nothing is held, the subject's audit key is destroyed once the command's audit
    events are written (crypto-shredding: the audit trail shows ``[erased]``).
    """
    subject = _subject(ctx, subject_type, subject_id)
    kept: list[dict[str, Any]] = []
    if subject_type == "employee":
        hold = employee_hold(ctx, subject)
        if hold is not None:
            return {"erased": {}, "kept": [hold, *_retained_documents(ctx, subject_type)], "complete": False}
    erased: dict[str, list[str]] = {}
    for model, link in _erasure_targets(subject_type):
        table = table_of(model)
        values = [subject_type, subject_id] if link == ["subject_type", "subject_id"] else [subject_id]
        where = [table.c[column] == value for column, value in zip(link, values, strict=True)]
        # Tombstones too: a removed row still holds what it held.
        columns = [getattr(model, column.key) for column in table.columns]
        rows = (
            ctx.session.execute(select(*columns).where(model.org_id == ctx.org_id, *where)).mappings().all()
        )
        for row in rows:
            changes: dict[str, Any] = {}
            for name in personal_columns_of_row(table, dict(row)):
                if row[name] is None or row[name] == ERASED_TEXT:
                    continue
                value = _anonymized(table, name)
                if value is not KEEP:
                    changes[name] = value
            for flag in ("erased", "archived"):
                if flag in table.c and not row[flag] and model in SUBJECTS.values():
                    changes[flag] = True
            if changes:
                ctx.update(model, row["id"], changes)
                columns = erased.setdefault(table.name, [])
                columns.extend(c for c in changes if c not in ("erased", "archived") and c not in columns)
    forget = getattr(ctx.recorder, "forget_subject", None)
    if forget is not None:
        forget(subject_type, subject_id)
    kept.extend(_retained_documents(ctx, subject_type))
    return {"erased": {k: sorted(v) for k, v in erased.items()}, "kept": kept, "complete": True}


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
        result = erase_subject(ctx, request["subject_type"], request["subject_id"])
        outcome["erased_columns"] = sorted({c for cols in result["erased"].values() for c in cols})
        outcome.update(result)
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


class ApplyRetentionArgs(Args):
    subject_type: SubjectType
    subject_id: Id


@command("privacy.apply_retention", args=ApplyRetentionArgs, permission="privacy.manage")
def apply_retention(ctx: CommandContext, args: ApplyRetentionArgs) -> None:
    """Anonymize a subject whose retention period has ended (run by the server's retention run).

    Refused while the subject is still under a legal hold, so a retention run can never erase
    an employee's record early.
    """
    if args.subject_type == "employee":
        hold = employee_hold(ctx, _subject(ctx, "employee", args.subject_id))
        if hold is not None:
            raise invalid("subject_id", f"still held: {hold['reason']} (until {hold['until']})")
    ctx.outcome.data["retention"] = erase_subject(ctx, args.subject_type, args.subject_id)
