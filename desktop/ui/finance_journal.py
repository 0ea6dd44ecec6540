"""Journal entries: the list, a debit/credit grid balanced as you type, and reversal.

An entry is posted once and never edited; a mistake is corrected by reversing it (the exact
opposite, posted on the date chosen). The grid shows the totals and the difference while typing;
Post stays disabled until debits equal credits. Amounts are typed in the user's locale; text
that is not exactly one amount there is refused with the line and column named.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.commands import CommandError
from common.commands.finance import YEAR_END
from common.finance_forms import JournalLineInput, build_journal_entry, line_refusal
from common.ids import new_id
from common.schema import Account, JournalEntry, JournalLine
from desktop.formatting import money, money_input, number_example
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.qt import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    Qt,
    QTableWidget,
    QWidget,
)
from desktop.ui.context import UiContext
from desktop.ui.finance_common import account_choices, fill_accounts, ledger_currency, parse_amount
from desktop.ui.forms import FormDialog, FormField
from desktop.ui.line_grid import LineGridBox
from desktop.ui.list_page import ListPage
from desktop.ui.widgets import PageHeader, button
from desktop.validation import refusal_field

SOURCES = {
    "manual": "Manual",
    "reversal": "Reversal",
    "supplier_bill": "Supplier bill",
    "supplier_payment": "Supplier payment",
    "invoice": "Invoice",
    "payment": "Customer payment",
    "credit_note": "Credit note",
    "stock_move": "Stock",
    "payroll_run": "Payroll",
    "year_end": "Year end",
}
COLUMNS = (
    Column("number", "Number", width=170),
    Column("entry_date", "Date", kind="date", width=110),
    Column("source_title", "Source", width=150, sortable=False),
    Column("memo", "Memo", stretch=True),
    Column("amount", "Amount", kind="money", width=150, sortable=False),
)
HEADER_FIELDS = (
    FormField("entry_date", "Date", kind="date", required=True),
    FormField("memo", "Memo", max_length=500, placeholder="What the entry is for"),
)
GRID_COLUMNS = ("Account", "Debit", "Credit", "Memo", "")
START_ROWS = 4


def entry_source(ctx: UiContext, currency: str, source: str | None = None) -> ListSource:
    e = JournalEntry.__table__

    def build() -> Any:
        stmt = select(
            e.c.id, e.c.number, e.c.entry_date, e.c.memo, e.c.source, e.c.source_id, e.c.reverses_entry_id,
            e.c.updated_at,
        ).where(live(JournalEntry, ctx.session.org_id))  # fmt: skip
        return stmt.where(e.c.source == source) if source else stmt

    def decorate(db: Session, rows: list[dict[str, Any]]) -> None:
        """The page's amounts (sum of debits) and reversals, one query each for the page."""
        ids = [row["id"] for row in rows]
        line = JournalLine.__table__.c
        sums = dict(
            db.execute(
                select(line.journal_entry_id, func.sum(line.debit))
                .where(line.org_id == ctx.session.org_id, line.journal_entry_id.in_(ids))
                .group_by(line.journal_entry_id)
            ).all()
        )
        reversals = dict(
            db.execute(
                # Reversals are entries of source "reversal": the source index finds them without
                # reading every entry (there is no index on reverses_entry_id).
                select(e.c.reverses_entry_id, e.c.number).where(
                    live(JournalEntry, ctx.session.org_id),
                    e.c.source == "reversal",
                    e.c.reverses_entry_id.in_(ids),
                )
            ).all()
        )
        for row in rows:
            row["amount"] = int(sums.get(row["id"]) or 0)
            row["currency"] = currency
            row["source_title"] = SOURCES.get(
                row["source"], str(row["source"]).replace("_", " ").capitalize()
            )
            row["reversed_by"] = reversals.get(row["id"], "")

    return ListSource(
        ctx.session.store,
        COLUMNS,
        build,
        search_keys=("number", "memo", "source"),
        default_sort="entry_date",
        default_descending=True,
        decorate=decorate,
        search_table="journal_entry",
    )


def entry_lines(ctx: UiContext, entry_id: str) -> list[dict[str, Any]]:
    line, account = JournalLine.__table__.c, Account.__table__.c
    with ctx.session.store.read_session() as db:
        rows = db.execute(
            select(line.account_id, line.debit, line.credit, line.memo, account.code, account.name)
            .join(Account.__table__, (account.org_id == line.org_id) & (account.id == line.account_id))
            .where(live(JournalLine, ctx.session.org_id), line.journal_entry_id == entry_id)
            .order_by(line.line_no)
        ).mappings()
        return [dict(r) for r in rows]


@page("finance", "journal", "Journal entries", writes="finance.post_journal_entry", position=20)
class JournalPage(ListPage):
    title = "Journal entries"
    subtitle = "Every posting of the ledger, typed here or made by documents. Posted entries are reversed, not edited."
    noun = "journal entry"
    noun_plural = "journal entries"
    search_placeholder = "Search by number, memo or source  (Ctrl+F)"
    empty_hint = "Post one with New entry (Ctrl+N); bills, invoices and stock moves post their own."
    history_entity = "journal_entry"

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        self.currency = ledger_currency(ctx.session)
        self.source_filter: str | None = None
        super().__init__(ctx, parent)

    def make_source(self) -> ListSource:
        return entry_source(self.ctx, self.currency, self.source_filter)

    def add_filters(self, bar: QHBoxLayout) -> None:
        self.source_box = QComboBox()
        self.source_box.addItem("All sources", None)
        for key, title in SOURCES.items():
            self.source_box.addItem(title, key)
        self.source_box.currentIndexChanged.connect(self._filter)
        bar.addWidget(self.source_box)

    def _filter(self) -> None:
        self.source_filter = self.source_box.currentData()
        self.model.source = self.source = self.make_source()
        self.model.reload()

    def export_filters(self) -> list[str]:
        return [f"Source: {self.source_box.currentText()}"] if self.source_filter else []

    @property
    def can_create(self) -> bool:
        return self.ctx.writable

    def add_actions(self, header: PageHeader) -> None:
        self.view_button = button("View…", tooltip="The lines of the selected entry (Enter)")
        self.reverse_button = button("Reverse…", tooltip="Post the exact opposite of the selected entry")
        self.new_button = button("New entry", primary=True, tooltip="Ctrl+N")
        self.view_button.clicked.connect(self.open_current)
        self.reverse_button.clicked.connect(lambda: self._with_row(self.reverse))
        self.new_button.clicked.connect(self.new_item)
        for widget in (self.view_button, self.reverse_button, self.new_button):
            header.add_action(widget)
        self.reverse_button.setVisible(self.ctx.writable)
        self.new_button.setVisible(self.ctx.writable)

    def selection_changed(self, row: dict[str, Any] | None) -> None:
        self.view_button.setEnabled(row is not None)
        closing = row is not None and row.get("source") == YEAR_END
        # Reversing a year's closing reopens the year: closing's permission, not posting's.
        allowed = not closing or self.ctx.can("finance.close_period")
        self.reverse_button.setEnabled(
            row is not None and not row.get("reverses_entry_id") and not row.get("reversed_by") and allowed
        )
        self.reverse_button.setToolTip(
            "Post the exact opposite of the selected entry"
            if allowed
            else "Reversing a year-end closing reopens the year: it needs the permission finance.close_period"
        )

    def _with_row(self, action: Any) -> None:
        row = self.current_row()
        if row is not None:
            action(row)

    def new_item(self) -> JournalEntryDialog | None:
        if not self.can_create:
            return None
        dialog = JournalEntryDialog(self, self.ctx, self.currency)
        dialog.accepted.connect(lambda: self.after_post(dialog.entry_id))
        dialog.open()
        return dialog

    def after_post(self, entry_id: str) -> None:
        self._kept_id = entry_id

    def open_row(self, row: dict[str, Any]) -> JournalEntryDialog:
        dialog = JournalEntryDialog(self, self.ctx, self.currency, row)
        dialog.open()
        return dialog

    def reverse(self, row: dict[str, Any]) -> FormDialog:
        reversal_id = new_id()

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            args = {"id": reversal_id, "entry_id": row["id"], "entry_date": raw.get("entry_date") or None}
            if (raw.get("memo") or "").strip():
                args["memo"] = raw["memo"].strip()
            return args, ({} if args["entry_date"] else {"entry_date": "is required"})

        def save(dialog: FormDialog, args: dict[str, Any]) -> None:
            self.ctx.apply(
                dialog,
                "finance.reverse_journal_entry",
                args,
                on_done=dialog.saved,
                on_refused=dialog.refused,
                on_error=dialog.failed,
                busy_text="Posting…",
            )

        closing = row.get("source") == YEAR_END
        intro = f"Posts the exact opposite of {row['number']} ({money(row['amount'], self.currency)}). "
        initial = {"memo": f"Reversal of {row['number']}"}
        if closing:
            # Dated on the closing's own day (the command refuses any other): the year's result
            # is back on its accounts until the year is closed again.
            intro += (
                "It closed a year: reversed on its own date, the year is open again until it is closed again."
            )
            initial["entry_date"] = str(row["entry_date"])
        else:
            intro += "The entry itself stays as it was."
        dialog = FormDialog(
            self,
            f"Reverse entry {row['number']}",
            HEADER_FIELDS,
            build=build,
            save=save,
            intro=intro,
            initial=initial,
            save_text="Post reversal",
        )
        if closing:
            dialog.inputs["entry_date"].setEnabled(False)
        dialog.accepted.connect(lambda: self.after_post(reversal_id))
        dialog.open()
        return dialog


class JournalGrid(QTableWidget):
    """Rows of account, debit, credit and memo; typing in the last row adds a new one."""

    def __init__(self, dialog: JournalEntryDialog, choices: list[tuple[str, str]]) -> None:
        super().__init__(0, len(GRID_COLUMNS))
        self.dialog = dialog
        self.choices = choices
        self.setHorizontalHeaderLabels(list(GRID_COLUMNS))
        self.verticalHeader().setVisible(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 130), (2, 130), (3, 200), (4, 44)):
            header.resizeSection(column, width)
        self.verticalHeader().setDefaultSectionSize(36)
        self.setMinimumHeight(240)

    def add_row(
        self, account_id: str | None = None, debit: str = "", credit: str = "", memo: str = ""
    ) -> int:
        row = self.rowCount()
        self.insertRow(row)
        combo = QComboBox()
        fill_accounts(combo, self.choices)
        if account_id:
            combo.setCurrentIndex(max(0, combo.findData(account_id)))
        combo.currentIndexChanged.connect(lambda *_: self.dialog.grid_changed())
        self.setCellWidget(row, 0, combo)
        for column, text in ((1, debit), (2, credit), (3, memo)):
            edit = QLineEdit(text)
            if column in (1, 2):
                edit.setAlignment(Qt.AlignmentFlag.AlignRight)
                edit.setPlaceholderText(number_example())
                edit.setMaxLength(24)
            else:
                edit.setMaxLength(500)
            edit.textChanged.connect(lambda *_: self.dialog.grid_changed())
            self.setCellWidget(row, column, edit)
        remove = button("×", tooltip="Remove this line")
        remove.setObjectName("lineRemove")
        remove.setAccessibleName("Remove this line")
        remove.clicked.connect(lambda: self.remove_row(self.indexAt(remove.pos()).row()))
        self.setCellWidget(row, 4, remove)
        return row

    def remove_row(self, row: int) -> None:
        if 0 <= row < self.rowCount():
            self.removeRow(row)
            self.dialog.grid_changed()

    def combo(self, row: int) -> QComboBox:
        widget = self.cellWidget(row, 0)
        assert isinstance(widget, QComboBox)
        return widget

    def cell(self, row: int, column: int) -> QLineEdit:
        widget = self.cellWidget(row, column)
        assert isinstance(widget, QLineEdit)
        return widget

    def inputs(self) -> list[JournalLineInput]:
        return [
            JournalLineInput(
                self.combo(row).currentData(),
                self.cell(row, 1).text(),
                self.cell(row, 2).text(),
                self.cell(row, 3).text(),
            )
            for row in range(self.rowCount())
        ]

    def set_line(
        self, row: int, account_id: str | None, debit: str = "", credit: str = "", memo: str = ""
    ) -> None:
        """Fill row ``row`` (tests and the keyboard-free path), adding rows up to it."""
        while self.rowCount() <= row:
            self.add_row()
        combo = self.combo(row)
        combo.setCurrentIndex(max(0, combo.findData(account_id)))
        self.cell(row, 1).setText(debit)
        self.cell(row, 2).setText(credit)
        self.cell(row, 3).setText(memo)

    def set_editable(self, editable: bool) -> None:
        for row in range(self.rowCount()):
            for column in range(len(GRID_COLUMNS)):
                widget = self.cellWidget(row, column)
                if widget is not None:
                    widget.setEnabled(editable)
        self.setColumnHidden(4, not editable)


class JournalEntryDialog(FormDialog):
    """A new entry typed in the grid (Post once balanced), or a posted entry shown read-only."""

    def __init__(
        self, parent: QWidget, ctx: UiContext, currency: str, entry: dict[str, Any] | None = None
    ) -> None:
        self.ctx = ctx
        self.currency = currency
        self.entry = entry
        self.entry_id = entry["id"] if entry else new_id()
        self.grid: JournalGrid | None = None
        self.balanced = False
        self.sent_rows: list[int] = []
        title = "New journal entry" if entry is None else f"Journal entry {entry['number']}"
        super().__init__(
            parent,
            title,
            HEADER_FIELDS,
            build=self.build_args,
            save=self.post,
            save_text="Post",
            intro=f"Amounts in {currency}. Each line is a debit or a credit; the entry posts once they balance."
            if entry is None
            else "",
        )
        self.setMinimumWidth(860)
        self.grid = JournalGrid(
            self, account_choices(ctx.session) if entry is None else self._entry_choices()
        )
        box = LineGridBox(self.grid, add_tip="Add a row to the grid", on_add=self.grid.add_row)
        self.totals_label, self.add_button = box.totals_label, box.add_button
        self.totals_label.setObjectName("journalTotals")
        box.place_in(self)
        if entry is None:
            for _ in range(START_ROWS):
                self.grid.add_row()
        else:
            self.set_value("entry_date", str(entry["entry_date"]))
            self.set_value("memo", entry.get("memo") or "")
            for line in entry_lines(ctx, entry["id"]):
                self.grid.add_row(
                    line["account_id"],
                    money_input(line["debit"], currency) if line["debit"] else "",
                    money_input(line["credit"], currency) if line["credit"] else "",
                    line["memo"] or "",
                )
            for widget in self.inputs.values():
                widget.setEnabled(False)
            self.grid.set_editable(False)
            self.add_button.hide()
            self.save_button.hide()
            self.cancel_button.setText("Close")
        self.touched.clear()
        self.validate()

    def _entry_choices(self) -> list[tuple[str, str]]:
        assert self.entry is not None
        return [
            (line["account_id"], f"{line['code']} — {line['name']}")
            for line in entry_lines(self.ctx, self.entry["id"])
        ]

    def grid_changed(self) -> None:
        self.touched.add("grid")
        grid = self.grid
        if grid is not None and grid.rowCount():
            last = grid.inputs()[-1]
            if not last.blank and self.entry is None:
                grid.add_row()  # always one empty row to type into
        self.validate()

    def loose_problem_visible(self, key: str) -> bool:
        return super().loose_problem_visible(key) or "grid" in self.touched

    def snapshot(self) -> Any:
        grid = self.grid
        return (self.raw(), grid.inputs() if grid is not None else [])

    def build_args(self, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        lines = self.grid.inputs() if self.grid is not None else []
        built = build_journal_entry(self.entry_id, raw, lines, self.currency, parse_amount)
        extra = built.extra
        self.sent_rows = list(extra["rows"])
        self.balanced = bool(extra["balanced"])
        difference = extra["difference"]
        text = (
            f"Debit {money(extra['debit'], self.currency)}   Credit {money(extra['credit'], self.currency)}"
        )
        if difference:
            side = "more debit" if difference > 0 else "more credit"
            text += f"   Difference {money(abs(difference), self.currency)} ({side})"
        elif extra["debit"]:
            text += "   Balanced"
        if hasattr(self, "totals_label"):
            self.totals_label.setText(text)
            self.totals_label.setProperty("invalid", bool(difference))
        found = dict(built.problems)
        if found.pop("balance", None) is not None and not found:
            found[""] = f"Debits and credits differ by {money(abs(difference), self.currency)}."
        return built.args, found

    def validate(self) -> tuple[dict[str, Any], dict[str, str]]:
        args, found = super().validate()
        if self.entry is None and not self.saving:
            self.save_button.setEnabled(self.balanced)
        return args, found

    def refused(self, error: CommandError) -> None:
        """A refused line is named by its row (``Line 3 account: …``), never by its args path."""
        key, phrase = refusal_field(error)
        said = line_refusal(key, phrase, self.sent_rows)
        if said is None:
            super().refused(error)
            return
        self.set_saving(False)
        self.show_form_error(said)

    def post(self, dialog: FormDialog, args: dict[str, Any]) -> None:
        self.ctx.apply(
            self,
            "finance.post_journal_entry",
            args,
            on_done=self.saved,
            on_refused=self.refused,
            on_error=self.failed,
            busy_text="Posting…",
        )
