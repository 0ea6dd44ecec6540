"""An HR month (April 2027) through a real encrypted store, figures worked out by hand.

April 2027 has 22 working days (Monday to Friday): 1-2, 5-9, 12-16, 19-23, 26-30.

Pay components: MEAL, a fixed earning of 110.00 a full month (prorated like the salary);
PENSION, a 7.15 % deduction; UNION, a fixed 15.00 deduction; SOCSEC, a 20 % employer
contribution capped at 850.00; HEALTH, a fixed 30.00 employer contribution. The run adds a flat
20 % withholding tax.

- Alice, 4,000.00, paid annual leave 12-16 April (no effect): 22 of 22 days.
  Gross 4,000.00 + 110.00 = 4,110.00. Pension 7.15 % = 293.865 → 293.87; union 15.00;
  tax 20 % = 822.00. Deductions 1,130.87, net 2,979.13. Employer 822.00 + 30.00 = 852.00.
- Ben, 3,300.00, hired Thursday 15 April: 15-16, 19-23, 26-30 = 12 of 22 days.
  Salary 3,300.00 × 12 / 22 = 1,800.00; meal 110.00 × 12 / 22 = 60.00; gross 1,860.00.
  Pension 132.99; union 15.00; tax 372.00: deductions 519.99, net 1,340.01.
  Employer 372.00 + 30.00 = 402.00.
- Cara, 5,000.00, unpaid leave Thursday 22 to Monday 26 April (Thu, Fri, Mon: 3 working
  days; a second unpaid request is rejected and costs nothing): 19 of 22 days.
  Salary 5,000.00 × 19 / 22 = 4,318.1818… → 4,318.18; meal 110.00 × 19 / 22 = 95.00;
  gross 4,413.18. Pension 315.54237 → 315.54; union 15.00; tax 882.636 → 882.64: deductions
  1,213.18, net 3,200.00. Social security 882.64 capped at 850.00, + 30.00 = 880.00.

Run totals: gross 10,383.18; deductions 2,864.04; net 7,519.14; employer 2,134.00.
Entry: wages 10,383.18 + employer contributions 2,134.00 = 12,517.18 debit;
withholdings 2,864.04 + contributions 2,134.00 + net wages 7,519.14 = 12,517.18 credit.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import xmlschema
from pypdf import PdfReader

from common.ids import new_id
from common.payroll_documents import (
    Debtor,
    PayrollDocumentError,
    load_payslip,
    payslip_pdf,
    sepa_credit_transfer,
)
from common.schema import (
    AccountMapping,
    JournalEntry,
    JournalLine,
    PayComponent,
    PayrollRun,
    Payslip,
    PayslipLine,
)
from tests.common.business import Business, role
from tests.common.sides import SIDES, open_side

DATA = Path(__file__).parent / "data"
HR = role("hr")
EMPLOYEE = role("employee")


@dataclass
class Month:
    biz: Business
    ids: dict[str, str] = field(default_factory=dict)


def _component(biz: Business, code: str, kind: str, method: str, **extra: Any) -> None:
    biz.apply(
        "hr.create_pay_component",
        {"id": new_id(), "code": code, "name": code.title(), "kind": kind, "method": method, **extra},
        permissions=HR,
    )


def _leave(biz: Business, employee_id: str, kind: str, start: str, end: str, **kwargs: Any) -> str:
    leave_id = new_id()
    biz.apply(
        "hr.request_leave",
        {"id": leave_id, "employee_id": employee_id, "kind": kind, "start_date": start, "end_date": end},
        **kwargs,
    )
    return leave_id


@pytest.fixture(scope="module", params=SIDES)
def month(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, server_store_template: Path
) -> Iterator[Month]:
    root: Path = tmp_path_factory.mktemp("hr_month")
    store = open_side(request.param, root / "store", server_store_template)
    biz = Business(store, new_id()).set_up_books()
    m = Month(biz)
    try:
        _component(biz, "MEAL", "earning", "fixed", amount=11_000, currency="EUR")
        _component(biz, "PENSION", "deduction", "percent", rate="7.15")
        _component(biz, "UNION", "deduction", "fixed", amount=1_500, currency="EUR")
        _component(biz, "SOCSEC", "employer_contribution", "percent", rate="20", cap=85_000)
        _component(biz, "HEALTH", "employer_contribution", "fixed", amount=3_000, currency="EUR")
        _component(biz, "OLD", "earning", "fixed", amount=99_999, currency="EUR", active=False)
        _component(biz, "USD-BONUS", "earning", "fixed", amount=50_000, currency="USD")
        alice_user, cara_user = new_id(), new_id()
        common = {"salary_currency": "EUR", "bank_account": "FI2112345600000785"}
        m.ids["alice"] = biz.employee(
            name="Alice Aalto", salary=400_000, hire_date="2020-01-01", user_id=alice_user, **common
        )
        # Hired in the middle of the month.
        m.ids["ben"] = biz.employee(name="Ben Berg", salary=330_000, hire_date="2027-04-15", **common)
        m.ids["cara"] = biz.employee(
            name="Cara Castro", salary=500_000, hire_date="2019-06-01", user_id=cara_user, **common
        )
        # Leave requested by the employees themselves, decided by HR.
        paid = _leave(
            biz,
            m.ids["alice"],
            "annual",
            "2027-04-12",
            "2027-04-16",
            permissions=EMPLOYEE,
            actor_id=alice_user,
        )
        unpaid = _leave(
            biz, m.ids["cara"], "unpaid", "2027-04-22", "2027-04-26", permissions=EMPLOYEE, actor_id=cara_user
        )
        rejected = _leave(
            biz, m.ids["cara"], "unpaid", "2027-04-28", "2027-04-28", permissions=EMPLOYEE, actor_id=cara_user
        )
        for leave in (paid, unpaid):
            biz.apply("hr.approve_leave", {"id": leave}, permissions=HR)
        biz.apply("hr.reject_leave", {"id": rejected}, permissions=HR)
        m.ids["run"] = new_id()
        outcome = biz.apply(
            "hr.run_payroll",
            {
                "id": m.ids["run"],
                "period_start": "2027-04-01",
                "period_end": "2027-04-30",
                "currency": "EUR",
                "withholding_rate": "20",
            },
            permissions=HR,
        )
        assert outcome.data["payslips"] == 3
        yield m
    finally:
        store.close()


def _slips(m: Month, run_id: str) -> dict[str, dict[str, Any]]:
    return {s["employee_id"]: s for s in m.biz.rows(Payslip, Payslip.payroll_run_id == run_id)}


def _entry(m: Month, run_id: str) -> dict[str, tuple[int, int]]:
    """The run's journal entry: (debit, credit) per posting role."""
    (entry,) = m.biz.rows(
        JournalEntry, JournalEntry.source == "payroll_run", JournalEntry.source_id == run_id
    )
    roles = {r["account_id"]: r["role"] for r in m.biz.rows(AccountMapping)}
    return {
        roles[line["account_id"]]: (line["debit"], line["credit"])
        for line in m.biz.rows(JournalLine, JournalLine.journal_entry_id == entry["id"])
    }


def _preview_prorates_starts_and_unpaid_leave_as_worked_out_by_hand(month: Month) -> None:
    m, ids = month, month.ids
    run = m.biz.row(PayrollRun, ids["run"])
    assert run["status"] == "draft"
    assert (run["total_gross"], run["total_deductions"], run["total_net"], run["total_employer"]) == (
        1_038_318,
        286_404,
        751_914,
        213_400,
    )
    slips = _slips(m, ids["run"])
    figures = {
        name: (
            slips[ids[name]]["paid_days"],
            slips[ids[name]]["gross"],
            slips[ids[name]]["deductions"],
            slips[ids[name]]["net"],
            slips[ids[name]]["employer_contributions"],
        )
        for name in ("alice", "ben", "cara")
    }
    assert figures == {
        "alice": (22, 411_000, 113_087, 297_913, 85_200),
        "ben": (12, 186_000, 51_999, 134_001, 40_200),
        "cara": (19, 441_318, 121_318, 320_000, 88_000),
    }
    lines = sorted(
        m.biz.rows(PayslipLine, PayslipLine.payslip_id == slips[ids["cara"]]["id"]),
        key=lambda r: r["line_no"],
    )
    assert [(line["kind"], line["description"], line["amount"]) for line in lines] == [
        ("salary", "Base salary, 19 of 22 working days", 431_818),
        ("earning", "Meal", 9_500),
        ("gross", "Gross pay", 441_318),
        ("deduction", "Pension 7.15 %", -31_554),
        ("deduction", "Union", -1_500),
        ("deduction", "Withholding tax 20 %", -88_264),
        ("net", "Net pay", 320_000),
        ("employer", "Health", 3_000),
        ("employer", "Socsec 20 %", 85_000),
    ]
    # Nothing is posted before approval.
    assert not m.biz.rows(JournalEntry, JournalEntry.source_id == ids["run"])
    error = m.biz.refused("hr.post_payroll_run", {"id": ids["run"]}, permissions=HR)
    assert error.code == "invalid_state"


def _approved_run_posts_a_balanced_entry_once(month: Month) -> None:
    m, ids = month, month.ids
    m.biz.apply("hr.approve_payroll_run", {"id": ids["run"]}, permissions=HR)
    m.biz.apply("hr.post_payroll_run", {"id": ids["run"]}, permissions=HR)
    entry = _entry(m, ids["run"])
    assert entry == {
        "wages": (1_038_318, 0),
        "employer_contributions": (213_400, 0),
        "withholdings_payable": (0, 286_404),
        "contributions_payable": (0, 213_400),
        "net_wages_payable": (0, 751_914),
    }
    assert sum(d for d, _ in entry.values()) == sum(c for _, c in entry.values()) == 1_251_718
    error = m.biz.refused("hr.post_payroll_run", {"id": ids["run"]}, permissions=HR)
    assert error.code == "invalid_state" and "already posted" in error.message
    assert len(m.biz.rows(JournalEntry, JournalEntry.source_id == ids["run"])) == 1
    # The same period is not run twice while the run stands.
    m.biz.invalid(
        "hr.run_payroll",
        {"id": new_id(), "period_start": "2027-04-15", "period_end": "2027-05-14", "currency": "EUR"},
        "period_start",
        permissions=HR,
    )


def _paid(month: Month) -> None:
    m, ids = month, month.ids
    m.biz.apply(
        "hr.pay_payroll_run",
        {"id": new_id(), "payroll_run_id": ids["run"], "paid_on": "2027-04-30"},
        permissions=HR,
    )
    assert m.biz.row(PayrollRun, ids["run"])["status"] == "paid"


def _corrected_by_a_reversing_run_then_run_again(month: Month) -> None:
    m, ids = month, month.ids
    reversal = new_id()
    m.biz.apply("hr.reverse_payroll_run", {"id": reversal, "payroll_run_id": ids["run"]}, permissions=HR)
    original, reversing = m.biz.row(PayrollRun, ids["run"]), m.biz.row(PayrollRun, reversal)
    assert (original["status"], original["reversed_by_run_id"]) == ("reversed", reversal)
    assert (reversing["status"], reversing["reverses_run_id"], reversing["total_net"]) == (
        "posted",
        ids["run"],
        -751_914,
    )
    # Every payslip negated, line by line.
    negated = _slips(m, reversal)
    assert {k: (s["gross"], s["net"]) for k, s in negated.items()} == {
        k: (-s["gross"], -s["net"]) for k, s in _slips(m, ids["run"]).items()
    }
    assert _entry(m, reversal) == {
        "wages": (0, 1_038_318),
        "employer_contributions": (0, 213_400),
        "withholdings_payable": (286_404, 0),
        "contributions_payable": (213_400, 0),
        "net_wages_payable": (751_914, 0),
    }
    # Neither is reversed or paid again; the period may be run anew.
    assert m.biz.refused("hr.reverse_payroll_run", {"id": new_id(), "payroll_run_id": ids["run"]}).code == (
        "invalid_state"
    )
    m.biz.invalid("hr.reverse_payroll_run", {"id": new_id(), "payroll_run_id": reversal}, "payroll_run_id")
    assert (
        m.biz.refused("hr.pay_payroll_run", {"id": new_id(), "payroll_run_id": reversal}).code
        == "invalid_state"
    )
    again = new_id()
    m.biz.apply(
        "hr.run_payroll",
        {"id": again, "period_start": "2027-04-01", "period_end": "2027-04-30", "currency": "EUR"},
        permissions=HR,
    )
    m.biz.apply("hr.discard_payroll_run", {"id": again}, permissions=HR)
    assert m.biz.refused("hr.approve_payroll_run", {"id": again}).code == "invalid_state"


def _payslip_pdf_reads_back(month: Month) -> None:
    m, ids = month, month.ids
    (slip,) = m.biz.rows(Payslip, Payslip.payroll_run_id == ids["run"], Payslip.employee_id == ids["cara"])
    with m.biz.session() as session:
        doc = load_payslip(session, m.biz.org_id, slip["id"])
        assert doc is not None and doc.final
        text = " ".join(PdfReader(io.BytesIO(payslip_pdf(doc))).pages[0].extract_text().split())
    for expected in (
        "Payslip",
        "Cara Castro",
        "2027-04-01 to 2027-04-30",
        "Working days paid 19 of 22",
        "Base salary, 19 of 22 working days 4,318.18 EUR",
        "Gross pay 4,413.18 EUR",
        "Pension 7.15 % -315.54 EUR",
        "Withholding tax 20 % -882.64 EUR",
        "Net pay 3,200.00 EUR",
        "Socsec 20 % 850.00 EUR",
    ):
        assert expected in text, (expected, text)
    assert "draft" not in text


def _sepa_file_is_valid_against_the_xsd(month: Month) -> None:
    m, ids = month, month.ids
    debtor = Debtor("Month Oy", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX")
    with m.biz.session() as session:
        xml = sepa_credit_transfer(session, m.biz.org_id, ids["run"], debtor, date(2027, 4, 30))
    schema = xmlschema.XMLSchema(str(DATA / "pain.001.001.03.xsd"))
    schema.validate(xml.decode())  # raises on any violation of the official schema
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
    root = ElementTree.fromstring(xml)  # noqa: S314 (the file just made, already schema-valid)
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=ns) == "3"
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=ns) == "7519.14"
    transfers = {
        tx.findtext("p:Cdtr/p:Nm", namespaces=ns): tx.findtext("p:Amt/p:InstdAmt", namespaces=ns)
        for tx in root.iterfind(".//p:CdtTrfTxInf", ns)
    }
    assert transfers == {"Alice Aalto": "2979.13", "Ben Berg": "1340.01", "Cara Castro": "3200.00"}


def test_an_hr_month(month: Month) -> None:
    """Hire mid-month, leave requested and decided, unpaid leave, the run previewed, approved,
    posted once, its payslip PDF and SEPA file, paid, reversed and run again."""
    _preview_prorates_starts_and_unpaid_leave_as_worked_out_by_hand(month)
    _approved_run_posts_a_balanced_entry_once(month)
    _payslip_pdf_reads_back(month)
    _sepa_file_is_valid_against_the_xsd(month)
    _paid(month)
    _corrected_by_a_reversing_run_then_run_again(month)


def test_a_bad_iban_is_refused_naming_the_employee(month: Month) -> None:
    m = month
    biz = m.biz
    employee = biz.employee(
        name="Dora Dee", salary=100_000, salary_currency="EUR", bank_account="DE89370400440532013001"
    )
    run = new_id()
    biz.apply(
        "hr.run_payroll",
        {"id": run, "period_start": "2027-06-01", "period_end": "2027-06-30", "currency": "EUR"},
        permissions=HR,
    )
    biz.apply("hr.approve_payroll_run", {"id": run}, permissions=HR)
    biz.apply("hr.post_payroll_run", {"id": run}, permissions=HR)
    with biz.session() as session, pytest.raises(PayrollDocumentError) as info:
        sepa_credit_transfer(
            session, biz.org_id, run, Debtor("Month Oy", "DE89370400440532013000"), date(2027, 6, 30)
        )
    assert info.value.field == "bank_account"
    assert str(info.value).startswith(
        "Dora Dee: the bank account 'DE89370400440532013001' is not a valid IBAN"
    )
    biz.apply(
        "hr.update_employee",
        {
            "id": employee,
            "changes": {"bank_account": None},
            "base": {"bank_account": "DE89370400440532013001"},
        },
    )
    with biz.session() as session, pytest.raises(PayrollDocumentError, match="Dora Dee: no bank account"):
        sepa_credit_transfer(
            session, biz.org_id, run, Debtor("Month Oy", "DE89370400440532013000"), date(2027, 6, 30)
        )


def test_pay_component_errors_name_the_field(month: Month) -> None:
    base = {"id": new_id(), "code": "X1", "name": "X", "kind": "deduction"}
    month.biz.invalid("hr.create_pay_component", {**base, "method": "percent"}, "rate")
    month.biz.invalid("hr.create_pay_component", {**base, "method": "fixed", "amount": 100}, "currency")
    month.biz.invalid("hr.create_pay_component", {**base, "method": "percent", "rate": "101"}, "rate")
    month.biz.invalid("hr.create_pay_component", {**base, "kind": "bonus", "method": "fixed"}, "kind")
    month.biz.invalid(
        "hr.create_pay_component", {**base, "code": "MEAL", "method": "percent", "rate": "1"}, "code"
    )
    error = month.biz.refused(
        "hr.create_pay_component", {**base, "method": "percent", "rate": "1"}, permissions=role("admin")
    )
    assert error.code == "forbidden"
    # Changes are checked against the component as it would become.
    component = new_id()
    month.biz.apply(
        "hr.create_pay_component",
        {**base, "id": component, "code": "LATER", "method": "percent", "rate": "1", "active": False},
    )
    month.biz.invalid(
        "hr.update_pay_component",
        {"id": component, "changes": {"method": "fixed"}, "base": {"method": "percent"}},
        "changes.amount",
    )
    month.biz.apply(
        "hr.update_pay_component", {"id": component, "changes": {"rate": "2.5"}, "base": {"rate": "1"}}
    )
    assert month.biz.row(PayComponent, component)["rate"] == Decimal("2.5")
