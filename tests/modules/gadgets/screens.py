"""The gadgets module's one screen, registered beside its code."""

from __future__ import annotations

from desktop.modules import page
from desktop.qt import QLabel, QVBoxLayout, QWidget
from desktop.ui.context import UiContext


@page("gadgets", "gadgets", "Gadgets", writes="gadgets.create_gadget")
class GadgetsPage(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Gadgets"))
