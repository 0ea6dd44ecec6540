"""Payroll runs: create a run for a period, check its preview, approve, post, pay, reverse.

A new run is a draft: every payslip it would issue is computed (``hr.run_payroll``) and shown
below the list — per employee the paid working days of the period (the proration), gross pay,
deductions, employer contributions and net pay. Approving it, posting it to the books (once: a
posted run's Post button is disabled and the command refuses a second post) and paying it follow
the run's life cycle (``common.commands.payroll.RUN_TRANSITIONS``). A posted run is corrected by a
reversing run, never edited.

Payslip PDFs and the SEPA payment file are made by :mod:`common.payroll_documents`;
:meth:`PayrollRunsPage.print_payslip` and :meth:`PayrollRunsPage.save_sepa_file` are where the
screen hands over to them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from common.hr_forms import SENSITIVE_NOTICE, build_payroll_run, month_bounds, proration_text, run_actions
from common.ids import new_id
from common.schema import Employee, PayrollRun, Payslip
from desktop.formatting import money, parse_quantity_input, status
from desktop.lists import Column, ListSource, live
from desktop.modules import page
from desktop.qt import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QKeyEvent,
    QMessageBox,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.forms import FormDialog, FormField, apply_from_form
from desktop.ui.list_page import ListPage, column_width
from desktop.ui.payroll_payslip import PayslipDialog
from desktop.ui.printing import PrintPreview, print_document
from desktop.ui.products import CURRENCY_CHOICES
from desktop.ui.table_model import LazyTableModel
from desktop.ui.widgets import Notice, PageHeader, button, label

RUN_COLUMNS = (
    Column("period_start", "From", kind="date", width=105),
    Column("period_end", "To", kind="date", width=105),
    Column("status", "Status", kind="status", width=90),
    Column("total_gross", "Gross", kind="money", width=140),
    Column("total_deductions", "Deductions", kind="money", width=140),
    Column("total_employer", "Employer contrib.", kind="money", width=150),
    Column("total_net", "Net pay", kind="money", width=140),
    Column("note", "Note", sortable=False, stretch=True),
)
SLIP_COLUMNS = (
    Column("employee", "Employee", stretch=True),
    Column("days", "Paid days", sortable=False, width=130),
    Column("gross", "Gross", kind="money", width=140),
    Column("deductions", "Deductions", kind="money", width=140),
    Column("employer_contributions", "Employer contrib.", kind="money", width=150),
    Column("net", "Net pay", kind="money", width=140),
)
SENSITIVE_PERMISSION = "hr.sensitive.read"
HINTS = {
    "draft": "Preview: check every payslip, then Approve. Nothing is in the books yet.",
    "approved": "Approved: Post puts the run in the books (once; a posted run is corrected by reversing it).",
    "posted": "Posted to the books. Mark paid once the net pay has left the bank.",
    "paid": "Paid. A mistake is corrected by reversing the run and running the period again.",
    "reversed": "Reversed: a reversing run cancels this one in the books.",
    "discarded": "Discarded: never posted. The period may be run again.",
}


def _run_fields() -> tuple[FormField, ...]:
    return (
        FormField("period_start", "First day", kind="date", required=True),
        FormField("period_end", "Last day", kind="date", required=True),
        FormField("currency", "Currency", kind="choice", required=True, choices=CURRENCY_CHOICES),
        FormField(
            "withholding_rate",
            "Withholding tax %",
            kind="quantity",
            placeholder="optional",
            max_length=12,
            hint="A flat tax on gross pay, withheld on top of the deductions.",
        ),
    )


PAY_FIELDS = (FormField("paid_on", "Paid on", kind="date", required=True),)


def run_source(ctx: UiContext) -> ListSource:
    r = PayrollRun.__table__.c

    def build() -> Any:
        return select(
            r.id,
            r.period_start,
            r.period_end,
            r.status,
            r.currency,
            r.total_gross,
            r.total_deductions,
            r.total_employer,
            r.total_net,
            r.reverses_run_id,
            r.reversed_by_run_id,
            r.paid_on,
        ).where(live(PayrollRun, ctx.session.org_id))

    def decorate(_session: Any, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            if row["reverses_run_id"]:
                row["note"] = "Reversing run"
            elif row["paid_on"]:
                row["note"] = f"Paid on {row['paid_on'].isoformat()}"
            else:
                row["note"] = ""

    return ListSource(
        ctx.session.store,
        RUN_COLUMNS,
        build,
        search_keys=("status", "currency"),
        default_sort="period_start",
        default_descending=True,
        decorate=decorate,
    )


def payslip_source(ctx: UiContext, run_id: str) -> ListSource:
    s, e = Payslip.__table__, Employee.__table__

    def build() -> Any:
        return (
            select(
                s.c.id,
                s.c.employee_id,
                s.c.currency,
                s.c.gross,
                s.c.deductions,
                s.c.employer_contributions,
                s.c.net,
                s.c.paid_days,
                s.c.period_days,
                e.c.name.label("employee"),
            )
            .select_from(s)
            .join(e, (e.c.org_id == s.c.org_id) & (e.c.id == s.c.employee_id), isouter=True)
            .where(live(Payslip, ctx.session.org_id), s.c.payroll_run_id == run_id)
        )

    def decorate(_session: Any, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row["days"] = proration_text(row["paid_days"], row["period_days"])

    return ListSource(
        ctx.session.store,
        SLIP_COLUMNS,
        build,
        search_keys=("employee",),
        default_sort="employee",
        decorate=decorate,
    )


class PayslipTable(QTableView):
    """The preview's payslips: Enter (or a double-click) opens the current one."""

    def __init__(self, open_current: Callable[[], Any]) -> None:
        super().__init__()
        self.open_current = open_current

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.open_current()
            return
        super().keyPressEvent(event)


@page("hr", "payroll_runs", "Payroll runs", opens="payroll.run", writes="hr.run_payroll", position=60)
class PayrollRunsPage(ListPage):
    title = "Payroll runs"
    subtitle = "Run payroll for a period, check the preview, approve, post to the books and pay."
    noun = "payroll run"
    search_placeholder = "Search by status or currency  (Ctrl+F)"
    empty_hint = "Start with New run (Ctrl+N): pick the period and check the preview."
    history_entity = "payroll_run"
    sepa_saved = Signal(str)  # the path of a SEPA file written

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        # Pay figures are sensitive: without hr.sensitive.read they are not on this computer.
        self.sensitive = ctx.can(SENSITIVE_PERMISSION)
        self.run_notes: dict[str, str] = {}  # warnings of runs made here, shown with their preview
        super().__init__(ctx, parent)
        self._build_preview()
        if not self.sensitive:
            for table, columns in ((self.table, RUN_COLUMNS), (self.slip_table, SLIP_COLUMNS)):
                for index, column in enumerate(columns):
                    table.setColumnHidden(index, column.kind == "money")

    def make_source(self) -> ListSource:
        return run_source(self.ctx)

    @property
    def can_create(self) -> bool:
        return self.ctx.writable

    # -- building ------------------------------------------------------------------------------
    def add_actions(self, header: PageHeader) -> None:
        self.discard_button = button("Discard", danger=True, tooltip="Drop a run that is not posted")
        self.reverse_button = button(
            "Reverse…", tooltip="Cancel a posted run in the books with a reversing run"
        )
        self.approve_button = button("Approve", tooltip="The preview is right")
        self.post_button = button("Post", tooltip="Put the approved run in the books (once)")
        self.pay_button = button("Mark paid…", tooltip="The net pay has left the bank")
        self.new_button = button("New run", primary=True, tooltip="Ctrl+N")
        # Made by the payroll documents (common/payroll_documents.py); shown once wired.
        self.payslip_button = button("Print payslip…", tooltip="The selected employee's payslip as a PDF")
        self.sepa_button = button("Save SEPA file…", tooltip="The net pay as a SEPA credit transfer")
        actions = (
            (self.discard_button, self.discard_current),
            (self.reverse_button, self.reverse_current),
            (self.approve_button, self.approve_current),
            (self.post_button, self.post_current),
            (self.pay_button, self.pay_current),
            (self.new_button, self.new_item),
            (self.payslip_button, self.print_payslip),
            (self.sepa_button, self.save_sepa_file),
        )
        for widget, slot in actions:
            widget.clicked.connect(slot)
            header.add_action(widget)
            widget.setVisible(self.ctx.writable)

    def _build_preview(self) -> None:
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        box = QWidget()
        inner = QVBoxLayout(box)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(theme.SPACING)
        self.preview_title = label("")
        font = self.preview_title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() + 2)
        self.preview_title.setFont(font)
        self.preview_totals = label("", "muted", wrap=True)
        self.preview_hint = Notice()
        self.preview_hint.setWordWrap(False)  # one line: a wrapped notice is laid out a line short
        inner.addWidget(self.preview_title)
        inner.addWidget(self.preview_totals)
        inner.addWidget(self.preview_hint)
        self.preview_note = Notice()
        self.preview_note.setWordWrap(False)
        inner.addWidget(self.preview_note)
        self.slips = LazyTableModel(payslip_source(self.ctx, ""), parent=self)
        self.slip_table = PayslipTable(lambda: self.open_payslip(self.current_payslip()))
        self.slip_table.setObjectName("payslips")
        self.slip_table.setModel(self.slips)
        self.slip_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.slip_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.slip_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.slip_table.setAlternatingRowColors(True)
        self.slip_table.setShowGrid(False)
        self.slip_table.verticalHeader().setVisible(False)
        self.slip_table.verticalHeader().setDefaultSectionSize(30)
        header = self.slip_table.horizontalHeader()
        header.setHighlightSections(False)
        for index, column in enumerate(self.slips.columns):
            if column.stretch:
                header.setSectionResizeMode(index, QHeaderView.ResizeMode.Stretch)
            elif column.width:
                header.resizeSection(index, column_width(self.slip_table, column))
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.slip_table.setSortingEnabled(True)
        self.slip_table.doubleClicked.connect(lambda index: self.open_payslip(self.slips.row_at(index.row())))
        self.slip_table.setToolTip("Double-click a payslip (or press Enter) to see its lines")
        inner.addWidget(self.slip_table, 1)
        layout.addWidget(box, 2)
        self.preview_box = box
        self.show_preview(None)

    # -- the preview ---------------------------------------------------------------------------
    def selection_changed(self, row: dict[str, Any] | None) -> None:
        allowed = run_actions(row)
        self.approve_button.setEnabled(allowed.approve)
        self.post_button.setEnabled(allowed.post)
        self.pay_button.setEnabled(allowed.pay)
        self.reverse_button.setEnabled(allowed.reverse)
        self.discard_button.setEnabled(allowed.discard)
        self.sepa_button.setEnabled(allowed.documents)
        if hasattr(self, "slips"):
            self.show_preview(row)

    def show_preview(self, row: dict[str, Any] | None) -> None:
        self.slips.source = payslip_source(self.ctx, row["id"] if row else "")
        self.slips.reload()
        self.payslip_button.setEnabled(row is not None and self.slips.rowCount() > 0)
        if row is None:
            self.preview_title.setText("Payslips")
            self.preview_totals.setText("Select a run to see its payslips.")
            self.preview_hint.show_text(None)
            self.preview_note.show_text(None)
            return
        currency = row["currency"]
        if not self.sensitive:
            self.preview_totals.setText(f"{self.slips.count_all()} payslips · {SENSITIVE_NOTICE}")
        self.preview_title.setText(
            f"Payslips — {row['period_start'].isoformat()} to {row['period_end'].isoformat()}, "
            f"{status(row['status']).lower()}"
        )
        if self.sensitive:
            self.preview_totals.setText(
                f"{self.slips.count_all()} payslips · gross {money(row['total_gross'], currency)} · "
                f"deductions {money(row['total_deductions'], currency)} · "
                f"employer contributions {money(row['total_employer'], currency)} · "
                f"net pay {money(row['total_net'], currency)}"
            )
        hint = HINTS.get(row["status"]) if not row["reverses_run_id"] else None
        self.preview_hint.show_text(hint)
        self.preview_note.show_text(self.run_notes.get(row["id"]) if row["status"] == "draft" else None)

    def open_payslip(self, slip: dict[str, Any] | None) -> PayslipDialog | None:
        """The payslip's lines (double-click on the preview)."""
        run = self.current_row()
        if slip is None or run is None:
            return None
        dialog = PayslipDialog(self, self.ctx, slip, run)
        dialog.open()
        return dialog

    def current_payslip(self) -> dict[str, Any] | None:
        index = self.slip_table.currentIndex()
        return self.slips.row_at(index.row()) if index.isValid() else None

    # -- actions -------------------------------------------------------------------------------
    def _with_row(self, action: Any) -> Any:
        row = self.current_row()
        return action(row) if row is not None else None

    def _refused(self, title: str) -> Any:
        return lambda error: QMessageBox.warning(self, title, error.message)

    def new_item(self) -> FormDialog | None:
        if not self.can_create:
            return None
        run_id = new_id()
        today = date.today()
        first, last = month_bounds(today.year, today.month)
        currency = self.model.rows[0]["currency"] if self.model.rows else "EUR"

        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            built = build_payroll_run(run_id, raw, parse_quantity_input)
            return built.args, built.problems

        dialog = FormDialog(
            self,
            "New payroll run",
            _run_fields(),
            build=build,
            save=apply_from_form(self.ctx, "hr.run_payroll"),
            intro="Every employee with a salary in the currency is paid for the working days "
            "(Monday to Friday) they were employed in the period, less approved unpaid leave. "
            "The run opens as a preview.",
            initial={"period_start": first.isoformat(), "period_end": last.isoformat(), "currency": currency},
            save_text="Compute preview",
        )

        def created() -> None:
            outcome = dialog.saved_outcome
            warnings = [w.get("message", "") for w in getattr(outcome, "warnings", [])]
            if warnings:  # e.g. employees paid in another currency need a run of their own
                self.run_notes[run_id] = " ".join(f"{w}." for w in warnings if w)
            self.model.reload()
            self.select_id(run_id)

        dialog.accepted.connect(created)
        dialog.open()
        return dialog

    def approve_current(self) -> None:
        self._with_row(self.approve)

    def approve(self, row: dict[str, Any]) -> None:
        self._move("hr.approve_payroll_run", row, "Not approved")

    def post_current(self) -> None:
        self._with_row(self.post)

    def post(self, row: dict[str, Any]) -> None:
        """Post the run to the books; the command refuses a run that is not approved (or already
        posted) and the refusal is shown."""
        self._move("hr.post_payroll_run", row, "Not posted")

    def _move(self, command: str, row: dict[str, Any], refused_title: str) -> None:
        self.ctx.apply(
            self,
            command,
            {"id": row["id"]},
            on_done=lambda _outcome: self._reselect(row["id"]),
            on_refused=self._refused(refused_title),
        )

    def _reselect(self, run_id: str) -> None:
        self.select_id(run_id)

    def discard_current(self) -> None:
        self._with_row(self.discard)

    def discard(self, row: dict[str, Any]) -> None:
        answer = QMessageBox.question(
            self,
            "Discard payroll run",
            "Discard this run? Its payslips are dropped; the period may be run again.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._move("hr.discard_payroll_run", row, "Not discarded")

    def reverse_current(self) -> None:
        self._with_row(self.reverse)

    def reverse(self, row: dict[str, Any]) -> None:
        answer = QMessageBox.question(
            self,
            "Reverse payroll run",
            "Reverse this run? A reversing run negates every payslip and the journal entry; "
            "the period may then be run again.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.ctx.apply(
            self,
            "hr.reverse_payroll_run",
            {"id": new_id(), "payroll_run_id": row["id"]},
            on_refused=self._refused("Not reversed"),
        )

    def pay_current(self) -> None:
        self._with_row(self.pay)

    def pay(self, row: dict[str, Any]) -> FormDialog:
        def build(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
            found = {} if raw.get("paid_on") else {"paid_on": "is required"}
            return {"id": new_id(), "payroll_run_id": row["id"], "paid_on": raw.get("paid_on")}, found

        net = f"Net pay of {money(row['total_net'], row['currency'])}" if self.sensitive else "The net pay"
        dialog = FormDialog(
            self,
            "Mark payroll run paid",
            PAY_FIELDS,
            build=build,
            save=apply_from_form(self.ctx, "hr.pay_payroll_run"),
            intro=f"{net} paid from the bank: recorded in the books on this day.",
            initial={"paid_on": date.today().isoformat()},
            save_text="Mark paid",
        )
        dialog.open()
        return dialog

    # -- documents (common/payroll_documents.py) -----------------------------------------------
    def print_payslip(self) -> PrintPreview | None:
        """Print the selected employee's payslip of the selected run (the first one when none is
        selected) with preview: the document the employee gets."""
        slip = self.current_payslip() or (self.slips.row_at(0) if self.slips.rowCount() else None)
        if slip is None:
            return None
        self.printing = print_document(self, self.ctx.session, "payslip", slip["id"])
        return self.printing

    def save_sepa_file(self, path: str | None = None) -> None:
        """Save the selected run's net pay as a SEPA credit transfer file (pain.001.001.03), made
        by the server from the organization profile's IBAN (a connection is needed)."""
        row = self.current_row()
        if row is None:
            return
        if path is None:
            suggested = f"salaries-{row['period_end'].isoformat()}.xml"
            path, _ = QFileDialog.getSaveFileName(self, "Save SEPA file", suggested, "SEPA XML (*.xml)")
            if not path:
                return
        session, target = self.ctx.session, Path(path)

        def fetch() -> str:
            data = session.api.sepa_file(session.org_id, row["id"])
            partial = target.with_name(target.name + ".part")
            partial.write_bytes(data)  # whole or not at all
            partial.replace(target)
            return str(target)

        def failed(exc: BaseException) -> None:
            QMessageBox.warning(self, "SEPA file not saved", str(exc))

        self.ctx.run(
            self,
            fetch,
            on_success=lambda saved: self.sepa_saved.emit(saved),
            on_failure=failed,
            busy_text="Fetching the SEPA file…",
        )
