"""The textbook month of issue 12, as data: every step a real command, with the figures an
accountant works out by hand. Run on an encrypted desktop store (tests/common) and through the
server over HTTP (tests/e2e); both must end with the same statements.

March 2031, ledger in EUR (amounts in cents):

1. Opening capital: the owner pays in 10,000.00            Dr Bank 10,000.00 / Cr Capital
2. Buy 100 units at 30.00 on credit: order, receive         Dr Inventory 3,000.00 / Cr GRNI
   the supplier's bill, 20 % VAT                            Dr GRNI 3,000.00, Input tax 600.00 / Cr Payables 3,600.00
3. Sell 60 at 50.00 + 20 % VAT on credit: ship              Dr COGS 1,800.00 (60 × 30.00) / Cr Inventory
   invoice                                                  Dr Receivables 3,600.00 / Cr Revenue 3,000.00, Output tax 600.00
4. Receive the customer's payment                           Dr Bank 3,600.00 / Cr Receivables
5. Pay the supplier                                         Dr Payables 3,600.00 / Cr Bank
6. Wages: 2,000.00 gross, 10 % withheld                     Dr Wages 2,000.00 / Cr Withholdings 200.00, Net wages 1,800.00
   paid                                                     Dr Net wages 1,800.00 / Cr Bank

Bank: 10,000 + 3,600 − 3,600 − 1,800 = 8,200.00. Inventory: 3,000 − 1,800 = 1,200.00 (40 left
at 30.00). Receivables, payables, GRNI, net wages: 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from common.ids import new_id

# Trial balance on 2031-03-31, by account code of the default chart: (debit, credit) totals.
TRIAL_BALANCE = {
    "1000": ("13600.00", "5400.00"),  # Bank: 10,000 + 3,600 in; 3,600 + 1,800 out → 8,200 Dr
    "1200": ("3600.00", "3600.00"),  # Receivables: invoiced and paid
    "1300": ("3000.00", "1800.00"),  # Inventory: 100 in at 30, 60 out at 30 → 1,200 Dr
    "1400": ("600.00", "0.00"),  # Input tax on the bill
    "2000": ("3600.00", "3600.00"),  # Payables: billed and paid
    "2100": ("3000.00", "3000.00"),  # GRNI: received, then billed
    "2200": ("0.00", "600.00"),  # Output tax on the invoice
    "2400": ("0.00", "200.00"),  # Withholdings: 10 % of 2,000
    "2420": ("1800.00", "1800.00"),  # Net wages: owed, then paid
    "3000": ("0.00", "10000.00"),  # Capital
    "4000": ("0.00", "3000.00"),  # Revenue: 60 × 50
    "5000": ("1800.00", "0.00"),  # COGS: 60 × 30
    "6000": ("2000.00", "0.00"),  # Wages
}
# Debits: 13,600 + 3,600 + 3,000 + 600 + 3,600 + 3,000 + 1,800 + 1,800 + 2,000 = 33,000.00;
# credits: 5,400 + 3,600 + 1,800 + 3,600 + 3,000 + 600 + 200 + 1,800 + 10,000 + 3,000 = 33,000.00.
TOTAL = "33000.00"
# Income 3,000; expenses 1,800 + 2,000 = 3,800; a loss of 800.
PROFIT_AND_LOSS = {"income": "3000.00", "expenses": "3800.00", "result": "-800.00"}
# Assets 8,200 + 1,200 + 600 = 10,000; liabilities 600 + 200 = 800; equity 10,000 − 800 = 9,200.
BALANCE_SHEET = {"assets": "10000.00", "liabilities": "800.00", "equity": "9200.00"}
START, END = "2031-03-01", "2031-03-31"


@dataclass
class Month:
    """Ids of the month's records, fixed up front so each side can name them."""

    ids: dict[str, str] = field(default_factory=lambda: {key: new_id() for key in _KEYS})

    def steps(self, org_id: str) -> list[tuple[str, str, dict[str, Any]]]:
        """``(role, command, args)`` in order; the role is the demo user who would do it."""
        from common.commands.postings import chart_account_id

        i = self.ids
        return [
            ("accountant", "finance.post_journal_entry", {
                "id": i["capital"], "entry_date": START, "currency": "EUR", "memo": "Opening capital",
                "lines": [{"account_id": chart_account_id(org_id, "1000"), "debit": 1_000_000},
                          {"account_id": chart_account_id(org_id, "3000"), "credit": 1_000_000}]}),
            ("accountant", "finance.create_tax_rate", {"id": i["vat"], "code": f"VAT{i['vat'][-6:]}",
                                                       "name": "VAT 20 %", "rate": "20"}),
            ("warehouse", "inventory.create_warehouse", {"id": i["warehouse"], "code": f"W{i['warehouse'][-6:]}",
                                                         "name": "Main"}),
            ("warehouse", "inventory.create_product", {"id": i["product"], "sku": f"CH-{i['product'][-6:]}",
                                                       "name": "Chair", "sale_price": 5_000, "currency": "EUR"}),
            ("warehouse", "inventory.create_supplier", {"id": i["supplier"], "name": "Chairs Ltd", "currency": "EUR"}),
            ("warehouse", "inventory.create_purchase_order", {
                "id": i["order"], "supplier_id": i["supplier"], "warehouse_id": i["warehouse"],
                "lines": [{"id": i["order_line"], "product_id": i["product"], "quantity": "100", "unit_cost": 3_000}]}),
            ("warehouse", "inventory.order_purchase_order", {"id": i["order"]}),
            ("warehouse", "inventory.receive_purchase_order", {"id": i["order"],
                                                               "received_at": "2031-03-02T09:00:00+00:00"}),
            ("accountant", "finance.record_supplier_bill", {
                "id": i["bill"], "supplier_id": i["supplier"], "purchase_order_id": i["order"],
                "supplier_reference": "CL-1001", "bill_date": "2031-03-03", "due_date": "2031-04-02",
                "lines": [{"id": i["bill_line"], "purchase_order_line_id": i["order_line"], "quantity": "100",
                           "unit_price": 3_000, "tax_rate_id": i["vat"]}]}),
            ("sales", "sales.create_customer", {"id": i["customer"], "name": "Office Oy", "currency": "EUR"}),
            ("sales", "sales.create_sales_order", {
                "id": i["sale"], "customer_id": i["customer"], "warehouse_id": i["warehouse"], "order_date": "2031-03-05",
                "lines": [{"id": i["sale_line"], "product_id": i["product"], "quantity": "60", "unit_price": 5_000,
                           "tax_rate_id": i["vat"]}]}),
            ("sales", "sales.confirm_sales_order", {"id": i["sale"]}),
            ("sales", "sales.fulfil_sales_order", {"id": i["sale"], "fulfilled_at": "2031-03-05T10:00:00+00:00"}),
            ("sales", "sales.create_invoice", {"id": i["invoice"], "sales_order_id": i["sale"],
                                               "issue_date": "2031-03-05", "due_date": "2031-04-04"}),
            ("sales", "sales.post_invoice", {"id": i["invoice"]}),
            ("sales", "sales.record_payment", {"id": i["payment"], "invoice_id": i["invoice"], "amount": 360_000,
                                               "paid_on": "2031-03-20"}),
            ("accountant", "finance.record_supplier_payment", {"id": i["supplier_payment"], "supplier_bill_id": i["bill"],
                                                               "amount": 360_000, "paid_on": "2031-03-25"}),
            ("hr", "hr.create_employee", {"id": i["employee"], "name": "Wendy Worker", "hire_date": "2030-01-01",
                                          "salary": 200_000, "salary_currency": "EUR"}),
            ("hr", "hr.run_payroll", {"id": i["payroll"], "period_start": START, "period_end": END, "currency": "EUR",
                                      "withholding_rate": "10"}),
            ("hr", "hr.approve_payroll_run", {"id": i["payroll"]}),
            ("hr", "hr.post_payroll_run", {"id": i["payroll"]}),
            ("hr", "hr.pay_payroll_run", {"id": i["payroll_payment"], "payroll_run_id": i["payroll"],
                                          "paid_on": END}),
        ]  # fmt: skip


_KEYS = (
    "capital", "vat", "warehouse", "product", "supplier", "order", "order_line", "bill", "bill_line", "customer",
    "sale", "sale_line", "invoice", "payment", "supplier_payment", "employee", "payroll", "payroll_payment",
)  # fmt: skip


def check_statements(
    trial_balance: dict[str, Any], profit_and_loss: dict[str, Any], balance_sheet: dict[str, Any]
) -> None:
    """The three statements of the month, as worked out above (report wire form)."""
    found = {row["code"]: (row["debit"], row["credit"]) for row in trial_balance["rows"]}
    assert found == TRIAL_BALANCE
    assert trial_balance["totals"] == {"debit": TOTAL, "credit": TOTAL}
    assert profit_and_loss["totals"] == PROFIT_AND_LOSS
    amounts = {row["code"]: (row["amount"], row["previous"]) for row in profit_and_loss["rows"]}
    # February, the month before, had nothing.
    assert amounts == {"4000": ("3000.00", "0.00"), "5000": ("1800.00", "0.00"), "6000": ("2000.00", "0.00")}
    assert balance_sheet["totals"] == BALANCE_SHEET
    assert balance_sheet["rows"][-1] == {
        "account_id": None, "code": None, "name": "Result not yet closed", "type": "equity", "amount": "-800.00",
    }  # fmt: skip
