"""A module's overview: what of it is on this computer (record counts per kind of record)."""

from __future__ import annotations

from sqlalchemy import func, select

from common.modules import module as module_spec
from common.schema import ENTITIES
from desktop.formatting import count
from desktop.qt import QFrame, QGridLayout, Qt, QVBoxLayout, QWidget
from desktop.ui import theme
from desktop.ui.context import UiContext
from desktop.ui.widgets import PageHeader, label
from desktop.words import entity_title, plural


def entity_counts(ctx: UiContext, module: str) -> list[tuple[str, int]]:
    """``[(entity title, live rows)]`` of the module's entities in this organization."""
    counts = []
    with ctx.session.store.read_session() as session:
        for name, model in ENTITIES.items():
            if model.__entity__.module != module:
                continue
            total = session.execute(
                select(func.count()).where(model.org_id == ctx.session.org_id, model.deleted.is_(False))
            ).scalar()
            counts.append((plural(entity_title(name)).capitalize(), int(total or 0)))
    return counts


class ModuleOverviewPage(QWidget):
    def __init__(self, ctx: UiContext, module: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.module = module
        spec = module_spec(module)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN, theme.PAGE_MARGIN)
        layout.setSpacing(theme.SPACING * 2)
        layout.addWidget(
            PageHeader(
                spec.title,
                "The records of this module on this computer, kept in sync with the server.",
            )
        )
        card = QFrame()
        card.setObjectName("card")
        card.setMaximumWidth(440)
        self.grid = QGridLayout(card)
        self.grid.setContentsMargins(
            theme.SPACING * 2, theme.SPACING * 2, theme.SPACING * 2, theme.SPACING * 2
        )
        self.grid.setHorizontalSpacing(theme.SPACING * 4)
        self.grid.setVerticalSpacing(theme.SPACING)
        self.grid.setColumnStretch(0, 1)
        layout.addWidget(card)
        layout.addStretch(1)
        ctx.data_changed.connect(self.activate)

    def activate(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for row, (title, total) in enumerate(entity_counts(self.ctx, self.module)):
            self.grid.addWidget(label(title), row, 0)
            shown = label(count(total))
            shown.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.grid.addWidget(shown, row, 1)
