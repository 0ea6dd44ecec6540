"""A pushed batch of posted invoices is written down exactly as before: the journal rows stored,
the change-log rows and the audit events (their JSON text, byte for byte) are those the server
produced before the posting path was made cheaper (``posting_records.json``, recorded then), on
both stores. The ids are fixed (derived ids follow from the command ids); what differs between
runs is left out or named by what it is: the organization, the times, the accounts and periods
each organization makes itself (by code and name). Recorded differences since: the journal
lines have no change-log rows of their own, they travel with their entry's (``LOGGED_WITH``); the
lines nested in their entry's audit event leave out ``journal_entry_id``, ``entry_date`` and
``"deleted":false``, which the entry's event says (``sync_server.audit.NESTED_IMPLIED``: readers
fill them back in); an invoice's entry has no event of its own: its image (with its ``id`` and
lines, without ``source_id``, which is the event's ``entity_id``, nor ``"deleted":false``) is
listed under ``postings`` in the ``after`` of the invoice's post event (``sync_server.audit.POSTINGS``), the events
after it numbered one less each; rows and change log unchanged. Since revision 0019 an entry's
lines are stored in its row (``journal_entry.lines_json``, the same lines in the same order, the
same ids and amounts), read here through the ``journal_line`` view, which gives each line its
entry's version; they take no change sequence (each change-log row is numbered 3 less for every
invoice posted before it: same entities and ids, in the same order); the posting nested
in the invoice's post event holds the entry's ``lines_json`` instead of the nested line images
(the same lines). The file is the ``found`` of the test written with
``json.dumps(found, indent=1, sort_keys=True, ensure_ascii=False)`` and a final newline."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import text

from common.permissions import ALL_PERMISSIONS
from common.wire import Mutation
from sync_server import admin_ops, writes
from sync_server.audit import verify_chain
from sync_server.store import Store
from tests.sync_server.conftest import Services

EXPECTED = Path(__file__).with_name("posting_records.json")
CUSTOMER = "0193a1b2-c3d4-7000-8000-00000000c001"
TAX_RATE = "0193a1b2-c3d4-7000-8000-00000000c002"
USER = "0193a1b2-c3d4-7000-8000-00000000c003"
SEALED = re.compile(r'"v":"[^"]*"')


def _batch() -> list[Mutation]:
    """Three invoices created and posted (quantities, a discount, a line memo cut to its column)."""
    n = iter(range(1, 100))

    def mutation(command: str, **args: Any) -> Mutation:
        return Mutation(id=f"0193a1b2-c3d4-7000-8000-0000000a{next(n):04d}", name=command, args=args)

    batch = [
        mutation("sales.create_customer", id=CUSTOMER, name="Customer"),
        mutation("finance.create_tax_rate", id=TAX_RATE, code="VAT", name="VAT", rate="20"),
    ]
    for k, (quantity, price, discount, description) in enumerate(
        [("3", 12_345, "0", "Service"), ("2.5", 999, "12.5", "Ärger € " * 3), ("0.5", 7, "0", "Nut")]
    ):
        invoice = f"0193a1b2-c3d4-7000-8000-0000000b{k:04d}"
        line = {"id": f"0193a1b2-c3d4-7000-8000-0000000d{k:04d}", "description": description,
                "quantity": quantity, "unit_price": price, "discount_percent": discount,
                "tax_rate_id": TAX_RATE}  # fmt: skip
        batch.append(
            mutation(
                "sales.create_invoice",
                id=invoice,
                customer_id=CUSTOMER,
                issue_date="2026-11-30",
                lines=[line],
            )
        )
        batch.append(mutation("sales.post_invoice", id=invoice))
    return batch


def _records(store: Store, org_id: str, after_seq: int, after_event: int) -> dict[str, Any]:
    """What the batch wrote: the journal rows, the change-log rows after ``after_seq`` and the
    audit events after ``after_event``, the organization's own ids named by code or name."""
    with store.session(org_id) as session:

        def rows(sql: str, **params: Any) -> list[dict[str, Any]]:
            return [dict(row) for row in session.execute(text(sql), {"org": org_id, **params}).mappings()]

        names = {
            row["id"]: f"account:{row['code']}"
            for row in rows("SELECT id, code FROM account WHERE org_id = :org")
        }
        names |= {
            row["id"]: f"period:{row['name']}"
            for row in rows("SELECT id, name FROM fiscal_period WHERE org_id = :org")
        }
        names[org_id] = "org"

        def named(value: Any) -> Any:
            if isinstance(value, str):
                for found, name in names.items():
                    value = value.replace(found, name)
                return SEALED.sub('"v":"(sealed)"', value)  # under a key of its own, new each time
            return value if value is None or isinstance(value, bool | int) else str(value)

        unstable = {"org_id", "updated_at", "at"}
        found: dict[str, Any] = {}
        for table in ("journal_entry", "journal_line"):
            found[table] = [
                {k: bool(v) if k == "deleted" else named(v) for k, v in row.items() if k not in unstable}
                for row in rows(f"SELECT * FROM {table} WHERE org_id = :org ORDER BY id")
            ]
        found["change_log"] = [
            [row["seq"] - after_seq, row["entity"], named(row["entity_id"])]
            for row in rows(
                "SELECT seq, entity, entity_id FROM change_log WHERE org_id = :org AND seq > :seq ORDER BY seq",
                seq=after_seq,
            )
        ]
        found["audit"] = [
            {k: named(v) if k != "seq" else v - after_event for k, v in row.items()}
            for row in rows(
                "SELECT seq, actor, device, action, entity, entity_id, CAST(before AS TEXT) AS before, "
                "CAST(after AS TEXT) AS after FROM audit_event WHERE org_id = :org AND seq > :seq ORDER BY seq",
                seq=after_event,
            )
        ]
        assert verify_chain(session, org_id) == (after_event + len(found["audit"]), None)
    return found


def _last(store: Store, org_id: str) -> tuple[int, int]:
    with store.session(org_id) as session:
        change, event = (
            session.execute(
                text(f"SELECT max(seq) FROM {table} WHERE org_id = :org"), {"org": org_id}
            ).scalar()
            for table in ("change_log", "audit_event")
        )
    return int(change or 0), int(event or 0)


def test_posted_invoices_are_recorded_as_before(services: Services) -> None:
    store = services.store
    org_id = admin_ops.create_org(store, "Books", books=True)
    after_seq, after_event = _last(store, org_id)
    results = writes.apply_in_slices(store, org_id, USER, None, ALL_PERMISSIONS, _batch())
    assert [r.status for r in results] == ["applied"] * 8
    found = _records(store, org_id, after_seq, after_event)
    assert len(found["journal_entry"]) == 3 and len(found["journal_line"]) == 9
    assert found == json.loads(EXPECTED.read_text())
