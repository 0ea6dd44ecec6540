"""Screenshot check (issue 13): every main screen rendered offscreen at 1280×800 and 1920×1080
with demo-like data (tests/desktop/seed.py, through the real commands), asserting that no
widget's text is elided or clipped and no button is blank. The PNGs are kept as test artifacts:
under ``$OPS_TEST_ARTIFACTS`` when set, else the pytest temporary directory (the path is printed).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop import background
from desktop.qt import (
    QAbstractButton,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    Qt,
    QTableView,
    QWidget,
)
from desktop.session import UserSession
from desktop.ui.list_page import header_metrics
from desktop.ui.main_window import MainWindow
from desktop.ui.theme import apply_theme
from tests.desktop.test_conflict_panel import conflict

SIZES = ((1280, 800), (1920, 1080))
# Room the theme gives a cell's text (the stylesheet's 6 px each side, the delegate's margins and
# the grid, with some to spare) and a header's (8 px left, 22 px right for the sort arrow: theme.py).
CELL_PADDING = 20
HEADER_PADDING = 30


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = os.environ.get("OPS_TEST_ARTIFACTS")
    directory = Path(root) / "screenshots" if root else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {directory}")
    return directory


def visible(widget: QWidget, window: QWidget) -> bool:
    return widget.isVisible() and widget.isVisibleTo(window) and widget.width() > 0


def clipped_texts(window: QWidget) -> list[str]:
    """Every visible text that does not fit where it is shown, and every blank button."""
    found: list[str] = []
    for widget in window.findChildren(QLabel):
        text = widget.text()
        if not visible(widget, window) or not text or widget.textFormat() == Qt.TextFormat.RichText:
            continue
        rect = widget.contentsRect()
        metrics = widget.fontMetrics()
        if widget.wordWrap():
            if widget.heightForWidth(rect.width()) > rect.height() + 1:
                found.append(f"label cut off at the bottom: {text!r} ({rect.width()}×{rect.height()})")
        elif "\n" not in text and metrics.horizontalAdvance(text) > rect.width() + 1:
            found.append(
                f"label elided: {text!r} needs {metrics.horizontalAdvance(text)} px, has {rect.width()}"
            )
    for button in window.findChildren(QAbstractButton):
        if not visible(button, window):
            continue
        if not button.text().strip() and button.icon().isNull():
            found.append(f"blank button: {button.objectName() or button.toolTip() or button!r}")
        elif button.text() and button.sizeHint().width() > button.width() + 1:
            found.append(
                f"button text clipped: {button.text()!r} needs {button.sizeHint().width()}, has {button.width()}"
            )
    for line in window.findChildren(QLineEdit):
        hint = line.placeholderText()
        if visible(line, window) and hint and not line.text():
            needed = (
                line.fontMetrics().horizontalAdvance(hint) + 16 + (24 if line.isClearButtonEnabled() else 0)
            )
            if needed > line.width():
                found.append(f"placeholder clipped: {hint!r} needs {needed}, has {line.width()}")
    for combo in window.findChildren(QComboBox):
        if visible(combo, window) and combo.currentText():
            needed = combo.fontMetrics().horizontalAdvance(combo.currentText()) + 30
            if needed > combo.width():
                found.append(
                    f"combo text clipped: {combo.currentText()!r} needs {needed}, has {combo.width()}"
                )
    for table in window.findChildren(QTableView):
        if not visible(table, window):
            continue
        found.extend(_table_problems(table))
    return found


def _table_problems(table: QTableView) -> list[str]:
    found = []
    header: QHeaderView = table.horizontalHeader()
    model = table.model()
    metrics = table.fontMetrics()
    bold = header_metrics(table)
    for column in range(model.columnCount()):
        if table.isColumnHidden(column):
            continue
        width = header.sectionSize(column)
        title = str(model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) or "")
        # the title as painted (bold: header_metrics), its padding and the sort arrow (theme.py)
        needed = bold.horizontalAdvance(title) + HEADER_PADDING
        if title and needed > width:
            found.append(f"header clipped: {title!r} needs {needed}, has {width}")
        for row in range(min(model.rowCount(), 40)):
            text = str(model.data(model.index(row, column), Qt.ItemDataRole.DisplayRole) or "")
            index = model.index(row, column)
            if (
                text
                and table.indexWidget(index) is None
                and metrics.horizontalAdvance(text) + CELL_PADDING > width
            ):
                found.append(f"cell elided: {title}: {text!r} in {width} px")
                break
    return found


def main_screens(window: MainWindow) -> list[str]:
    return window.page_keys()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_main_screen_fits_its_text(
    qtbot: QtBot,
    qapp: Any,
    seeded: tuple[UserSession, dict[str, Any]],
    artifacts: Path,
    size: tuple[int, int],
) -> None:
    apply_theme(qapp)  # as the app looks
    session, ids = seeded
    # a conflict, so that the needs-attention screen shows its panel too
    hat = ids["products"]["DESK-ASH-140"]
    with session.store.write_session() as db:
        from sqlalchemy import update

        from common.schema import OutboxEntry, Product

        db.execute(update(Product).where(Product.id == hat).values(version=3))
        db.execute(OutboxEntry.__table__.delete())
    conflict(session, hat, {"sale_price": 55900}, {"sale_price": 52900}, {"sale_price": 54900})
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    problems: dict[str, list[str]] = {}
    shots = []
    for key in main_screens(window):
        window.open_page(key)
        qtbot.waitUntil(lambda: background.active_count() == 0, timeout=30_000)
        qtbot.wait(50)  # let queued layout events run (no timing is asserted)
        assert window.size().width() == size[0], f"{key}: the window grew to {window.size().width()}"
        path = artifacts / f"{size[0]}x{size[1]}-{key}.png"
        assert window.grab().save(str(path))
        shots.append(path)
        found = clipped_texts(window)
        if found:
            problems[key] = found
    window.leaving_confirmed = True
    assert len(shots) >= 9 and all(p.stat().st_size > 10_000 for p in shots)
    assert problems == {}
