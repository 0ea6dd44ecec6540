"""Fiscal periods: the list, a new period (the next month by default), close and reopen.

Closing a period locks its dates: every dated document in it is refused afterwards, here offline
and again on the server. Before closing, what is still unposted in the period (draft invoices,
payroll runs not posted) is named, since it could not be posted on those dates any more.
Closing and reopening need ``finance.close_period``; the buttons show only to those who hold it.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from common.commands.finance import FISCAL_PERIOD_TRANSITIONS
from common.finance_forms import build_fiscal_period, unposted_in_period
from common.ids import new_id
from common.schema import FiscalPeriod
from desktop.formatting import money
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.qt import QMessageBox
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog, FormField, apply_from_form
from desktop.ui.list_page import ListPage
from desktop.ui.widgets import PageHeader, ask_once, button

COLUMNS = (
    Column("name", "Period", stretch=True),
    Column("start_date", "From", kind="date", width=120),
    Column("end_date", "To", kind="date", width=120),
    Column("status", "Status", kind="status", width=110),
)
FIELDS = (
    FormField("name", "Name", required=True, max_length=40, placeholder="2026-11"),
    FormField("start_date", "From", kind="date", required=True),
    FormField("end_date", "To", kind="date", required=True),
)
CLOSE_PERMISSION = "finance.close_period"
YEAR_FIELDS = (
    FormField("start_date", "From", kind="date", required=True),
    FormField("end_date", "To", kind="date", required=True),
)


def period_source(ctx: UiContext) -> ListSource:
    t = FiscalPeriod.__table__

    def build() -> Any:
        return select(t.c.id, t.c.name, t.c.start_date, t.c.end_date, t.c.status, t.c.updated_at).where(
            live(FiscalPeriod, ctx.session.org_id)
        )

    return ListSource(
        ctx.session.store,
        COLUMNS,
        build,
        search_keys=("name", "status"),
        default_sort="start_date",
        default_descending=True,
    )


def next_month(ctx: UiContext) -> dict[str, str]:
    """The month after the latest period (or this month when there is none)."""
    t = FiscalPeriod.__table__.c
    with ctx.session.store.read_session() as db:
        last = db.execute(select(func.max(t.end_date)).where(live(FiscalPeriod, ctx.session.org_id))).scalar()
    first = (last + timedelta(days=1)) if last else date.today().replace(day=1)
    end = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return {"name": first.strftime("%Y-%m"), "start_date": first.isoformat(), "end_date": end.isoformat()}


@page("finance", "fiscal_periods", "Fiscal periods", writes="finance.create_fiscal_period", position=50)
class FiscalPeriodsPage(ListPage):
    title = "Fiscal periods"
    subtitle = "Close a period once its books are done: nothing dated in it can be posted afterwards."
    noun = "period"
    search_placeholder = "Search by name or status  (Ctrl+F)"
    empty_hint = "Add the first with New period (Ctrl+N); dates outside every period stay open."
    history_entity = "fiscal_period"

    def make_source(self) -> ListSource:
        return period_source(self.ctx)

    @property
    def can_create(self) -> bool:
        return self.ctx.writable

    @property
    def can_close(self) -> bool:
        return self.ctx.can(CLOSE_PERMISSION)

    def add_actions(self, header: PageHeader) -> None:
        self.close_button = button("Close period…", tooltip="Lock the period's dates", danger=True)
        self.reopen_button = button("Reopen", tooltip="Allow postings on the period's dates again")
        self.new_button = button("New period", primary=True, tooltip="Ctrl+N")
        self.year_button = button("Close year…", tooltip="Move a year's result to retained earnings")
        self.year_button.clicked.connect(self.close_year)
        self.close_button.clicked.connect(lambda: self._with_row(self.close_period))
        self.reopen_button.clicked.connect(lambda: self._with_row(self.reopen_period))
        self.new_button.clicked.connect(self.new_item)
        for widget in (self.year_button, self.reopen_button, self.close_button, self.new_button):
            header.add_action(widget)
        self.year_button.setVisible(self.can_close)
        self.close_button.setVisible(self.can_close)
        self.reopen_button.setVisible(self.can_close)
        self.new_button.setVisible(self.ctx.writable)

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        allowed = FISCAL_PERIOD_TRANSITIONS.get(row["status"] if row else "", frozenset())
        self.close_button.setEnabled("closed" in allowed)
        self.reopen_button.setEnabled("open" in allowed)

    def _with_row(self, action: Any) -> None:
        row = self.current_row()
        if row is not None:
            action(row)

    def new_item(self) -> FormDialog | None:
        if not self.can_create:
            return None
        period_id = new_id()

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            built = build_fiscal_period(period_id, raw)
            return built.args, built.problems

        dialog = FormDialog(
            self,
            "New fiscal period",
            FIELDS,
            build=build,
            save=apply_from_form(self.ctx, "finance.create_fiscal_period"),
            initial=next_month(self.ctx),
            save_text="Create period",
        )
        dialog.accepted.connect(lambda: setattr(self, "_kept_id", period_id))
        dialog.open()
        return dialog

    def close_year(self) -> FormDialog | None:
        """Year-end close (``finance.close_year``), last calendar year offered; its result is told."""
        if not self.can_close:
            return None
        last = date.today().year - 1

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            start, end = str(raw.get("start_date") or ""), str(raw.get("end_date") or "")
            problems = {
                key: "is required" for key, value in (("start_date", start), ("end_date", end)) if not value
            }
            if not problems and end < start:  # ISO dates order as text
                problems["end_date"] = "must not be before the start"
            return {"id": new_id(), "start_date": start, "end_date": end}, problems

        def closed(dialog: FormDialog) -> None:
            outcome = dialog.saved_outcome
            data = outcome.data if outcome is not None else {}
            result = money(data["result_minor"], data["currency"]) if "result_minor" in data else None
            if result:  # non-blocking, as every question here (tests find it as year_result)
                self.year_result = QMessageBox(
                    QMessageBox.Icon.Information,
                    "Year closed",
                    f"The year's result, {result}, is now in retained earnings.",
                    parent=self,
                )
                self.year_result.open()

        dialog = FormDialog(
            self,
            "Close a year",
            YEAR_FIELDS,
            build=build,
            save=apply_from_form(self.ctx, "finance.close_year"),
            intro="Posts one entry on the year's last day that moves every income and expense balance of "
            "the year to retained earnings. Anything posted in the year later stays unclosed until the "
            "year is closed again, from the same first day, which then moves just that. To stop late "
            "postings, close the year's periods.",
            initial={"start_date": f"{last}-01-01", "end_date": f"{last}-12-31"},
            save_text="Close year",
        )
        dialog.accepted.connect(lambda: closed(dialog))
        dialog.open()
        return dialog

    def unposted(self, row: dict[str, Any]) -> list[str]:
        session = self.ctx.session
        with session.store.read_session() as db:
            return unposted_in_period(
                db, session.org_id, row["start_date"], row["end_date"], session.permissions
            )

    def close_period(self, row: dict[str, Any]) -> QMessageBox | None:
        """Ask first, naming what is still unposted in the period; then close it."""
        if not self.can_close:
            return None
        waiting = self.unposted(row)
        if waiting:
            shown = "\n".join(f"• {text}" for text in waiting[:20])
            more = f"\n… and {len(waiting) - 20} more" if len(waiting) > 20 else ""
            text = (
                f"Still unposted in {row['name']}:\n{shown}{more}\n\n"
                f"Once {row['name']} is closed these cannot be posted on their dates. Close it anyway?"
            )
        else:
            text = f"Nothing is left unposted in {row['name']}. Close it? Nothing dated in it can be posted afterwards."
        self.question = ask_once(
            self,
            f"Close {row['name']}",
            text,
            "Close period",
            lambda: self._move(row, "finance.close_fiscal_period"),
            stay_text="Keep it open",
        )
        return self.question

    def reopen_period(self, row: dict[str, Any]) -> None:
        if self.can_close:
            self._move(row, "finance.reopen_fiscal_period")

    def _move(self, row: dict[str, Any], command: str) -> None:
        self.ctx.apply(
            self,
            command,
            {"id": row["id"]},
            on_refused=lambda e: QMessageBox.warning(self, "Not changed", e.message),
        )


__all__ = ["FiscalPeriodsPage"]
