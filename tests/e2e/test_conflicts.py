"""Two users change the same field of one record: the later push gets ``conflict`` with the
server's values, the entry waits in the outbox for the user, and either resolution syncs cleanly."""

from __future__ import annotations

import pytest

from desktop.attention import attention_items, keep_server, reapply_mine
from tests.e2e.conftest import ClientFactory
from tests.e2e.scenario import by_id, create_product, rename


@pytest.mark.parametrize("resolution", ["keep_server", "reapply_mine"])
def test_same_field_conflicts_and_both_resolutions_sync(clients: ClientFactory, resolution: str) -> None:
    office = clients("admin@acme.test")
    depot = clients("warehouse@acme.test")
    chair = create_product(office, "CHAIR", "Chair")
    office.sync()
    depot.sync()

    rename(office, chair, "Oak chair", "Chair")
    rename(office, chair, "CHAIR-OAK", "CHAIR", field="sku")
    mine = rename(depot, chair, "Pine chair", "Chair")
    office.sync()
    report = depot.sync()

    assert (report.pushed, report.conflicts, report.applied) == (1, 1, 0)
    (entry,) = depot.outbox()
    assert (entry["id"], entry["status"], entry["code"]) == (mine, "conflict", "conflict")
    assert entry["server_values"] == {"name": "Oak chair"}
    assert "name" in entry["message"]
    (item,) = attention_items(depot.session)
    assert item.can_reapply
    assert item.changed_fields() == [
        {"field": "name", "mine": "Pine chair", "base": "Chair", "server": "Oak chair"}
    ]
    # The pull after the push brought the server's row: the other field merged in.
    row = by_id(depot.rows("product"))[chair]
    assert (row["name"], row["sku"]) == ("Oak chair", "CHAIR-OAK")

    if resolution == "keep_server":
        keep_server(depot.session, mine)
        expected = "Oak chair"
    else:
        reapply_mine(depot.session, mine)
        expected = "Pine chair"
    again = depot.sync()
    assert (again.rejected, again.conflicts) == (0, 0)
    office.sync()
    assert depot.outbox_count() == office.outbox_count() == 0
    assert by_id(office.rows("product"))[chair]["name"] == expected
    assert office.snapshot() == depot.snapshot()
