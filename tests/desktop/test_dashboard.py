"""The dashboard on real widgets over a real encrypted store: what each role sees, charts drawn
with Qt Charts, and a card opening its list."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop.dashboard import dashboard, visible_tiles
from desktop.qt import QChartView, Qt
from desktop.session import UserSession
from desktop.ui.dashboard import DashboardPage
from desktop.ui.main_window import MainWindow
from tests.desktop.seed import offline_session, seed_inventory

FINANCE = {"sales_per_month", "top_products", "receivables_aging", "cash_position"}


def test_the_warehouse_lands_on_stock_figures_and_no_finance(qtbot: QtBot, data_root: Path) -> None:
    session = offline_session(data_root, roles=("warehouse",))
    try:
        seed_inventory(session)
        win = MainWindow(session)
        qtbot.addWidget(win)
        page = win.stack.currentWidget()
        assert isinstance(page, DashboardPage)  # the landing page
        qtbot.waitUntil(lambda: bool(page.cards), timeout=10_000)
        assert page.tile_keys() == ["stock_value", "low_stock"]
        assert not (FINANCE & set(page.tile_keys()))
        texts = " ".join(card.headline.text() for card in page.cards)
        assert "EUR" in texts or "—" in texts
        low = next(card for card in page.cards if card.tile.key == "low_stock")
        assert low.chart is not None and isinstance(low.chart, QChartView)
        assert low.chart.chart().series()[0].barSets()[0].count() == len(low.tile.series) > 0
        qtbot.mouseClick(low, Qt.MouseButton.LeftButton)
        assert win.stack.currentWidget() is win.pages["low_stock"]
    finally:
        session.close()


def test_who_sees_which_tile() -> None:
    from common.permissions import BUILTIN_ROLES

    def keys(role: str) -> set[str]:
        return {spec.key for spec in visible_tiles(BUILTIN_ROLES[role])}

    assert keys("warehouse") == {"stock_value", "low_stock"}
    assert keys("accountant") >= FINANCE - {"top_products"} | {"stock_value"}
    assert keys("hr") == {"away_today"}
    assert keys("project_manager") == {"overdue_tasks"}
    assert "away_today" not in keys("sales") and "cash_position" not in keys("sales")


def test_an_admin_gets_every_figure_from_the_local_store(seeded: tuple[UserSession, dict]) -> None:  # type: ignore[type-arg]
    session, _ids = seeded
    tiles = {tile.key: tile for tile in dashboard(session, date.today())}
    assert set(tiles) >= {"sales_per_month", "stock_value", "low_stock", "overdue_tasks"}
    assert len(tiles["sales_per_month"].series) == 6
    assert tiles["low_stock"].headline.endswith("products")


def test_cash_position_is_what_the_bank_holds_today_in_the_ledger_currency(data_root: Path) -> None:
    """Today's entry counts; one dated next week does not yet, and lines of an entry from before
    the books in another currency are not added to euros."""
    from datetime import timedelta

    from sqlalchemy import insert

    from common.commands.postings import chart_account_id
    from common.ids import new_id
    from common.journal_lines import encode_lines
    from common.schema import JournalEntry
    from common.schema.types import utcnow
    from desktop.dashboard import cash_position
    from desktop.formatting import money

    session = offline_session(data_root, roles=("accountant",))
    try:
        org, today = session.org_id, date.today()
        bank, capital = chart_account_id(org, "1000"), chart_account_id(org, "3000")
        for day, amount in ((today, 12_000), (today + timedelta(days=7), 5_000)):
            session.apply("finance.post_journal_entry", {
                "id": new_id(), "entry_date": day.isoformat(), "currency": "EUR", "memo": "Capital paid in",
                "lines": [{"account_id": bank, "debit": amount}, {"account_id": capital, "credit": amount}]})  # fmt: skip
        entry, stamps = new_id(), {"org_id": org, "version": 1, "updated_at": utcnow(),
                                   "updated_by": "migrated", "deleted": False}  # fmt: skip
        with session.store.write_session() as db:  # as a store from before the books holds one
            lines = [[new_id(), bank, 90_000, 0, "USD", None], [new_id(), capital, 0, 90_000, "USD", None]]
            db.execute(insert(JournalEntry), [{**stamps, "id": entry, "number": "OLD-1", "entry_date": today,
                                               "source": "manual", "memo": "Before the books",
                                               "lines_json": encode_lines(lines)}])  # fmt: skip
        with session.store.read_session() as db:
            tile = cash_position(db, session, today, "EUR")
        assert tile.headline == money(12_000, "EUR")
        assert len(tile.lines) == 1 and tile.lines[0].endswith(money(12_000, "EUR"))
    finally:
        session.close()
