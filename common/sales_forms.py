"""What the sales forms hold, turned into command args — no Qt, no locale, unit-tested.

Like :mod:`common.inventory_forms`: a form gives what was typed and parsers for numbers (the
desktop's read the user's locale); a builder answers with the args, the problems
``{field: phrase}`` (``""`` keys a problem of the whole form, ``Line 2 quantity`` one of a line)
and, in ``extra``, the figures the form shows as you type. The amounts are worked out with the
very helpers the commands use (:func:`common.money.line_amount`, :func:`percent_of`), so the
totals on screen are the totals the command stores.

A line's discount is a percentage sent with the line (``discount_percent``): the line's net is
``quantity × unit price`` less it, rounded once, as the commands work it out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from common.commands.credit_notes import IssueCreditNoteArgs
from common.commands.invoicing import CreateInvoiceArgs, RecordPaymentArgs
from common.commands.rules import percent_of
from common.commands.sales import CreateCustomerArgs, CreateSalesOrderArgs
from common.inventory_forms import FormArgs, ParseMoney, ParseQuantity
from common.money import line_amount, quantity_text
from common.validation import problems

__all__ = [
    "CreditLineInput",
    "FormArgs",
    "OpenInvoice",
    "SalesLineInput",
    "allocate_oldest_first",
    "build_credit_note",
    "build_customer",
    "build_invoice",
    "build_order_invoice",
    "build_payments",
    "build_sales_order",
]

_REQUIRED = "is required"
HUNDRED = Decimal(100)


def _text(raw: Mapping[str, Any], key: str) -> str:
    return str(raw.get(key) or "").strip()


def _line_label(index: int, field_name: str) -> str:
    return f"Line {index + 1} {field_name.replace('_id', '').replace('_', ' ')}"


def _model_problems(model: type[BaseModel], args: dict[str, Any], found: dict[str, str]) -> None:
    """The args model's problems, a line's keyed ``Line 2 quantity``."""
    present = {k: v for k, v in args.items() if v is not None}
    for key, phrase in problems(model, present).items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) > 2 and parts[1].isdigit():
            key = _line_label(int(parts[1]), parts[2])
        found.setdefault(key, phrase)


def _exchange_rate(
    raw: Mapping[str, Any],
    currency: str,
    ledger: str | None,
    parse_quantity: ParseQuantity,
    args: dict[str, Any],
    found: dict[str, str],
) -> None:
    """A document in another currency than the ledger's carries its rate (ledger units per unit)."""
    if not currency or ledger is None or currency == ledger:
        return
    text = _text(raw, "exchange_rate")
    if not text:
        found["exchange_rate"] = f"is required: the document is in {currency}, the books in {ledger}"
        return
    try:
        rate = parse_quantity(text)
    except ValueError as exc:
        found["exchange_rate"] = str(exc)
        return
    if rate <= 0:
        found["exchange_rate"] = "must be greater than zero"
    else:
        args["exchange_rate"] = quantity_text(rate)


# -- customers -------------------------------------------------------------------------------


def build_customer(customer_id: str, raw: Mapping[str, Any], parse_money: ParseMoney) -> FormArgs:
    """A customer form → ``sales.create_customer`` args (empty optional fields are ``None``)."""
    found: dict[str, str] = {}
    args: dict[str, Any] = {"id": customer_id, "name": _text(raw, "name"), "currency": _text(raw, "currency")}
    for key in ("email", "phone", "address", "tax_id"):
        args[key] = _text(raw, key) or None
    args["credit_limit"] = None
    limit = _text(raw, "credit_limit")
    if limit:
        try:
            args["credit_limit"] = parse_money(limit, args["currency"])
        except ValueError as exc:
            found["credit_limit"] = str(exc)
    _model_problems(CreateCustomerArgs, args, found)
    return FormArgs("sales.create_customer", args, found)


# -- order and invoice lines -------------------------------------------------------------------


@dataclass(frozen=True)
class SalesLineInput:
    """One line of an order or invoice form as typed."""

    line_id: str
    product_id: str | None  # the picked product; None when none is picked
    product_text: str
    quantity: str
    unit_price: str
    discount: str = ""  # percent off the unit price; "" for none
    tax_rate_id: str | None = None
    description: str = ""  # invoices only: the line's text (the product's name when empty)


def _sales_line(
    index: int,
    line: SalesLineInput,
    currency: str,
    rates: Mapping[str, Decimal],
    parse_quantity: ParseQuantity,
    parse_money: ParseMoney,
    found: dict[str, str],
    *,
    product_required: bool,
) -> tuple[dict[str, Any], tuple[int, int] | None]:
    """A line's args and its ``(net, tax)`` once quantity and price are known."""
    entry: dict[str, Any] = {"id": line.line_id}
    if line.product_id is not None:
        entry["product_id"] = line.product_id
    elif line.product_text.strip():
        found[_line_label(index, "product")] = "no product has that SKU; pick one from the list"
    elif product_required:
        found[_line_label(index, "product")] = "pick a product"
    if not product_required:
        description = line.description.strip()
        if description:
            entry["description"] = description
        elif line.product_id is None and not line.product_text.strip():
            found[_line_label(index, "description")] = "is required for a line without a product"
    amount: Decimal | None = None
    price: int | None = None
    discount = Decimal(0)
    for key, text in (
        ("quantity", line.quantity.strip()),
        ("unit_price", line.unit_price.strip()),
        ("discount", line.discount.strip()),
    ):
        label = _line_label(index, key)
        if not text:
            if key != "discount":
                found[label] = _REQUIRED
            continue
        try:
            if key == "quantity":
                amount = parse_quantity(text)
                entry["quantity"] = quantity_text(amount)
            elif key == "unit_price":
                price = parse_money(text, currency)
            else:
                discount = parse_quantity(text)
                if not Decimal(0) <= discount <= HUNDRED:
                    raise ValueError("must be between 0 and 100 %")
        except ValueError as exc:
            found[label] = str(exc)
    if price is not None:
        entry["unit_price"] = price
    if discount and _line_label(index, "discount") not in found:
        entry["discount_percent"] = quantity_text(discount)
    if line.tax_rate_id is not None:
        entry["tax_rate_id"] = line.tax_rate_id
    if amount is None or price is None or _line_label(index, "discount") in found:
        return entry, None
    net = line_amount(amount, price, discount)
    rate = rates.get(line.tax_rate_id) if line.tax_rate_id is not None else None
    tax = percent_of(net, rate, currency) if rate is not None else 0
    return entry, (net, tax)


def _lines_and_totals(
    lines: Sequence[SalesLineInput],
    currency: str,
    rates: Mapping[str, Decimal],
    parse_quantity: ParseQuantity,
    parse_money: ParseMoney,
    found: dict[str, str],
    *,
    product_required: bool,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    built: list[dict[str, Any]] = []
    line_totals: list[int | None] = []
    subtotal = tax_total = 0
    for index, line in enumerate(lines):
        entry, priced = _sales_line(
            index,
            line,
            currency,
            rates,
            parse_quantity,
            parse_money,
            found,
            product_required=product_required,
        )
        built.append(entry)
        if priced is None:
            line_totals.append(None)
            continue
        net, tax = priced
        subtotal, tax_total = subtotal + net, tax_total + tax
        line_totals.append(net + tax)
    if not built:
        found.setdefault("", "Add at least one line (Add line).")
    extra = {
        "line_totals": line_totals,
        "subtotal": subtotal,
        "tax": tax_total,
        "total": subtotal + tax_total,
    }
    return built, extra


def build_sales_order(
    order_id: str,
    raw: Mapping[str, Any],
    lines: Sequence[SalesLineInput],
    currency: str,
    rates: Mapping[str, Decimal],
    parse_quantity: ParseQuantity,
    parse_money: ParseMoney,
) -> FormArgs:
    """A quotation form → ``sales.create_sales_order`` args.

    ``raw``: customer_id, warehouse_id, order_date, note; ``rates``: tax rate id → percent.
    ``extra``: ``line_totals`` (tax included, None while a line is incomplete), ``subtotal``,
    ``tax``, ``total`` in minor units.
    """
    found: dict[str, str] = {}
    args: dict[str, Any] = {"id": order_id}
    for key in ("customer_id", "warehouse_id"):
        if raw.get(key):
            args[key] = raw[key]
    args["order_date"] = _text(raw, "order_date") or None
    args["note"] = _text(raw, "note") or None
    built, extra = _lines_and_totals(
        lines, currency, rates, parse_quantity, parse_money, found, product_required=True
    )
    args["lines"] = built
    _model_problems(CreateSalesOrderArgs, args, found)
    return FormArgs("sales.create_sales_order", args, found, extra)


def build_invoice(
    invoice_id: str,
    raw: Mapping[str, Any],
    lines: Sequence[SalesLineInput],
    currency: str,
    rates: Mapping[str, Decimal],
    parse_quantity: ParseQuantity,
    parse_money: ParseMoney,
    ledger: str | None = None,
) -> FormArgs:
    """A direct invoice form (no sales order) → ``sales.create_invoice`` args.

    ``raw``: customer_id, issue_date, due_date, exchange_rate (needed when ``currency`` is not
    the ``ledger`` currency). A line needs a product or a description.
    """
    found: dict[str, str] = {}
    args: dict[str, Any] = {"id": invoice_id}
    if raw.get("customer_id"):
        args["customer_id"] = raw["customer_id"]
    else:
        found["customer_id"] = _REQUIRED
    args["issue_date"] = _text(raw, "issue_date") or None
    args["due_date"] = _text(raw, "due_date") or None
    if args["issue_date"] and args["due_date"] and args["due_date"] < args["issue_date"]:
        found["due_date"] = "must not be before the issue date"
    _exchange_rate(raw, currency, ledger, parse_quantity, args, found)
    built, extra = _lines_and_totals(
        lines, currency, rates, parse_quantity, parse_money, found, product_required=False
    )
    args["lines"] = built
    _model_problems(CreateInvoiceArgs, args, found)
    return FormArgs("sales.create_invoice", args, found, extra)


def build_order_invoice(
    invoice_id: str,
    order_id: str,
    raw: Mapping[str, Any],
    currency: str,
    ledger: str | None,
    parse_quantity: ParseQuantity,
) -> FormArgs:
    """Invoicing a sales order (its lines are copied) → ``sales.create_invoice`` args; ``raw``
    holds the exchange rate when the order is not in the ``ledger`` currency."""
    found: dict[str, str] = {}
    args: dict[str, Any] = {"id": invoice_id, "sales_order_id": order_id}
    _exchange_rate(raw, currency, ledger, parse_quantity, args, found)
    return FormArgs("sales.create_invoice", args, found)


# -- payments received -------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenInvoice:
    """A posted invoice of the customer with what is still due on it (minor units)."""

    id: str
    number: str
    open_amount: int


def allocate_oldest_first(amount: int, invoices: Sequence[OpenInvoice]) -> list[int]:
    """Spread ``amount`` over ``invoices`` in the order given (oldest first), each up to its
    open amount; what is left beyond them all is not allocated (it becomes customer credit)."""
    left, out = amount, []
    for invoice in invoices:
        share = min(left, invoice.open_amount)
        out.append(share)
        left -= share
    return out


def build_payments(
    payment_ids: Sequence[str],
    raw: Mapping[str, Any],
    invoices: Sequence[OpenInvoice],
    allocations: Sequence[str],
    currency: str,
    parse_money: ParseMoney,
    ledger: str | None = None,
    parse_quantity: ParseQuantity | None = None,
) -> FormArgs:
    """One payment received, allocated to one or several invoices → one ``sales.record_payment``
    per invoice (``args["payments"]``).

    ``raw``: amount, paid_on, method, reference; ``allocations``: the amount typed against each
    invoice (``""`` for none); ``payment_ids``: one stable id per invoice. What is received beyond
    the allocations is an overpayment, kept as the customer's credit: it is recorded on the last
    invoice paid, which must then be paid in full (otherwise it would only pay more of it).
    In another currency than the ``ledger``'s, ``raw["exchange_rate"]`` is the day's rate.
    ``extra``: ``amount``, ``allocated``, ``excess``.
    """
    found: dict[str, str] = {}
    amount = 0
    typed = _text(raw, "amount")
    if not typed:
        found["amount"] = _REQUIRED
    else:
        try:
            amount = parse_money(typed, currency)
            if amount <= 0:
                found["amount"] = "must be greater than zero"
        except ValueError as exc:
            found["amount"] = str(exc)
    shares: list[int] = []
    for invoice, text in zip(invoices, allocations, strict=True):
        share = 0
        if text.strip():
            try:
                share = parse_money(text.strip(), currency)
            except ValueError as exc:
                found[f"Invoice {invoice.number}"] = str(exc)
            if share > invoice.open_amount:
                found[f"Invoice {invoice.number}"] = (
                    "is more than is open on it; the excess goes to the last invoice"
                )
        shares.append(share)
    allocated = sum(shares)
    paid = [index for index, share in enumerate(shares) if share > 0]
    excess = amount - allocated
    if not paid:
        found.setdefault("", "Allocate the payment to at least one invoice.")
    elif excess < 0:
        found.setdefault("amount", "is less than what is allocated to the invoices")
    elif excess > 0 and any(shares[i] < invoices[i].open_amount for i in paid):
        found.setdefault(
            "", "Allocate the rest to the invoices first: only what is left beyond them is kept as credit."
        )
    payments: list[dict[str, Any]] = []
    common_args: dict[str, Any] = {
        "paid_on": _text(raw, "paid_on") or None,
        "method": raw.get("method") or "bank_transfer",
    }
    if _text(raw, "reference"):
        common_args["reference"] = _text(raw, "reference")
    if parse_quantity is not None:
        _exchange_rate(raw, currency, ledger, parse_quantity, common_args, found)
    for position, index in enumerate(paid):
        share = shares[index] + (excess if position == len(paid) - 1 and excess > 0 else 0)
        args = {
            "id": payment_ids[index],
            "invoice_id": invoices[index].id,
            "amount": share,
            "currency": currency,
            **common_args,
        }
        payments.append(args)
        for key, phrase in problems(
            RecordPaymentArgs, {k: v for k, v in args.items() if v is not None}
        ).items():
            found.setdefault(key, phrase)
    extra = {"amount": amount, "allocated": allocated, "excess": max(excess, 0)}
    return FormArgs("sales.record_payment", {"payments": payments}, found, extra)


# -- credit notes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditLineInput:
    """One invoice line in the credit note form: what is left to credit and what was typed."""

    invoice_line_id: str
    description: str
    left: Decimal
    quantity: str  # "" for none


def build_credit_note(
    note_id: str,
    invoice_id: str,
    raw: Mapping[str, Any],
    lines: Sequence[CreditLineInput],
    parse_quantity: ParseQuantity,
) -> FormArgs:
    """A credit note form → ``sales.issue_credit_note`` args: ``raw["whole"]`` credits everything
    not credited yet (no lines sent), otherwise the quantities typed per line."""
    found: dict[str, str] = {}
    args: dict[str, Any] = {"id": note_id, "invoice_id": invoice_id}
    args["issue_date"] = _text(raw, "issue_date") or None
    args["reason"] = _text(raw, "reason") or None
    if not raw.get("whole"):
        picked: list[dict[str, Any]] = []
        for index, line in enumerate(lines):
            text = line.quantity.strip()
            if not text:
                continue
            label = _line_label(index, "quantity")
            try:
                amount = parse_quantity(text)
            except ValueError as exc:
                found[label] = str(exc)
                continue
            if amount <= 0:
                found[label] = "must be greater than zero"
            elif amount > line.left:
                found[label] = f"only {quantity_text(line.left)} of the line is left to credit"
            else:
                picked.append({"invoice_line_id": line.invoice_line_id, "quantity": quantity_text(amount)})
        if not picked:
            found.setdefault(
                "", "Type the quantity to credit on at least one line, or credit the whole invoice."
            )
        args["lines"] = picked or None
    elif not any(line.left > 0 for line in lines):
        found[""] = "Everything on this invoice has been credited already."
    _model_problems(IssueCreditNoteArgs, args, found)
    return FormArgs("sales.issue_credit_note", args, found)
