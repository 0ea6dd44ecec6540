"""Screenshot check (issue 13): every main screen rendered offscreen at 1280×800 and 1920×1080
with the demo data (``ops-server demo``'s builders, seeded into a real server and pulled by the
desktop over HTTP, as ``make run`` shows them), asserting that no widget's text is elided or
clipped and no button is blank; and each demo role's first screen. The PNGs are kept as test
artifacts: under ``$OPS_TEST_ARTIFACTS`` when set, else the pytest temporary directory (the path is
printed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from common.schema import OutboxEntry, Product
from desktop import background
from desktop.launch_demo import DEMO_PASSWORD
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
from desktop.signin import Credentials, SignIn
from desktop.sync import sync_function_for
from desktop.ui.list_page import header_metrics
from desktop.ui.main_window import MainWindow
from desktop.ui.theme import apply_theme
from sync_server.app import create_app
from sync_server.config import ServerConfig
from sync_server.demo import seed_demo
from sync_server.serve import BackgroundServer
from sync_server.services import Services
from sync_server.store import prepare_store
from tests.desktop.conftest import JWT_KEY
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


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server holding the demo organizations, as ``make run`` seeds them."""
    data_dir = tmp_path_factory.mktemp("demo-server")
    config = ServerConfig(data_dir=data_dir, jwt_key=JWT_KEY).for_tests()
    prepare_store(config).dispose()
    services = Services.build(config)
    seed_demo(services, DEMO_PASSWORD)
    http = BackgroundServer(create_app(config, services), threads=4).start()
    try:
        yield http.url
    finally:
        http.stop()
        services.store.dispose()


@pytest.fixture
def demo_session(demo_url: str, tmp_path: Path) -> Iterator[Callable[[str], UserSession]]:
    """``demo_session("sales")``: that demo user of Acme signed in, the demo data pulled."""
    opened: list[UserSession] = []

    def sign_in(role: str) -> UserSession:
        root = tmp_path / role
        root.mkdir()
        result = SignIn(root, Credentials(demo_url, f"{role}@acme.test", DEMO_PASSWORD)).start()
        assert isinstance(result, UserSession), result
        opened.append(result)
        sync_function_for(result)(lambda *_: None)
        return result

    yield sign_in
    for session in opened:
        session.close()


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


def shoot(qtbot: QtBot, window: MainWindow, key: str, path: Path) -> list[str]:
    """Open page ``key``, save the window as ``path`` and return what does not fit."""
    window.open_page(key)
    qtbot.waitUntil(lambda: background.active_count() == 0, timeout=30_000)
    qtbot.wait(50)  # let queued layout events run (no timing is asserted)
    assert window.grab().save(str(path))
    return clipped_texts(window)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_main_screen_fits_its_text(
    qtbot: QtBot,
    qapp: Any,
    demo_session: Callable[[str], UserSession],
    artifacts: Path,
    size: tuple[int, int],
) -> None:
    apply_theme(qapp)  # as the app looks
    session = demo_session("admin")
    # a conflict, so that the needs-attention screen shows its panel too
    with session.store.write_session() as db:
        from sqlalchemy import select, update

        hat = (
            db.execute(select(Product.id).where(Product.sale_price > 0).order_by(Product.sku))
            .scalars()
            .first()
        )
        assert hat is not None, "the demo has products"
        price = db.execute(select(Product.sale_price).where(Product.id == hat)).scalar_one()
        db.execute(update(Product).where(Product.id == hat).values(version=3))
        db.execute(OutboxEntry.__table__.delete())
    conflict(session, hat, {"sale_price": price + 3000}, {"sale_price": price}, {"sale_price": price + 2000})
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    problems: dict[str, list[str]] = {}
    shots = []
    for key in main_screens(window):
        path = artifacts / f"{size[0]}x{size[1]}-{key}.png"
        found = shoot(qtbot, window, key, path)
        assert window.size().width() == size[0], f"{key}: the window grew to {window.size().width()}"
        shots.append(path)
        if found:
            problems[key] = found
    window.leaving_confirmed = True
    assert len(shots) >= 9 and all(p.stat().st_size > 10_000 for p in shots)
    assert problems == {}


DEMO_ROLES = ("warehouse", "sales", "accountant", "hr", "employee", "auditor")


def test_each_demo_roles_first_screen_fits_and_is_kept(
    qtbot: QtBot, qapp: Any, demo_session: Callable[[str], UserSession], artifacts: Path
) -> None:
    """What each demo user sees first after signing in, at 1280×800."""
    apply_theme(qapp)
    problems: dict[str, list[str]] = {}
    for role in DEMO_ROLES:
        window = MainWindow(demo_session(role))
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: background.active_count() == 0, timeout=30_000)
        qtbot.wait(50)
        first = window.current_page()
        assert first is not None, f"{role}: no first page"
        path = artifacts / f"first-screen-{role}.png"
        assert window.grab().save(str(path)) and path.stat().st_size > 10_000
        found = clipped_texts(window)
        if found:
            problems[role] = found
        window.leaving_confirmed = True
        window.close()
    assert problems == {}
