"""The box around a dialog's lines grid: the grid, its Add line button and its totals label.

Documents with lines (quotations, purchase orders, invoices) show the totals above the grid under
a "Lines" caption; ledger grids (journal entries, supplier bills) show them beside Add line,
under the grid. The dialog fills the label as you type; the box holds no arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from desktop.qt import QHBoxLayout, QVBoxLayout, QWidget
from desktop.ui import theme
from desktop.ui.forms import FormDialog
from desktop.ui.widgets import button, label


class LineGridBox(QWidget):
    """``grid`` with ``add_button`` under it and ``totals_label`` above it (``totals_above``)
    or beside the button."""

    def __init__(
        self, grid: QWidget, *, add_tip: str, on_add: Callable[[], Any], totals_above: bool = False
    ) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.SPACING)
        self.totals_label = label("", None)
        self.totals_label.setStyleSheet("font-weight: 600;")
        self.add_button = button("Add line", tooltip=add_tip)
        self.add_button.clicked.connect(lambda: on_add())
        if totals_above:
            top = QHBoxLayout()
            top.addWidget(label("Lines", "muted"))
            top.addStretch(1)
            top.addWidget(self.totals_label)
            layout.addLayout(top)
        layout.addWidget(grid)
        bottom = QHBoxLayout()
        bottom.addWidget(self.add_button)
        bottom.addStretch(1)
        if not totals_above:
            bottom.addWidget(self.totals_label)
        layout.addLayout(bottom)

    def place_in(self, dialog: FormDialog) -> None:
        """Put the box in ``dialog`` above its form-wide error line, taking the spare height."""
        main = dialog.layout()
        assert isinstance(main, QVBoxLayout)
        main.insertWidget(main.indexOf(dialog.form_error), self, 1)


class LineIds(Protocol):
    line_ids: list[str]


class LinesFormDialog(FormDialog):
    """A form with a lines grid: a line's problem (``Line 2 quantity``) shows once that line was
    typed into, the grid's (``lines``) once a line was added or removed, all after Save."""

    lines: LineIds | None = None

    def lines_changed(self, *_args: Any) -> None:
        self.touched.add("lines")
        self.validate()

    def line_touched(self, line_id: str) -> None:
        self.touched.add(f"line:{line_id}")
        self.validate()

    def loose_problem_visible(self, key: str) -> bool:
        if super().loose_problem_visible(key):
            return True
        if self.lines is not None and key.startswith("Line "):
            number = key.split(" ")[1]
            if number.isdigit() and 0 < int(number) <= len(self.lines.line_ids):
                return f"line:{self.lines.line_ids[int(number) - 1]}" in self.touched
        return key == "lines" and "lines" in self.touched
