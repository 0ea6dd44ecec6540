"""Labels from entity titles and command names (no Qt), and the selection kept across refreshes."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from desktop.ui.history import describe_change
from desktop.ui.main_window import MainWindow
from desktop.ui.overview import entity_counts
from desktop.words import command_title, plural, record_title
from sync_server.demo import demo_role_title


@pytest.mark.parametrize(
    ("noun", "expected"),
    [
        ("journal entry", "journal entries"),
        ("employee directory", "employee directories"),
        ("product", "products"),
        ("tax", "taxes"),
        ("day", "days"),
        ("purchase order line", "purchase order lines"),
    ],
)
def test_plurals_come_from_the_entity_title(noun: str, expected: str) -> None:
    assert plural(noun) == expected


def test_titles_in_a_clerks_words() -> None:
    assert command_title("inventory.create_supplier") == "New supplier"
    assert command_title("inventory.update_product") == "Change product"
    assert command_title("inventory.record_stock_move") == "Record stock move"
    assert record_title({"name": "Hard hat", "sku": "AC-0010"}) == "Hard hat — AC-0010"
    assert demo_role_title("hr") == "HR" and demo_role_title("project_manager") == "Project manager"
    assert describe_change({"before": {"sale_price": 1}, "after": {"sale_price": 2}}) == "Sale price: 1 → 2"


def test_overview_counts_are_plural_words(window: MainWindow) -> None:
    titles = [title for title, _count in entity_counts(window.ctx, "finance")]
    assert "Journal entries" in titles and not any(t.endswith("ys") for t in titles)


def test_the_selected_row_survives_a_refresh(qtbot: QtBot, window: MainWindow) -> None:
    page = window.open_page("products")
    chosen = next(r["id"] for r in page.model.rows if r["sku"] == "LAMP-BRASS")
    assert page.select_id(chosen)
    window.ctx.data_changed.emit()  # what every save and every sync does
    qtbot.waitUntil(lambda: page.current_row() is not None and page.current_row()["id"] == chosen)  # type: ignore[index]
