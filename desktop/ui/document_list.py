"""A list of documents with a life cycle (quotations, invoices, purchase orders): a status
filter, one dialog that makes a new document or opens one, and the header's buttons (Confirm,
Post, Receive…, New…) wired one way.

Each button is added to the header in the order it is made and runs its action on the selected
row (nothing when no row is selected); the ones that write are shown only to those who may
write, History only to those who read the audit trail. A state change runs its command and
tells the user what the command warned about (a credit limit passed, a customer's credit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common.commands import CommandOutcome
from desktop.qt import QMessageBox, QPushButton
from desktop.ui.list_page import ListPage, StatusListPage
from desktop.ui.sales_common import tell
from desktop.ui.widgets import PageHeader, button

RowAction = Callable[[dict[str, Any]], Any]


def on_selected(page: ListPage, action: RowAction) -> Callable[[], None]:
    """``action`` applied to the page's selected row, if there is one."""

    def run() -> None:
        row = page.current_row()
        if row is not None:
            action(row)

    return run


class HeaderActions:
    """Makes a page's header buttons: ``add`` for an action, ``history`` for the audit trail."""

    def __init__(self, page: ListPage, header: PageHeader) -> None:
        self.page = page
        self.header = header

    def add(
        self,
        text: str,
        action: RowAction,
        *,
        writes: bool = False,
        tooltip: str | None = None,
        danger: bool = False,
    ) -> QPushButton:
        """A button running ``action`` on the selected row."""
        return self._place(
            button(text, danger=danger, tooltip=tooltip), on_selected(self.page, action), writes
        )

    def new(self, text: str, action: Callable[[], Any]) -> QPushButton:
        """The page's primary button making a new document (Ctrl+N), for those who may write."""
        return self._place(button(text, primary=True, tooltip="Ctrl+N"), action, writes=True)

    def _place(self, widget: QPushButton, run: Callable[[], Any], writes: bool) -> QPushButton:
        widget.clicked.connect(lambda: run())
        self.header.add_action(widget)
        if writes:
            widget.setVisible(self.page.ctx.writable)
        return widget

    def history(self) -> QPushButton:
        """History of the selected document (named by its number), for those who audit."""
        widget = self.add("History", lambda row: self.page.show_history(row, row["number"]))
        widget.setVisible(self.page.ctx.can("admin.audit"))
        return widget


class StatePage(StatusListPage):
    """A list of documents with a life cycle, filtered by status (:class:`StatusListPage`);
    :meth:`make_dialog` gives the dialog of a new document (``row`` None, opened with one
    empty line) or of the row opened, and state changes run through :meth:`run_state`."""

    last_outcome: CommandOutcome | None = None
    note: QMessageBox | None = None

    def make_dialog(self, row: dict[str, Any] | None) -> Any:
        raise NotImplementedError

    @property
    def can_create(self) -> bool:
        return self.ctx.writable

    def new_item(self) -> Any:
        if not self.can_create:
            return None
        dialog = self.make_dialog(None)
        dialog.add_line()
        dialog.open()
        return dialog

    def open_row(self, row: dict[str, Any]) -> Any:
        dialog = self.make_dialog(row)
        dialog.open()
        return dialog

    def run_state(self, name: str, args: dict[str, Any], refused_title: str) -> None:
        """Apply a state change; its warnings are told without blocking (kept in
        ``last_outcome`` and ``note``), a refusal is shown with its reason."""

        def done(outcome: CommandOutcome) -> None:
            self.last_outcome = outcome
            if outcome.warnings:
                self.note = tell(self, "Note", "\n".join(str(w["message"]) for w in outcome.warnings))

        self.ctx.apply(
            self,
            name,
            args,
            on_done=done,
            on_refused=lambda e: QMessageBox.warning(self, refused_title, e.message),
        )
