"""What the finance forms hold, turned into command args — no Qt, no locale, unit-tested.

Like :mod:`common.inventory_forms`: a form gives what was typed (texts, picked ids) and parsers
for numbers (the desktop's read the user's locale); a builder answers a :class:`FormArgs` with the
command, its args and the problems ``{field: phrase}``. Also here: the chart of accounts as a tree
with balances rolled up to the parents, and what is still unposted in a fiscal period.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.commands.bills import RecordSupplierBillArgs, RecordSupplierPaymentArgs
from common.commands.finance import (
    CreateAccountArgs,
    CreateFiscalPeriodArgs,
    CreateTaxRateArgs,
    PostJournalEntryArgs,
)
from common.commands.rules import percent_of
from common.inventory_forms import FormArgs, ParseMoney, ParseQuantity
from common.money import line_amount, quantity_text
from common.schema import Invoice, PayrollRun
from common.validation import problems

ParsePercent = Callable[[str], Decimal]  # raises ValueError with a phrase

_REQUIRED = "is required"
ACCOUNT_FIELDS = ("code", "name", "type", "parent_id")
TAX_RATE_FIELDS = ("code", "name", "rate", "output_account_id", "input_account_id")
# The side on which an account of each type normally carries its balance.
DEBIT_TYPES = frozenset({"asset", "expense"})

__all__ = [
    "AccountNode",
    "BillLineInput",
    "FormArgs",
    "JournalLineInput",
    "account_tree",
    "build_account",
    "build_fiscal_period",
    "build_journal_entry",
    "build_supplier_bill",
    "build_supplier_payment",
    "build_tax_rate",
    "line_refusal",
    "missing_mappings",
    "unposted_in_period",
]


def _text(raw: Mapping[str, Any], key: str) -> str:
    return str(raw.get(key) or "").strip()


def _update(
    entity_id: str, before: Mapping[str, Any], after: Mapping[str, Any], keys: Sequence[str]
) -> dict[str, Any]:
    changes = {key: after.get(key) for key in keys if before.get(key) != after.get(key)}
    return {"id": entity_id, "changes": changes, "base": {key: before.get(key) for key in changes}}


def _line_label(index: int, name: str) -> str:
    return f"Line {index + 1} {name}"


def _relabel(found: dict[str, str], key: str, phrase: str, names: Mapping[str, str] | None = None) -> None:
    """A command's problem keyed ``lines.2.debit`` shown as ``Line 3 debit``."""
    parts = key.split(".")
    if parts[0] == "lines" and len(parts) > 2 and parts[1].isdigit():
        name = (names or {}).get(parts[2], parts[2].replace("_id", "").replace("_", " "))
        key = _line_label(int(parts[1]), name)
    found.setdefault(key, phrase)


# -- chart of accounts -----------------------------------------------------------------------


@dataclass
class AccountNode:
    """One account of the tree: its own balance (debit minus credit, minor units) and the
    balance of it and everything under it (``total``)."""

    id: str
    code: str
    name: str
    type: str
    archived: bool
    parent_id: str | None
    balance: int = 0
    children: list[AccountNode] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.balance + sum(child.total for child in self.children)

    def walk(self) -> Iterable[AccountNode]:
        yield self
        for child in self.children:
            yield from child.walk()


def account_tree(accounts: Iterable[Mapping[str, Any]], balances: Mapping[str, int]) -> list[AccountNode]:
    """The accounts as a tree ordered by code, each with its balance and its subtree's.

    An account whose parent is unknown (archived and filtered out, or not on this computer) is a
    root; a parent chain that loops is cut where it loops, so every account shows exactly once.
    """
    nodes = {
        str(row["id"]): AccountNode(
            id=str(row["id"]),
            code=str(row["code"]),
            name=str(row["name"]),
            type=str(row["type"]),
            archived=bool(row.get("archived")),
            parent_id=row.get("parent_id"),
            balance=int(balances.get(str(row["id"]), 0)),
        )
        for row in accounts
    }
    roots: list[AccountNode] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id else None
        ancestor, seen = parent, {node.id}
        while ancestor is not None and ancestor.id not in seen:
            seen.add(ancestor.id)
            ancestor = nodes.get(ancestor.parent_id) if ancestor.parent_id else None
        if parent is None or ancestor is not None:  # no parent, or a loop back to this node
            roots.append(node)
        else:
            parent.children.append(node)

    def order(items: list[AccountNode]) -> None:
        items.sort(key=lambda n: n.code)
        for item in items:
            order(item.children)

    order(roots)
    return roots


def line_refusal(field: str, phrase: str, rows: Sequence[int]) -> str | None:
    """A command's refusal of ``lines.N.<key>`` in the form's words (``Line 3 account: …``),
    where ``rows[N]`` is the form row line N came from; ``None`` for any other field."""
    parts = field.split(".")
    if len(parts) < 2 or parts[0] != "lines" or not parts[1].isdigit():
        return None
    index = int(parts[1])
    row = rows[index] if index < len(rows) else index
    name = parts[2].removesuffix("_id").replace("_", " ") if len(parts) > 2 else ""
    return f"{_line_label(row, name).strip()}: {phrase}"


def balance_sides(balance: int) -> tuple[int | None, int | None]:
    """A balance (debit minus credit) as ``(debit, credit)``, the other side ``None``."""
    if balance > 0:
        return balance, None
    if balance < 0:
        return None, -balance
    return None, None


def build_account(
    account_id: str, raw: Mapping[str, Any], before: Mapping[str, Any] | None = None
) -> FormArgs:
    """The account form → ``finance.create_account``, or ``finance.update_account`` with the
    changed fields and their old values when ``before`` (the stored account) is given."""
    args: dict[str, Any] = {"id": account_id}
    for key in ("code", "name", "type"):
        if _text(raw, key):
            args[key] = _text(raw, key)
    args["parent_id"] = raw.get("parent_id") or None
    found: dict[str, str] = {}
    if args["parent_id"] == account_id:
        found["parent_id"] = "an account cannot be under itself"
    for key, phrase in problems(CreateAccountArgs, args).items():
        found.setdefault(key, phrase)
    if before is None:
        return FormArgs("finance.create_account", args, found)
    update = _update(account_id, before, args, ACCOUNT_FIELDS)
    if not found and not update["changes"]:
        found[""] = "Nothing to save yet: no field was changed."
    return FormArgs("finance.update_account", update, found)


# -- journal entries -------------------------------------------------------------------------


@dataclass(frozen=True)
class JournalLineInput:
    """One row of the debit/credit grid as typed."""

    account_id: str | None
    debit: str
    credit: str
    memo: str = ""

    @property
    def blank(self) -> bool:
        return not (self.account_id or self.debit.strip() or self.credit.strip() or self.memo.strip())


def build_journal_entry(
    entry_id: str,
    raw: Mapping[str, Any],
    lines: Sequence[JournalLineInput],
    currency: str,
    parse_money: ParseMoney,
) -> FormArgs:
    """The journal grid → ``finance.post_journal_entry`` args.

    Blank rows are left out. ``extra``: ``debit`` and ``credit`` (totals in minor units of what
    reads as amounts), ``difference`` (debit minus credit) and ``balanced`` (two lines or more,
    every amount read, debits equal to credits and above zero). Problems of a row are keyed by
    its row number in the grid (``Line 3 debit``); the balance under ``balance``.
    """
    found: dict[str, str] = {}
    args: dict[str, Any] = {"id": entry_id, "currency": currency}
    if _text(raw, "entry_date"):
        args["entry_date"] = _text(raw, "entry_date")
    if _text(raw, "memo"):
        args["memo"] = _text(raw, "memo")
    built: list[dict[str, Any]] = []
    rows: list[int] = []  # the grid row of each built line
    debit_total = credit_total = 0
    for index, line in enumerate(lines):
        if line.blank:
            continue
        entry: dict[str, Any] = {}
        if line.account_id:
            entry["account_id"] = line.account_id
        else:
            found[_line_label(index, "account")] = "pick an account"
        amounts: dict[str, int] = {}
        for side, text in (("debit", line.debit.strip()), ("credit", line.credit.strip())):
            if not text:
                continue
            try:
                amounts[side] = parse_money(text, currency)
            except ValueError as exc:
                found[_line_label(index, side)] = str(exc)
        debit, credit = amounts.get("debit", 0), amounts.get("credit", 0)
        debit_total += debit
        credit_total += credit
        if debit and credit:
            found[_line_label(index, "credit")] = "enter a debit or a credit on a line, not both"
        elif (
            not debit and not credit and not any(_line_label(index, s) in found for s in ("debit", "credit"))
        ):
            found[_line_label(index, "debit")] = "enter a debit or a credit above zero"
        entry["debit"], entry["credit"] = debit, credit
        if line.memo.strip():
            entry["memo"] = line.memo.strip()
        built.append(entry)
        rows.append(index)
    args["lines"] = built
    for key, phrase in problems(PostJournalEntryArgs, args).items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) > 2 and parts[1].isdigit() and int(parts[1]) < len(rows):
            key = _line_label(rows[int(parts[1])], parts[2].replace("_id", ""))
        elif key == "lines":
            continue  # said below, in the grid's words
        elif key == "entry_date" and "entry_date" not in args:
            phrase = _REQUIRED
        found.setdefault(key, phrase)
    if len(built) < 2:
        found.setdefault("", "An entry needs at least two lines: one debit and one credit.")
    difference = debit_total - credit_total
    if difference != 0:
        found["balance"] = "debits and credits must be equal"
    balanced = not found and debit_total > 0
    extra = {
        "debit": debit_total,
        "credit": credit_total,
        "difference": difference,
        "balanced": balanced,
        "rows": rows,  # the grid row of each line sent (a refusal of lines.N names row rows[N])
    }
    return FormArgs("finance.post_journal_entry", args, found, extra)


# -- supplier bills and payments -------------------------------------------------------------


@dataclass(frozen=True)
class BillLineInput:
    """One line of a bill as typed: an order line billed, or a direct line on an account."""

    line_id: str
    purchase_order_line_id: str | None
    account_id: str | None
    description: str
    quantity: str
    unit_price: str
    tax_rate_id: str | None
    product_id: str | None = None


def build_supplier_bill(
    bill_id: str,
    raw: Mapping[str, Any],
    lines: Sequence[BillLineInput],
    currency: str,
    tax_rates: Mapping[str, Decimal],
    parse_quantity: ParseQuantity,
    parse_money: ParseMoney,
) -> FormArgs:
    """A bill form → ``finance.record_supplier_bill`` args.

    ``raw``: supplier_id, purchase_order_id, supplier_reference, bill_date, due_date as typed;
    ``tax_rates``: percentage per tax rate id. A line of the order with nothing to bill (quantity
    empty or zero) is left out. ``extra``: ``line_totals`` (net per line, or None), ``subtotal``,
    ``tax`` and ``total`` in minor units, computed as the command computes them.
    """
    found: dict[str, str] = {}
    args: dict[str, Any] = {"id": bill_id}
    for key in ("supplier_id", "purchase_order_id", "supplier_reference", "bill_date", "due_date"):
        if _text(raw, key):
            args[key] = _text(raw, key)
    if "supplier_id" not in args:
        found["supplier_id"] = _REQUIRED
    _exchange_rate(raw, args, found, parse_quantity)
    built: list[dict[str, Any]] = []
    rows: list[int] = []
    totals: list[int | None] = []
    subtotal = tax_total = 0
    for index, line in enumerate(lines):
        entry: dict[str, Any] = {"id": line.line_id}
        ordered = line.purchase_order_line_id is not None
        if ordered:
            entry["purchase_order_line_id"] = line.purchase_order_line_id
        elif line.account_id:
            entry["account_id"] = line.account_id
        if line.product_id:
            entry["product_id"] = line.product_id
        if line.description.strip():
            entry["description"] = line.description.strip()
        if line.tax_rate_id:
            entry["tax_rate_id"] = line.tax_rate_id
        amount: Decimal | None = None
        price: int | None = None
        quantity_typed = line.quantity.strip()
        if ordered and (not quantity_typed or quantity_typed in ("0", "0.0", "0,0")):
            totals.append(None)
            continue
        if not ordered:
            if not line.account_id:
                found[_line_label(index, "account")] = "pick the account it is spent on"
            if not line.description.strip() and not line.product_id:
                found[_line_label(index, "description")] = _REQUIRED
        for key, text in (("quantity", quantity_typed), ("unit_price", line.unit_price.strip())):
            label = _line_label(index, key.replace("_", " "))
            if not text:
                found[label] = _REQUIRED
                continue
            try:
                if key == "quantity":
                    amount = parse_quantity(text)
                    entry["quantity"] = quantity_text(amount)
                else:
                    price = parse_money(text, currency)
                    entry["unit_price"] = price
            except ValueError as exc:
                found[label] = str(exc)
        net: int | None = None
        if amount is not None and price is not None:
            net = line_amount(amount, price)
            subtotal += net
            rate = tax_rates.get(line.tax_rate_id) if line.tax_rate_id else None
            if rate is not None:
                tax_total += percent_of(net, rate, currency)
        totals.append(net)
        built.append(entry)
        rows.append(index)
    args["lines"] = built
    names = {"unit_price": "unit price", "account_id": "account", "tax_rate_id": "tax rate"}
    for key, phrase in problems(RecordSupplierBillArgs, args).items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) > 2 and parts[1].isdigit() and int(parts[1]) < len(rows):
            key = _line_label(rows[int(parts[1])], names.get(parts[2], parts[2]))
        elif key == "lines":
            continue
        found.setdefault(key, phrase)
    if not built:
        found.setdefault("", "Enter what is billed on at least one line.")
    bill_date, due_date = args.get("bill_date"), args.get("due_date")
    if bill_date and due_date and due_date < bill_date:
        found.setdefault("due_date", "must not be before the bill date")
    extra = {
        "line_totals": totals,
        "subtotal": subtotal,
        "tax": tax_total,
        "total": subtotal + tax_total,
        "rows": rows,  # the form row of each line sent
    }
    return FormArgs("finance.record_supplier_bill", args, found, extra)


def _exchange_rate(
    raw: Mapping[str, Any], args: dict[str, Any], found: dict[str, str], parse_quantity: ParseQuantity
) -> None:
    """A document in another currency than the ledger's carries its rate (typed, exact)."""
    typed = _text(raw, "exchange_rate")
    if typed:
        try:
            args["exchange_rate"] = quantity_text(parse_quantity(typed))
        except ValueError as exc:
            found["exchange_rate"] = str(exc)


def build_supplier_payment(
    payment_id: str,
    bill: Mapping[str, Any],
    raw: Mapping[str, Any],
    parse_money: ParseMoney,
    parse_quantity: ParseQuantity | None = None,
) -> FormArgs:
    """A payment form for ``bill`` (its ``id``, ``currency``, ``total``, ``amount_paid``) →
    ``finance.record_supplier_payment`` args; never more than is still due."""
    found: dict[str, str] = {}
    currency = str(bill["currency"])
    args: dict[str, Any] = {"id": payment_id, "supplier_bill_id": bill["id"]}
    for key in ("paid_on", "method", "reference"):
        if _text(raw, key):
            args[key] = _text(raw, key)
    typed = _text(raw, "amount")
    if not typed:
        found["amount"] = _REQUIRED
    else:
        try:
            args["amount"] = parse_money(typed, currency)
        except ValueError as exc:
            found["amount"] = str(exc)
    if parse_quantity is not None:
        _exchange_rate(raw, args, found, parse_quantity)
    due = int(bill["total"]) - int(bill["amount_paid"])
    if "amount" in args and args["amount"] > due:
        found["amount"] = "is more than is still due on the bill"
    for key, phrase in problems(RecordSupplierPaymentArgs, args).items():
        found.setdefault(key, phrase)
    return FormArgs("finance.record_supplier_payment", args, found, {"due": due})


# -- tax rates and periods -------------------------------------------------------------------


def build_tax_rate(
    tax_rate_id: str,
    raw: Mapping[str, Any],
    parse_percent: ParsePercent,
    before: Mapping[str, Any] | None = None,
) -> FormArgs:
    """The tax rate form → ``finance.create_tax_rate`` (or ``update_tax_rate`` against ``before``)."""
    found: dict[str, str] = {}
    args: dict[str, Any] = {"id": tax_rate_id}
    for key in ("code", "name"):
        if _text(raw, key):
            args[key] = _text(raw, key)
    typed = _text(raw, "rate")
    if typed:
        try:
            args["rate"] = quantity_text(parse_percent(typed))
        except ValueError as exc:
            found["rate"] = str(exc)
    for key in ("output_account_id", "input_account_id"):
        args[key] = raw.get(key) or None
    for key, phrase in problems(CreateTaxRateArgs, args).items():
        if key == "rate" and "rate" in args:
            phrase = "must be between 0 and 100"
        found.setdefault(key, phrase)
    if before is None:
        return FormArgs("finance.create_tax_rate", args, found)
    stored = dict(before)
    if stored.get("rate") is not None:
        stored["rate"] = quantity_text(Decimal(stored["rate"]))
    update = _update(tax_rate_id, stored, args, TAX_RATE_FIELDS)
    if not found and not update["changes"]:
        found[""] = "Nothing to save yet: no field was changed."
    return FormArgs("finance.update_tax_rate", update, found)


def build_fiscal_period(period_id: str, raw: Mapping[str, Any]) -> FormArgs:
    args: dict[str, Any] = {"id": period_id}
    for key in ("name", "start_date", "end_date"):
        if _text(raw, key):
            args[key] = _text(raw, key)
    found = problems(CreateFiscalPeriodArgs, args)
    return FormArgs("finance.create_fiscal_period", args, found)


def missing_mappings(mappings: Iterable[Mapping[str, Any]], roles: Iterable[str]) -> list[str]:
    """The posting roles with no account (no setting, or one pointing nowhere)."""
    mapped = {row["role"] for row in mappings if row.get("account_id")}
    return [role for role in roles if role not in mapped]


def unposted_in_period(
    session: Session, org_id: str, start: date, end: date, permissions: frozenset[str]
) -> list[str]:
    """What is dated in the period and not posted yet, in words (``Invoice DRAFT-3 of 2026-11-04
    (draft)``): the documents that could not be posted once the period is closed. Only what the
    user may read is looked at (an accountant without HR sees no payroll run)."""
    found: list[str] = []
    if "sales.read" in permissions or "finance.read" in permissions:
        stmt = (
            select(Invoice.number, Invoice.issue_date)
            .where(
                Invoice.org_id == org_id,
                Invoice.deleted.is_(False),
                Invoice.status == "draft",
                Invoice.issue_date >= start,
                Invoice.issue_date <= end,
            )
            .order_by(Invoice.issue_date, Invoice.number)
        )
        found += [f"Invoice {number} of {day.isoformat()} (draft)" for number, day in session.execute(stmt)]
    if "hr.read" in permissions or "payroll.run" in permissions:
        runs = (
            select(PayrollRun.period_start, PayrollRun.period_end, PayrollRun.status)
            .where(
                PayrollRun.org_id == org_id,
                PayrollRun.deleted.is_(False),
                PayrollRun.status.in_(("draft", "approved")),
                PayrollRun.period_end >= start,
                PayrollRun.period_end <= end,
            )
            .order_by(PayrollRun.period_start)
        )
        found += [
            f"Payroll run {first.isoformat()} – {last.isoformat()} ({status})"
            for first, last, status in session.execute(runs)
        ]
    return found
