"""The connection drops after the server committed but before the client read the answer: the
retry changes nothing twice — no duplicate rows, stock moves or document numbers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from common.schema import ChangeLog, Invoice, ProcessedMutation, Product, StockMove
from tests.e2e.conftest import ClientFactory, Server
from tests.e2e.proxy import DroppingProxy
from tests.e2e.scenario import create_customer, create_invoice, create_product, create_warehouse, receive


def _count(server: Server, model: type) -> int:
    with server.services.store.session(server.a.id) as db:
        return int(db.execute(select(func.count()).select_from(model)).scalar() or 0)


@pytest.mark.parametrize("store_kind", ["sqlite", "postgres"])
def test_a_lost_push_answer_is_retried_without_duplicates(clients: ClientFactory, server: Server) -> None:
    with DroppingProxy(server.http.port) as proxy:
        office = clients("admin@acme.test", url=proxy.url)
        main = create_warehouse(office)
        chair = create_product(office, "CHAIR")
        receive(office, chair, main, "7")
        customer = create_customer(office)
        invoice = create_invoice(office, customer, chair)
        local_number = office.rows("invoice")[0]["number"]
        assert local_number.startswith("DRAFT-")

        proxy.drop_next("/sync/push")
        proxy.drop_next("/sync/pull")
        report = office.sync()

    assert len(proxy.dropped) == 2, proxy.dropped
    assert report.retries >= 2
    assert report.duplicates == 5  # the retried batch: every command answered from the first run
    assert (report.rejected, report.conflicts) == (0, 0)
    assert office.outbox_count() == 0
    assert _count(server, Product) == 1
    assert _count(server, StockMove) == 1
    assert _count(server, Invoice) == 1
    assert _count(server, ProcessedMutation) == 5
    with server.services.store.session(server.a.id) as db:
        seqs = [s for (s,) in db.execute(select(ChangeLog.seq).order_by(ChangeLog.seq))]
        numbers = list(db.execute(select(Invoice.number)).scalars())
    assert seqs == list(range(1, len(seqs) + 1))  # applied once: no second run of the batch
    # A draft's number: the gapless INV- number is given when the invoice is posted.
    assert numbers == ["DRAFT-INV-000001"]
    (local,) = office.rows("invoice")
    assert (local["id"], local["number"]) == (invoice, "DRAFT-INV-000001")
    assert len(office.rows("stock_move")) == 1
