"""Self-service: an employee corrects their own contact details (``hr.self_service``).

HR changes any employee field with ``hr.update_employee``; this command changes only the
contact details a person knows best about themselves, for their own record (the link from
their user to the record is checked as for leave, :func:`common.commands.hr.require_own_employee`).
The work phone is public, so the employee directory follows (same command).
"""

from __future__ import annotations

from common.commands.fields import Changes, Email, OptText500, Phone, UpdateArgs
from common.commands.framework import CommandContext, apply_field_changes, command, invalid
from common.commands.hr import require_own_employee
from common.commands.rules import SELF_SERVICE
from common.schema import Employee

# What an employee may correct on their own record (HR changes the rest).
CONTACT_FIELDS: tuple[str, ...] = ("work_phone", "personal_email", "personal_phone", "home_address")


class ContactChanges(Changes):
    work_phone: Phone | None = None
    personal_email: Email | None = None
    personal_phone: Phone | None = None
    home_address: OptText500 | None = None


@command("hr.update_own_contact_details", args=UpdateArgs, permission="hr.write", alternatives=SELF_SERVICE)
def update_own_contact_details(ctx: CommandContext, args: UpdateArgs) -> None:
    """Correct one's own phone numbers, personal e-mail and home address (compare-and-set);
    with ``hr.write``, anyone's."""
    others = sorted(set(args.changes) - set(CONTACT_FIELDS))
    if others:
        raise invalid(f"changes.{others[0]}", "is not a contact detail: HR changes it")
    employee = require_own_employee(ctx, args.id, "id", "hr.write")
    if employee["status"] == "terminated":
        raise invalid("id", f"{employee['name']} has left the organization")
    apply_field_changes(
        ctx,
        Employee,
        args.id,
        ContactChanges,
        args.changes,
        args.base,
        current=employee,
        # The owner reads these (public and personal columns of their own record).
        readable=frozenset(CONTACT_FIELDS),
    )
