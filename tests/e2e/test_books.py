"""The books end to end: desktop clients (real encrypted stores) apply the textbook month
offline and sync with the server over real HTTP; the server's statements and each client's
match the figures worked out by hand; a lost answer retried posts nothing twice; a document
dated in a period closed meanwhile is refused by the server."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from common.commands import CommandError
from common.ids import new_id
from common.journal_lines import decode_lines
from common.permissions import ALL_PERMISSIONS
from common.reports import run_report
from common.schema import JournalEntry, JournalLine
from tests.common.business import ledger_sums
from tests.common.textbook_month import END, START, Month, check_statements
from tests.e2e.conftest import Client, ClientFactory, Server
from tests.e2e.proxy import DroppingProxy


def statements_over_http(server: Server, email: str) -> list[dict[str, Any]]:
    session = requests.Session()
    login = session.post(
        f"{server.url}/api/v1/auth/login", json={"email": email, "password": "correct horse battery"}
    )
    session.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    base = f"{server.url}/api/v1/orgs/{server.a.id}/reports"
    answers = [
        session.get(f"{base}/trial_balance", params={"as_of": END}, timeout=30),
        session.get(f"{base}/profit_and_loss", params={"from": START, "to": END}, timeout=30),
        session.get(f"{base}/balance_sheet", params={"as_of": END}, timeout=30),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    return [a.json() for a in answers]


def statements_on_the_desktop(client: Client) -> list[dict[str, Any]]:
    with client.store.read_session() as db:
        return [
            run_report(db, client.session.org_id, "trial_balance", {"as_of": END}, ALL_PERMISSIONS),
            run_report(
                db, client.session.org_id, "profit_and_loss", {"from": START, "to": END}, ALL_PERMISSIONS
            ),
            run_report(db, client.session.org_id, "balance_sheet", {"as_of": END}, ALL_PERMISSIONS),
        ]


def ledger_on_server(server: Server) -> tuple[int, int]:
    with server.services.store.session(server.a.id) as db:
        entries = db.execute(select(func.count()).select_from(JournalEntry)).scalar()
        debits = db.execute(select(func.sum(JournalLine.debit))).scalar()
    return int(entries or 0), int(debits or 0)


@pytest.mark.parametrize("store_kind", ["sqlite", "postgres"])
def test_the_textbook_month_offline_then_synced(clients: ClientFactory, server: Server) -> None:
    office, people = clients("admin@acme.test"), clients("hr@acme.test")
    office.apply("finance.set_up_books", currency="EUR")  # the server does it for a new organization
    office.sync()
    people.sync()  # the chart, the posting settings and the periods come with the download
    month = Month()
    steps = month.steps(server.a.id)
    for role, name, args in steps:
        if role != "hr":
            office.apply(name, **args)
    report = office.sync()
    assert (report.rejected, report.conflicts) == (0, 0)
    for role, name, args in steps:
        if role == "hr":
            people.apply(name, **args)
    assert (people.sync().rejected, office.sync().rejected) == (0, 0)
    check_statements(*statements_over_http(server, "accountant@acme.test"))
    # The office's own copy, pulled back, gives the same statements offline.
    check_statements(*statements_on_the_desktop(office))
    (invoice,) = office.rows("invoice")
    assert invoice["number"] == "INV-000001"
    # The balances the statements read are the lines', on the server (PostgreSQL: its statement
    # triggers, under the application role) and on each desktop (row triggers, pulled entries).
    with server.services.store.session(server.a.id) as db:
        kept, summed = ledger_sums(db, server.a.id)
    assert kept == summed and len(kept) >= 10
    for client in (office, people):
        with client.store.read_session() as db:
            on_desktop, lines_on_desktop = ledger_sums(db, server.a.id)
        assert on_desktop == lines_on_desktop
        if client is office:  # who reads the books holds them all; HR only the payroll it posted
            assert on_desktop == kept


def test_a_lost_answer_is_retried_without_posting_twice(clients: ClientFactory, server: Server) -> None:
    month = Month()
    steps = [(name, args) for role, name, args in month.steps(server.a.id) if role != "hr"]
    with DroppingProxy(server.http.port) as proxy:
        office = clients("admin@acme.test", url=proxy.url)
        office.apply("finance.set_up_books", currency="EUR")
        office.sync()
        for name, args in steps:
            office.apply(name, **args)
        proxy.drop_next("/sync/push")
        report = office.sync()
    assert len(proxy.dropped) == 1 and report.retries >= 1
    assert report.duplicates == len(steps)  # the retried batch was answered from the first run
    # Capital, receipt, bill, shipment, invoice, payment, supplier payment: seven entries, once.
    assert ledger_on_server(server) == (
        7,
        1_000_000 + 300_000 + 360_000 + 180_000 + 360_000 + 360_000 + 360_000,
    )
    assert len(office.rows("journal_entry")) == 7


def test_a_period_closed_meanwhile_refuses_the_offline_invoice(
    clients: ClientFactory, server: Server
) -> None:
    shop, accountant = clients("sales@acme.test"), clients("accountant@acme.test")
    accountant.apply("finance.set_up_books", currency="EUR")
    accountant.sync()
    shop.sync()
    customer, invoice = new_id(), new_id()
    shop.apply("sales.create_customer", id=customer, name="Late Oy")
    shop.apply("sales.create_invoice", id=invoice, customer_id=customer, issue_date="2031-03-30",
               lines=[{"id": new_id(), "description": "Visit", "quantity": "1", "unit_price": 10_000}])  # fmt: skip
    shop.apply("sales.post_invoice", id=invoice)  # accepted offline: March is open on this desk
    period = new_id()
    accountant.apply(
        "finance.create_fiscal_period", id=period, name="March 2031", start_date=START, end_date=END
    )
    accountant.apply("finance.close_fiscal_period", id=period)
    assert accountant.sync().rejected == 0
    report = shop.sync()
    # The invoice dated in the closed period is refused, and so its posting (there is no invoice).
    assert report.rejected == 2
    created, posted = shop.outbox("rejected")
    assert (created["name"], created["code"]) == ("sales.create_invoice", "period_closed")
    assert "March 2031" in created["message"]
    assert posted["name"] == "sales.post_invoice"
    assert ledger_on_server(server) == (0, 0)
    # The period now reached this desk: the same invoice is refused offline at once.
    with pytest.raises(CommandError) as refused:
        shop.apply("sales.create_invoice", id=new_id(), customer_id=customer, issue_date="2031-03-30",
                   lines=[{"id": new_id(), "description": "Visit", "quantity": "1", "unit_price": 1}])  # fmt: skip
    assert refused.value.code == "period_closed"


@pytest.mark.parametrize("store_kind", ["sqlite", "postgres"])
def test_journal_rows_posted_offline_keep_their_ids_through_a_sync(
    clients: ClientFactory, server: Server
) -> None:
    """The journal entry and lines (in the entry's row) an invoice posted offline derives locally are the server's:
    after the sync this desk holds the server's rows and no others. Also for a posting queued by
    the previous version (scheme 1 of derived ids, no scheme in its outbox entry): it is pushed
    in a batch of its own without the ``Ops-Derived-Ids`` header, so the server derives as it did."""
    from sqlalchemy import update

    from common.ids import LEGACY_DERIVED_IDS
    from common.local import apply_and_queue
    from common.schema import OutboxEntry

    office = clients("admin@acme.test")
    office.apply("finance.set_up_books", currency="EUR")
    # Until a push's answer says the server derives scheme 2, commands are applied with scheme 1,
    # which a server of any version derives (an older one ignores the header).
    assert [e["derived_ids"] for e in office.outbox()] == [1]
    office.sync()
    customer, old, new = new_id(), new_id(), new_id()
    office.apply("sales.create_customer", id=customer, name="Ada Oy")
    for invoice in (old, new):
        office.apply("sales.create_invoice", id=invoice, customer_id=customer, issue_date=START,
                     lines=[{"id": new_id(), "description": "Visit", "quantity": "2", "unit_price": 12_500}])  # fmt: skip
    with office.store.write_session() as db:  # as the previous version queued it
        old_post, _ = apply_and_queue(
            db, "sales.post_invoice", {"id": old}, org_id=office.session.org_id,
            device_id=office.store.device_id, actor_id=office.session.user.id,
            permissions=office.session.permissions, derived_ids=LEGACY_DERIVED_IDS,
        )  # fmt: skip
        db.execute(update(OutboxEntry).where(OutboxEntry.id == old_post).values(derived_ids=None))
    new_post = office.apply("sales.post_invoice", id=new)
    assert [e["derived_ids"] for e in office.outbox()] == [2, 2, 2, None, 2]

    def journal(rows: list[dict[str, Any]]) -> dict[str, tuple[str, ...]]:
        return {
            source: tuple(sorted(r["id"] for r in rows if r["source_id"] == source)) for source in (old, new)
        }

    def local_lines() -> list[str]:
        """The line ids this desk holds: its entries' lines, as its ``journal_line`` view shows them."""
        with office.store.read_session() as db:
            return sorted(db.execute(select(JournalLine.id)).scalars())

    entries_offline = journal(office.rows("journal_entry"))
    lines_offline = local_lines()
    assert lines_offline == sorted(
        line["id"] for entry in office.rows("journal_entry") for line in decode_lines(entry["lines_json"])
    )
    assert len(entries_offline[old]) == len(entries_offline[new]) == 1 and len(lines_offline) >= 4
    assert entries_offline[new][0][:13] == new_post[:13]  # scheme 2: the command's time prefix
    assert entries_offline[old][0][:13] != old_post[:13]  # scheme 1: all of it from the digest

    report = office.sync()
    assert (report.pushed, report.applied, report.rejected, report.conflicts) == (5, 5, 0, 0)
    assert office.outbox() == []
    with server.services.store.session(server.a.id) as db:
        server_entries = db.execute(select(JournalEntry.id, JournalEntry.source_id)).all()
        server_lines = sorted(db.execute(select(JournalLine.id)).scalars())
    assert journal([{"id": i, "source_id": s} for i, s in server_entries]) == entries_offline
    assert server_lines == lines_offline
    # Pulled back: the same rows, and no others (no phantom of an id the server did not derive).
    assert journal(office.rows("journal_entry")) == entries_offline
    assert len(office.rows("journal_entry")) == 2
    assert local_lines() == lines_offline
