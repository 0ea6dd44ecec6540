"""Finance reports on screen: trial balance, profit and loss beside the previous period,
balance sheet, general ledger and tax summary, each with date controls and drill-down.

Drill-down: an account's figure (trial balance, profit and loss, balance sheet) opens the
general ledger of that account for the figure's period in a dialog; a tax rate's figure opens
the document lines it sums; a ledger or tax line opens its source document, read-only. Every
page opens with its report's permission (``common.reports.REPORTS``); the reports are the ones
the server answers (``common.reports``), run on the local store, so they work offline.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from common.reports import report_permission
from desktop.modules import page
from desktop.qt import QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, Qt, QVBoxLayout, QWidget
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.reports_data import account_choices
from desktop.ui.reports_drill import SourceDocumentDialog, TaxLinesDialog
from desktop.ui.reports_view import (
    ReportColumn,
    ReportPage,
    amount_text,
    decimal_sum,
    heading_row,
    locale_date,
    locale_month,
    total_row,
)
from desktop.ui.widgets import label

CODE = ReportColumn("code", "Account", width=90)
NAME = ReportColumn("name", "Name", stretch=True)
TYPE_TITLES = {"asset": "Assets", "liability": "Liabilities", "equity": "Equity", "income": "Income",
               "expense": "Expenses"}  # fmt: skip


def _dates(made: dict[str, Any], start: str = "from", end: str = "to") -> tuple[date, date]:
    params = made["params"]
    return date.fromisoformat(params[start]), date.fromisoformat(params[end])


def open_ledger(
    parent: QWidget, ctx: UiContext, account_id: str, start: date, end: date, what: str = ""
) -> LedgerDialog:
    """The general ledger of one account between two dates, in a dialog (a figure's lines)."""
    dialog = LedgerDialog(parent, ctx, account_id, start, end, what)
    dialog.open()
    return dialog


class AccountFigures(ReportPage):
    """A statement of accounts: a double-click on an account's row opens its lines."""

    def account_drill(self, row: dict[str, Any], start: date, end: date) -> LedgerDialog | None:
        account_id = row.get("account_id")
        if not account_id or self.made is None:
            return None
        return open_ledger(self, self.ctx, account_id, start, end, f"{row['code']} {row['name']}")


@page("finance", "trial_balance", "Trial balance", opens=report_permission("trial_balance"), position=200)
class TrialBalancePage(AccountFigures):
    report = "trial_balance"
    title = "Trial balance"
    subtitle = "Debits and credits of every account up to the period's last day."
    red_negatives = False  # a credit balance is no warning here
    columns = (
        CODE,
        NAME,
        ReportColumn("type_title", "Type", width=100),
        ReportColumn("debit", "Debit", "amount", 130),
        ReportColumn("credit", "Credit", "amount", 130),
        ReportColumn("balance", "Balance", "amount", 130),
    )

    def params(self) -> dict[str, str]:
        return {"as_of": self.period.range()[1].isoformat()}

    def arrange(self, made: dict[str, Any]) -> list[dict[str, Any]]:
        rows = [{**row, "type_title": TYPE_TITLES.get(row["type"], row["type"])} for row in made["rows"]]
        totals = made["totals"]
        balance = str(Decimal(totals["debit"]) - Decimal(totals["credit"]))
        return [*rows, total_row("Total", debit=totals["debit"], credit=totals["credit"], balance=balance)]

    def summary(self, made: dict[str, Any]) -> str:
        totals = made["totals"]
        state = "balanced" if totals["debit"] == totals["credit"] else "NOT balanced"
        return f"As of {locale_date(made['params']['as_of'])}: debits and credits are {state}."

    def drill(self, row: dict[str, Any], key: str) -> Any:
        return self.account_drill(row, *self.period.range())


@page(
    "finance", "profit_and_loss", "Profit and loss", opens=report_permission("profit_and_loss"), position=210
)
class ProfitAndLossPage(AccountFigures):
    report = "profit_and_loss"
    title = "Profit and loss"
    subtitle = "Income and expenses of the period, beside the period of the same length just before it."
    columns = (
        CODE,
        NAME,
        ReportColumn("amount", "This period", "amount", 140),
        ReportColumn("previous", "Previous period", "amount", 140),
    )

    def arrange(self, made: dict[str, Any]) -> list[dict[str, Any]]:
        shown: list[dict[str, Any]] = []
        sums = {}
        for kind in ("income", "expense"):
            rows = [row for row in made["rows"] if row["type"] == kind]
            sums[kind] = (decimal_sum(rows, "amount"), decimal_sum(rows, "previous"))
            shown.append(heading_row(TYPE_TITLES[kind]))
            shown.extend(rows)
            shown.append(
                total_row(f"Total {TYPE_TITLES[kind].lower()}", amount=sums[kind][0], previous=sums[kind][1])
            )
        result = [str(Decimal(i) - Decimal(e)) for i, e in zip(sums["income"], sums["expense"], strict=True)]
        shown.append(total_row("Result", amount=result[0], previous=result[1]))
        return shown

    def summary(self, made: dict[str, Any]) -> str:
        before = _dates(made, "previous_from", "previous_to")
        result = Decimal(made["totals"]["result"])
        word = "Profit" if result >= 0 else "Loss"
        return (f"{word} {amount_text(abs(result), made['currency'])} {made['currency']}; previous period "
                f"{locale_date(before[0])} – {locale_date(before[1])}.")  # fmt: skip

    def drill(self, row: dict[str, Any], key: str) -> Any:
        if self.made is None:
            return None
        if key == "previous":
            return self.account_drill(row, *_dates(self.made, "previous_from", "previous_to"))
        return self.account_drill(row, *_dates(self.made))


@page("finance", "balance_sheet", "Balance sheet", opens=report_permission("balance_sheet"), position=220)
class BalanceSheetPage(AccountFigures):
    report = "balance_sheet"
    title = "Balance sheet"
    subtitle = (
        "Assets, liabilities and equity on the period's last day; equity includes the result not yet closed."
    )
    columns = (CODE, NAME, ReportColumn("amount", "Amount", "amount", 150))

    def params(self) -> dict[str, str]:
        return {"as_of": self.period.range()[1].isoformat()}

    def arrange(self, made: dict[str, Any]) -> list[dict[str, Any]]:
        totals = made["totals"]
        shown: list[dict[str, Any]] = []
        for kind, total in (("asset", "assets"), ("liability", "liabilities"), ("equity", "equity")):
            shown.append(heading_row(TYPE_TITLES[kind]))
            shown.extend(row for row in made["rows"] if row["type"] == kind)
            shown.append(total_row(f"Total {TYPE_TITLES[kind].lower()}", amount=totals[total]))
        both = str(Decimal(totals["liabilities"]) + Decimal(totals["equity"]))
        shown.append(total_row("Liabilities and equity", amount=both))
        return shown

    def summary(self, made: dict[str, Any]) -> str:
        totals = made["totals"]
        both = Decimal(totals["liabilities"]) + Decimal(totals["equity"])
        state = "balances" if Decimal(totals["assets"]) == both else "does NOT balance"
        return f"As of {locale_date(made['params']['as_of'])} the balance sheet {state}."

    def drill(self, row: dict[str, Any], key: str) -> Any:
        return self.account_drill(row, *self.period.range())


@page("finance", "general_ledger", "General ledger", opens=report_permission("general_ledger"), position=230)
class GeneralLedgerPage(ReportPage):
    report = "general_ledger"
    title = "General ledger"
    subtitle = "One account's lines with a running balance from its opening balance."
    hint = "Double-click a line to open its source document."
    empty_title = "No lines in this period"
    empty_hint = "Choose another account or period."
    columns = (
        ReportColumn("date", "Date", "date", 95),
        ReportColumn("entry", "Entry", width=150),
        ReportColumn("source", "Source", "source", 150),
        ReportColumn("memo", "Memo", stretch=True),
        ReportColumn("debit", "Debit", "amount", 100),
        ReportColumn("credit", "Credit", "amount", 100),
        ReportColumn("balance", "Balance", "amount", 110),
    )

    def __init__(
        self,
        ctx: UiContext,
        parent: QWidget | None = None,
        *,
        account_id: str | None = None,
        start: date | None = None,
        end: date | None = None,
        today: date | None = None,
    ) -> None:
        self.initial_account = account_id
        super().__init__(ctx, parent, start=start, end=end, today=today)
        self.account.currentIndexChanged.connect(self.schedule)

    def add_controls(self, bar: QHBoxLayout) -> None:
        self.account = QComboBox()
        # as wide as a usual account's name, not the chart's longest (the controls fit 1280 px)
        self.account.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.account.setMinimumContentsLength(26)
        self.fill_accounts(self.initial_account)
        bar.addWidget(label("Account", "muted"))
        bar.addWidget(self.account)

    def fill_accounts(self, chosen: str | None) -> None:
        """The chart in code order (tens of rows: one small query, read where it is shown)."""
        with self.ctx.session.store.read_session() as db:
            accounts = account_choices(db, self.ctx.session.org_id)
        self.account.blockSignals(True)
        try:
            self.account.clear()
            self.account.addItem("Choose an account…", None)
            for account in accounts:
                archived = " (archived)" if account["archived"] else ""
                self.account.addItem(f"{account['code']} {account['name']}{archived}", account["id"])
            self.account.setCurrentIndex(max(0, self.account.findData(chosen)) if chosen else 0)
        finally:
            self.account.blockSignals(False)

    def refresh(self) -> None:
        self.fill_accounts(self.account.currentData())  # a new account appears at the next change
        super().refresh()

    def params(self) -> dict[str, str]:
        start, end = self.period.range()
        return {"from": start.isoformat(), "to": end.isoformat(), "account": self.account.currentData() or ""}

    def problem(self) -> str | None:
        if not self.account.currentData():
            return "Choose an account to see its lines."
        return super().problem()

    def arrange(self, made: dict[str, Any]) -> list[dict[str, Any]]:
        totals = made["totals"]
        opening = {"memo": "Opening balance", "balance": totals["opening"], "_style": "total"}
        closing = total_row("", memo="Total and closing balance", debit=totals["debit"], credit=totals["credit"],
                            balance=totals["closing"])  # fmt: skip
        return [opening, *made["rows"], closing]

    def is_empty(self, made: dict[str, Any]) -> bool:
        return not made["rows"] and Decimal(made["totals"]["opening"]) == 0

    def summary(self, made: dict[str, Any]) -> str:
        count = len(made["rows"])
        return f"{count} line{'s' if count != 1 else ''}; closing balance {amount_text(made['totals']['closing'], made['currency'])}."

    def drill(self, row: dict[str, Any], key: str) -> Any:
        if not row.get("entry"):
            return None
        dialog = SourceDocumentDialog(self, self.ctx, entry_number=row["entry"])
        dialog.open()
        return dialog


class LedgerDialog(QDialog):
    """A figure's journal lines: the general ledger page for one account and period."""

    def __init__(
        self, parent: QWidget, ctx: UiContext, account_id: str, start: date, end: date, what: str
    ) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"Lines of {what}" if what else "Journal lines")
        self.resize(1100, 640)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, theme.SPACING)
        self.ledger = GeneralLedgerPage(ctx, self, account_id=account_id, start=start, end=end)
        self.ledger.header.title.setText(f"Lines of {what}" if what else "Journal lines")
        layout.addWidget(self.ledger, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.setContentsMargins(theme.PAGE_MARGIN, 0, theme.PAGE_MARGIN, 0)
        layout.addWidget(buttons)


@page("finance", "tax_summary", "Tax summary", opens=report_permission("tax_summary"), position=240)
class TaxSummaryPage(ReportPage):
    report = "tax_summary"
    title = "Tax summary"
    subtitle = "Output tax (invoices less credit notes) and input tax (supplier bills) per rate and month."
    hint = "Double-click a figure to see the document lines it sums."
    columns = (
        ReportColumn("period", "Month", "month", 130),
        ReportColumn("code", "Tax rate", stretch=True),
        ReportColumn("rate", "Rate", "rate", 80),
        ReportColumn("output_base", "Sales taxable", "amount", 130),
        ReportColumn("output_tax", "Output tax", "amount", 120),
        ReportColumn("input_base", "Purchases taxable", "amount", 150),
        ReportColumn("input_tax", "Input tax", "amount", 120),
    )

    def arrange(self, made: dict[str, Any]) -> list[dict[str, Any]]:
        rows = [{**row, "code": row["code"] or "No tax rate"} for row in made["rows"]]
        totals = {key: value for key, value in made["totals"].items() if key != "payable"}
        return [*rows, total_row("", code="Total", **totals)]

    def summary(self, made: dict[str, Any]) -> str:
        payable = Decimal(made["totals"]["payable"])
        word = "Tax payable" if payable >= 0 else "Tax refundable"
        return f"{word}: {amount_text(abs(payable), made['currency'])} {made['currency']}."

    def drill(self, row: dict[str, Any], key: str) -> Any:
        if self.made is None or row.get("_style"):
            return None
        start, end = _dates(self.made)
        month = date.fromisoformat(f"{row['period']}-01")
        month_end = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        first, last = max(start, month), min(end, date.fromordinal(month_end.toordinal() - 1))
        side = "output" if key.startswith("output") else "input" if key.startswith("input") else None
        what = f"{row['code']} — {locale_month(row['period'])}"
        if side is not None:
            what = f"{'Output' if side == 'output' else 'Input'} tax {what}"
        dialog = TaxLinesDialog(self, self.ctx, row.get("tax_rate_id"), first, last, side, what)
        dialog.open()
        return dialog
