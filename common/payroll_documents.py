"""Payroll documents: an employee's payslip as a PDF, and a run's net pay as a SEPA credit transfer.

Both read the store through a session and an organization id (every query names it), so the
desktop makes them from its local copy and the server from its own; neither writes anything.

- :func:`payslip_pdf` — one payslip, by the document renderer of :mod:`common.documents`: the
  employee, the period, the paid working days, every line of the payslip (employer
  contributions shown for information after net pay).
- :func:`sepa_credit_transfer` — ISO 20022 ``pain.001.001.03`` (SEPA credit transfer) with one
  transaction per payslip of a posted run, made by ``sepaxml`` (which also reduces names to the
  SEPA character set). Every employee's bank account must be a valid IBAN (ISO 13616, mod 97):
  a bad one is refused naming the employee, and nothing is produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as NumberError

from common.commands.payroll import FINAL_RUN_STATUSES
from common.documents.model import Letterhead
from common.schema import Employee, Organization, PayrollRun, Payslip, PayslipLine
from common.schema.base import table_of


class PayrollDocumentError(ValueError):
    """A document cannot be made: ``field`` names the bad input (an employee's bank account)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class PayslipDocument:
    """Everything a payslip shows."""

    payslip: dict[str, Any]
    run: dict[str, Any]
    employee_name: str
    employee_user_id: str | None
    organization: str
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.run["status"] in FINAL_RUN_STATUSES


def _row(session: Session, model: type[Any], org_id: str, entity_id: str) -> dict[str, Any] | None:
    table = table_of(model)
    stmt = select(*table.columns).where(
        table.c.org_id == org_id, table.c.id == entity_id, table.c.deleted.is_(False)
    )
    found = session.execute(stmt).mappings().first()
    return dict(found) if found is not None else None


def load_payslip(session: Session, org_id: str, payslip_id: str) -> PayslipDocument | None:
    """The payslip ``payslip_id`` of the organization with its lines, or ``None``."""
    payslip = _row(session, Payslip, org_id, payslip_id)
    if payslip is None:
        return None
    run = _row(session, PayrollRun, org_id, payslip["payroll_run_id"])
    employee = _row(session, Employee, org_id, payslip["employee_id"])
    if run is None or employee is None:
        return None
    lines_table = table_of(PayslipLine)
    lines = [
        dict(r)
        for r in session.execute(
            select(*lines_table.columns)
            .where(
                lines_table.c.org_id == org_id,
                lines_table.c.payslip_id == payslip_id,
                lines_table.c.deleted.is_(False),
            )
            .order_by(lines_table.c.line_no)
        ).mappings()
    ]
    org = session.execute(select(Organization.name).where(Organization.id == org_id)).scalar()
    return PayslipDocument(payslip, run, employee["name"], employee["user_id"], org or "", lines)


def payslip_pdf(doc: PayslipDocument, letterhead: Letterhead | None = None) -> bytes:
    """The payslip as a PDF (A4), by the one document renderer (:mod:`common.documents`), under
    the organization's letterhead (its name alone when none is given)."""
    from common.documents.loaders import payslip_business_document
    from common.documents.pdf import document_pdf

    return document_pdf(payslip_business_document(doc, letterhead or Letterhead(doc.organization)))


@dataclass(frozen=True)
class Debtor:
    """The organization's account the net pay leaves from."""

    name: str
    iban: str
    bic: str | None = None


def valid_iban(value: str | None, owner: str) -> str:
    """``value`` as a compact IBAN; refuses naming ``owner`` when it is missing or invalid."""
    if not value:
        raise PayrollDocumentError(f"{owner}: no bank account (IBAN) is recorded", field="bank_account")
    try:
        return str(stdnum_iban.validate(value))
    except NumberError as exc:
        raise PayrollDocumentError(
            f"{owner}: the bank account {value!r} is not a valid IBAN ({exc})", field="bank_account"
        ) from None


def sepa_credit_transfer(
    session: Session, org_id: str, run_id: str, debtor: Debtor, execution_date: date
) -> bytes:
    """The net pay of the posted run ``run_id`` as a ``pain.001.001.03`` document (UTF-8 XML).

    One credit transfer per payslip with net pay, to the employee's IBAN; refused (naming the
    employee) when any bank account is not a valid IBAN, and for a run that is not posted, not
    in euro, or a reversal.
    """
    from sepaxml import SepaTransfer

    run = _row(session, PayrollRun, org_id, run_id)
    if run is None:
        raise PayrollDocumentError(f"no payroll run with id {run_id}", field="payroll_run_id")
    if run["status"] not in ("posted", "paid") or run["reverses_run_id"] is not None:
        raise PayrollDocumentError(
            f"payroll_run_id: the run is {run['status']}; only a posted run's net pay is transferred",
            field="payroll_run_id",
        )
    if run["currency"] != "EUR":
        raise PayrollDocumentError("payroll_run_id: SEPA credit transfers are in EUR", field="payroll_run_id")
    debtor_iban = valid_iban(debtor.iban, "the organization's account")
    if debtor.bic is not None:
        try:
            stdnum_bic.validate(debtor.bic)
        except NumberError as exc:
            raise PayrollDocumentError(
                f"debtor: the BIC {debtor.bic!r} is not valid ({exc})", field="bic"
            ) from None
    slips, employees = table_of(Payslip), table_of(Employee)
    rows = session.execute(
        select(slips.c.id, slips.c.net, employees.c.name, employees.c.bank_account)
        .join(employees, (employees.c.org_id == slips.c.org_id) & (employees.c.id == slips.c.employee_id))
        .where(slips.c.org_id == org_id, slips.c.payroll_run_id == run_id, slips.c.deleted.is_(False))
        .order_by(employees.c.name, slips.c.id)
    ).all()
    # Every account is checked before anything is made: one bad IBAN, no file.
    payments = [
        (slip_id, int(net), name, valid_iban(account, name))
        for slip_id, net, name, account in rows
        if net > 0
    ]
    if not payments:
        raise PayrollDocumentError(
            "payroll_run_id: the run has no net pay to transfer", field="payroll_run_id"
        )
    config: dict[str, Any] = {
        "name": debtor.name,
        "IBAN": debtor_iban,
        "batch": True,
        "currency": "EUR",
    }
    if debtor.bic:
        config["BIC"] = debtor.bic
    transfer = SepaTransfer(config, schema="pain.001.001.03")
    label = f"Salary {run['period_start'].isoformat()} to {run['period_end'].isoformat()}"
    for slip_id, net, name, account in payments:
        transfer.add_payment(
            {
                "name": name,
                "IBAN": account,
                "amount": net,
                "execution_date": execution_date,
                "description": label,
                # The payslip id without dashes: at most 35 characters, as the scheme allows.
                "endtoend_id": slip_id.replace("-", "")[:35],
            }
        )
    result: bytes = transfer.export(validate=True)
    return result
