"""Moving average cost when stock goes below zero and a receipt then fills the shortage.

Stock may leave a shelf that is empty (flagged, never refused); the units that left are valued at
the average they left at. When a receipt brings them in, the difference between what the receipt
brings for those units and what they left at goes to cost of goods sold, so that the product's
value stays quantity × average and the inventory account (1300) equals the stock valuation.
Figures are worked out by hand in the comments (EUR, minor units in the cost rows).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.commands.postings import chart_account_id
from common.ids import new_id
from common.schema import JournalEntry, JournalLine, ProductCost, StockMove
from tests.common.business import Business, report

CODES = ("1300", "2100", "5000", "5100")  # inventory, GRNI, cost of goods sold, stock adjustments


def balances(biz: Business) -> dict[str, str]:
    """Balance (debit minus credit) per account code; an account never posted to reads 0.00."""
    found = {row["code"]: row["balance"] for row in report(biz, "trial_balance", as_of="2099-12-31")["rows"]}
    return {code: found.get(code, "0.00") for code in CODES}


def posted(biz: Business, move_id: str) -> dict[str, int]:
    """Debit minus credit per account code over the entry (or entries) the move posted."""
    codes = {chart_account_id(biz.org_id, code): code for code in CODES}
    entries = [entry["id"] for entry in biz.rows(JournalEntry, JournalEntry.source_id == move_id)]
    net: dict[str, int] = {}
    with biz.session() as session:
        for account_id, debit, credit in session.execute(
            select(JournalLine.account_id, JournalLine.debit, JournalLine.credit).where(
                JournalLine.org_id == biz.org_id, JournalLine.journal_entry_id.in_(entries)
            )
        ):
            code = codes[account_id]
            net[code] = net.get(code, 0) + debit - credit
    return {code: amount for code, amount in net.items() if amount}


def cost(biz: Business, product: str) -> tuple[Any, int, Any]:
    row = biz.row(ProductCost, product)
    return row["quantity"], row["value"], row["average_cost"]


def agrees(biz: Business) -> None:
    """The stock valuation is what the inventory account holds."""
    assert report(biz, "stock_valuation")["totals"]["value"] == balances(biz)["1300"]


def receive(biz: Business, product: str, warehouse: str, quantity: str, unit_cost: int) -> str:
    move_id = new_id()
    biz.apply("inventory.record_stock_move", {"id": move_id, "product_id": product, "to_warehouse_id": warehouse,
                                              "quantity": quantity, "unit_cost": unit_cost, "reason": "receipt"})  # fmt: skip
    return move_id


def issue(biz: Business, product: str, warehouse: str, quantity: str) -> str:
    move_id = new_id()
    biz.apply("inventory.record_stock_move", {"id": move_id, "product_id": product, "from_warehouse_id": warehouse,
                                              "quantity": quantity, "reason": "issue"})  # fmt: skip
    return move_id


def reverse(biz: Business, move_id: str) -> str:
    reversal = new_id()
    biz.apply("inventory.reverse_stock_move", {"id": reversal, "move_id": move_id})
    return reversal


def test_a_receipt_of_a_product_never_valued_costs_the_units_that_left_before_it(books: Business) -> None:
    warehouse, bolt = books.warehouse(), books.product()
    # 10 leave an empty shelf with no cost known: at 0.00, nothing posted.
    gone = issue(books, bolt, warehouse, "10")
    assert books.row(StockMove, gone)["value"] == 0 and posted(books, gone) == {}
    assert cost(books, bolt) == (-10, 0, 0)
    agrees(books)
    # 10 arrive at 30.00 = 300.00, owed to the supplier (GRNI); they replace the 10 that left at
    # 0.00, so those cost 300.00 more: COGS 300.00 Dr, inventory 300.00 Cr in the same entry.
    # Inventory: +300.00 − 300.00 = 0.00 for 0 units on hand.
    filled = receive(books, bolt, warehouse, "10", 3_000)
    assert books.row(StockMove, filled)["value"] == 30_000  # what the receipt is worth (GRNI)
    assert posted(books, filled) == {"2100": -30_000, "5000": 30_000}
    assert cost(books, bolt) == (0, 0, 3_000)
    assert balances(books) == {"1300": "0.00", "2100": "-300.00", "5000": "300.00", "5100": "0.00"}
    agrees(books)
    # Stock from then on is ordinary: 5 @ 40.00 = 200.00, average 40.00.
    receive(books, bolt, warehouse, "5", 4_000)
    assert cost(books, bolt) == (5, 20_000, 4_000)
    assert balances(books)["1300"] == "200.00"
    agrees(books)


def test_a_receipt_that_fills_a_shortage_charges_the_difference_to_cogs(books: Business) -> None:
    warehouse, chair = books.warehouse(), books.product()
    # 5 @ 20.00 = 100.00 on hand.
    receive(books, chair, warehouse, "5", 2_000)
    assert cost(books, chair) == (5, 10_000, 2_000)
    agrees(books)
    # 15 leave: the 5 on hand take their 100.00, the 10 beyond them leave at 20.00 = 200.00:
    # COGS 300.00, inventory 100.00 − 300.00 = −200.00 for −10 units.
    gone = issue(books, chair, warehouse, "15")
    assert posted(books, gone) == {"5000": 30_000, "1300": -30_000}
    assert cost(books, chair) == (-10, -20_000, 2_000)
    assert balances(books)["1300"] == "-200.00"
    agrees(books)
    # 10 arrive at 30.00 = 300.00 (GRNI). The 10 had left at 20.00 = 200.00: 100.00 more to COGS.
    # Inventory +300.00 − 100.00 = +200.00 → 0.00; COGS 400.00 = 5 × 20.00 + 10 × 30.00.
    filled = receive(books, chair, warehouse, "10", 3_000)
    assert books.row(StockMove, filled)["value"] == 30_000
    assert posted(books, filled) == {"1300": 20_000, "2100": -30_000, "5000": 10_000}
    assert cost(books, chair) == (0, 0, 3_000)
    assert balances(books) == {"1300": "0.00", "2100": "-400.00", "5000": "400.00", "5100": "0.00"}
    agrees(books)
    # The next issue leaves at the cost the shortage was filled at: 2 × 30.00 = 60.00.
    assert posted(books, issue(books, chair, warehouse, "2")) == {"5000": 6_000, "1300": -6_000}
    assert cost(books, chair) == (-2, -6_000, 3_000)
    agrees(books)


def test_units_beyond_the_shortage_enter_at_the_receipts_cost(books: Business) -> None:
    warehouse, chair = books.warehouse(), books.product()
    receive(books, chair, warehouse, "5", 2_000)
    issue(books, chair, warehouse, "15")  # −10 on hand worth −200.00, as above
    # 14 arrive at 30.00 = 420.00: 10 fill the shortage (300.00 for units that left at 200.00:
    # 100.00 to COGS), 4 stay at 30.00 = 120.00. Inventory +420.00 − 100.00: −200.00 → 120.00.
    filled = receive(books, chair, warehouse, "14", 3_000)
    assert posted(books, filled) == {"1300": 32_000, "2100": -42_000, "5000": 10_000}
    assert cost(books, chair) == (4, 12_000, 3_000)
    assert balances(books) == {"1300": "120.00", "2100": "-520.00", "5000": "400.00", "5100": "0.00"}
    agrees(books)


def test_a_receipt_that_only_partly_fills_a_shortage(books: Business) -> None:
    warehouse, chair = books.warehouse(), books.product()
    # 10 @ 20.00 = 200.00 in, 20 out: 200.00 + 10 × 20.00 = 400.00 to COGS; −10 on hand worth
    # −200.00 at an average of 20.00.
    receive(books, chair, warehouse, "10", 2_000)
    issue(books, chair, warehouse, "20")
    assert cost(books, chair) == (-10, -20_000, 2_000)
    assert balances(books)["1300"] == "-200.00"
    agrees(books)
    # 4 arrive at 30.00 = 120.00; they had left at 4 × 20.00 = 80.00: 40.00 to COGS.
    # Inventory −200.00 + 120.00 − 40.00 = −120.00 = the 6 still missing at 20.00.
    first = receive(books, chair, warehouse, "4", 3_000)
    assert posted(books, first) == {"1300": 8_000, "2100": -12_000, "5000": 4_000}
    assert cost(books, chair) == (-6, -12_000, 2_000)
    assert balances(books) == {"1300": "-120.00", "2100": "-320.00", "5000": "440.00", "5100": "0.00"}
    agrees(books)
    # The last 6 arrive at 25.00 = 150.00; they had left at 120.00: 30.00 to COGS. Inventory 0.00;
    # COGS 470.00 = 10 × 20.00 + 4 × 30.00 + 6 × 25.00.
    last = receive(books, chair, warehouse, "6", 2_500)
    assert posted(books, last) == {"1300": 12_000, "2100": -15_000, "5000": 3_000}
    assert cost(books, chair) == (0, 0, 2_500)
    assert balances(books) == {"1300": "0.00", "2100": "-470.00", "5000": "470.00", "5100": "0.00"}
    agrees(books)


def test_a_partial_receipt_of_a_product_never_valued_prices_the_whole_shortage(books: Business) -> None:
    warehouse, bolt = books.warehouse(), books.product()
    issue(books, bolt, warehouse, "10")  # −10 at no value: nothing posted
    # 4 arrive at 30.00 = 120.00: the first cost known. All 10 that left are now costed at it
    # (300.00 to COGS), and the 6 still missing are carried at 30.00 = −180.00:
    # inventory +120.00 − 300.00 = −180.00, average 30.00.
    first = receive(books, bolt, warehouse, "4", 3_000)
    assert posted(books, first) == {"1300": -18_000, "2100": -12_000, "5000": 30_000}
    assert cost(books, bolt) == (-6, -18_000, 3_000)
    agrees(books)
    # The other 6 at 30.00 = 180.00 fill the rest exactly as carried: nothing more to COGS.
    last = receive(books, bolt, warehouse, "6", 3_000)
    assert posted(books, last) == {"1300": 18_000, "2100": -18_000}
    assert cost(books, bolt) == (0, 0, 3_000)
    assert balances(books) == {"1300": "0.00", "2100": "-300.00", "5000": "300.00", "5100": "0.00"}
    agrees(books)


def test_reversing_the_receipt_that_filled_a_shortage(books: Business) -> None:
    warehouse, chair = books.warehouse(), books.product()
    receive(books, chair, warehouse, "5", 2_000)
    issue(books, chair, warehouse, "15")  # −10 worth −200.00
    filled = receive(books, chair, warehouse, "10", 3_000)  # 100.00 more to COGS, inventory 0.00
    # The reversal takes out exactly what the receipt brought (300.00, GRNI back); the COGS
    # charged stays and the 10 missing again are carried at the 30.00 they were last costed at:
    # inventory 0.00 − 300.00 = −300.00 = −10 × 30.00.
    undone = reverse(books, filled)
    assert posted(books, undone) == {"1300": -30_000, "2100": 30_000}
    assert cost(books, chair) == (-10, -30_000, 3_000)
    assert balances(books) == {"1300": "-300.00", "2100": "-100.00", "5000": "400.00", "5100": "0.00"}
    agrees(books)
    # The receipt that really fills it, 10 @ 25.00 = 250.00, against the 300.00 carried: 50.00
    # back from COGS. COGS 350.00 = 5 × 20.00 + 10 × 25.00, as if the reversed receipt had never
    # been; inventory 0.00.
    again = receive(books, chair, warehouse, "10", 2_500)
    assert posted(books, again) == {"1300": 30_000, "2100": -25_000, "5000": -5_000}
    assert cost(books, chair) == (0, 0, 2_500)
    assert balances(books) == {"1300": "0.00", "2100": "-350.00", "5000": "350.00", "5100": "0.00"}
    agrees(books)


def test_reversing_the_issue_that_went_below_zero_restores_the_stock(books: Business) -> None:
    warehouse, chair = books.warehouse(), books.product()
    receive(books, chair, warehouse, "5", 2_000)
    gone = issue(books, chair, warehouse, "15")  # 300.00 to COGS, −10 worth −200.00
    # The reversal brings back exactly the 300.00 the issue took: 10 of its 15 units fill the
    # shortage at the 20.00 they left at (nothing to COGS), 5 are on hand at 20.00 again.
    back = reverse(books, gone)
    assert posted(books, back) == {"1300": 30_000, "5000": -30_000}
    assert cost(books, chair) == (5, 10_000, 2_000)
    assert balances(books) == {"1300": "100.00", "2100": "-100.00", "5000": "0.00", "5100": "0.00"}
    agrees(books)
