"""Pulled rows land in the local store exactly as sent: nulls, booleans, quantities, JSON,
partly readable rows, and a row that becomes null where it had a value."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlcipher3.dbapi2 import IntegrityError

from common.db import new_key
from common.ids import new_id
from common.schema import DataSubjectRequest, Employee, EmployeeDirectory, StockMove
from common.schema.base import table_of
from desktop.local_store import LocalStore
from desktop.profiles import Profile
from desktop.rows import WRITERS, EntityWriter

NOW = "2026-11-01T08:00:00+00:00"


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    profile = Profile("https://ops.example.test", "clerk@example.test", new_id())
    profile.directory(tmp_path).mkdir(parents=True, mode=0o700)
    opened = LocalStore.open_with_key(tmp_path, profile, new_key())
    yield opened
    opened.close()


def move(**values: Any) -> dict[str, Any]:
    row = {
        "id": new_id(),
        "version": 1,
        "product_id": new_id(),
        "from_warehouse_id": None,
        "to_warehouse_id": new_id(),
        "quantity": "2",
        "unit_cost": None,
        "currency": None,
        "reason": "receipt",
        "note": None,
        "reference": None,
        "moved_at": NOW,
        "negative_stock": False,
        "reverses_move_id": None,
        "updated_at": NOW,
        "updated_by": None,
        "deleted": False,
    }
    row.update(values)
    return row


def write(store: LocalStore, entity: str, rows: list[dict[str, Any]]) -> None:
    with store.write_session() as session:
        WRITERS[entity].upsert(session.connection(), rows, store.profile.org_id)


def stored_moves(store: LocalStore) -> dict[str, StockMove]:
    with store.read_session() as session:
        return {m.id: m for m in session.execute(select(StockMove)).scalars()}


def test_rows_with_different_nulls_are_each_stored_as_sent(store: LocalStore) -> None:
    rows = [
        move(),
        move(note="checked", from_warehouse_id=new_id(), quantity="-0.25", negative_stock=True),
        move(reference="PO-7", unit_cost=450, currency="EUR", quantity="1000000.000001"),
        move(note="only a note", deleted=True),
        move(quantity="0.5", updated_by=new_id()),
    ]
    write(store, "stock_move", rows)
    got = stored_moves(store)
    assert len(got) == len(rows)
    for row in rows:
        stored = got[row["id"]]
        assert stored.org_id == store.profile.org_id
        for key, value in row.items():
            if key == "quantity":
                assert stored.quantity == Decimal(value), key
            elif key in ("moved_at", "updated_at"):
                assert getattr(stored, key).isoformat() == value
            else:
                assert getattr(stored, key) == value, key
                assert type(getattr(stored, key)) is type(value) or value is None, key


def test_a_value_that_became_null_is_null_after_the_pull(store: LocalStore) -> None:
    first = move(note="to be removed", unit_cost=300, currency="EUR", negative_stock=True)
    write(store, "stock_move", [first])
    changed = {
        **first,
        "note": None,
        "unit_cost": None,
        "currency": None,
        "negative_stock": False,
        "version": 2,
    }
    write(store, "stock_move", [changed, move()])
    stored = stored_moves(store)[first["id"]]
    assert (stored.note, stored.unit_cost, stored.currency, stored.negative_stock, stored.version) == (
        None,
        None,
        None,
        False,
        2,
    )


def test_json_values_and_partly_readable_rows(store: LocalStore) -> None:
    outcomes = [None, {"rows": 3, "note": "done ✓"}, ["a", 1, None]]
    requests = [
        {
            "id": new_id(),
            "version": n,
            "subject_type": "customer",
            "subject_id": new_id(),
            "kind": "export",
            "status": "completed",
            "requested_at": NOW,
            "completed_at": None,
            "details": None,
            "outcome": outcome,
            "updated_at": NOW,
            "updated_by": None,
            "deleted": False,
        }
        for n, outcome in enumerate(outcomes)
    ]
    write(store, "data_subject_request", requests)
    # The employee directory: a member without hr.read gets its public columns only, and one's
    # own employee record comes without its sensitive columns.
    public = {"id": new_id(), "version": 3, "deleted": False, "name": "Dana Public", "job_title": "Clerk"}
    write(store, "employee_directory", [public])
    own = {
        "id": new_id(),
        "version": 4,
        "deleted": False,
        "name": "Me",
        "status": "active",
        "updated_at": NOW,
    }
    write(store, "employee", [own])
    with store.read_session() as session:
        got = {r.id: r.outcome for r in session.execute(select(DataSubjectRequest)).scalars()}
        entry = session.execute(select(EmployeeDirectory)).scalar_one()
        employee = session.execute(select(Employee)).scalar_one()
    assert [got[r["id"]] for r in requests] == outcomes
    assert (entry.name, entry.job_title, entry.version) == ("Dana Public", "Clerk", 3)
    # Hidden: empty, never a made-up value.
    assert entry.updated_at == datetime(1970, 1, 1, tzinfo=UTC) and entry.updated_by is None
    assert (employee.name, employee.status) == ("Me", "active") and employee.salary is None


def test_a_page_of_many_rows_is_stored_as_sent_whatever_statement_writes_each(store: LocalStore) -> None:
    # More rows than one statement writes (desktop.rows.ROWS_PER_STATEMENT), in three null
    # patterns, each leaving some rows over; one row is sent twice, and its later version wins.
    rows = [
        move(version=n, note=f"note {n}" if n % 3 == 1 else None, unit_cost=n if n % 3 == 2 else None)
        for n in range(700)
    ]
    twice = {**rows[10], "version": 999, "note": "sent again"}
    rows.append(twice)
    names = list(rows[0])
    with store.write_session() as session:
        batch = WRITERS["stock_move"].block_parameters(
            names, [[row[name] for name in names] for row in rows], store.profile.org_id
        )
        assert WRITERS["stock_move"].write(session.connection(), batch) == len(rows)
    got = stored_moves(store)
    assert len(got) == len(rows) - 1
    for row in rows[:10] + rows[11:]:
        stored = got[row["id"]]
        assert stored.org_id == store.profile.org_id
        assert (stored.version, stored.note, stored.unit_cost) == (
            row["version"],
            row["note"],
            row["unit_cost"],
        )
        assert stored.quantity == Decimal(row["quantity"])


def test_values_shared_by_every_row_of_a_page_are_stored_as_sent(store: LocalStore) -> None:
    # A column holding one value on every row of a large page (multi-row statements): texts
    # with quotes and other characters, integers, converted quantities and flags keep their
    # values and types.
    shared = {
        "reference": "O'Brien's PO; -- naïve ✓ '') DROP",
        "unit_cost": -9_007_199_254_740_993,
        "quantity": "2.5",
        "negative_stock": True,
        "currency": "EUR",
    }
    rows = [move(version=n, **shared) for n in range(300)]
    rows[299]["unit_cost"] = 7  # the last row differs: that column is bound as before
    names = list(rows[0])
    writer = EntityWriter(table_of(StockMove))  # one that has not written other pages' values
    with store.write_session() as session:
        batch = writer.block_parameters(
            names, [[row[name] for name in names] for row in rows], store.profile.org_id
        )
        assert writer.write(session.connection(), batch) == len(rows)
    got = stored_moves(store)
    assert len(got) == len(rows)
    for row in rows:
        stored = got[row["id"]]
        assert stored.version == row["version"]
        assert (stored.reference, stored.currency, stored.negative_stock) == (
            shared["reference"],
            "EUR",
            True,
        )
        assert stored.unit_cost == row["unit_cost"] and type(stored.unit_cost) is int
        assert stored.quantity == Decimal("2.5")


def test_pages_each_with_values_of_their_own_shared_by_their_rows_are_stored_as_sent(
    store: LocalStore,
) -> None:
    # Pages whose rows share values of their own, one after another, through one writer.
    writer = EntityWriter(table_of(StockMove))
    pages = [
        [
            move(version=n, reference=f"page {page}", moved_at=f"2026-11-0{page + 1}T08:00:00+00:00")
            for n in range(130)
        ]
        for page in range(7)
    ]
    names = list(pages[0][0])
    for rows in pages:
        with store.write_session() as session:
            batch = writer.block_parameters(
                names, [[row[name] for name in names] for row in rows], store.profile.org_id
            )
            assert writer.write(session.connection(), batch) == len(rows)
    got = stored_moves(store)
    assert len(got) == 7 * 130
    for rows in pages:
        for row in rows:
            stored = got[row["id"]]
            assert (stored.reference, stored.moved_at.isoformat()) == (row["reference"], row["moved_at"])


@pytest.mark.parametrize("count", [1, 300])
def test_a_row_without_a_required_value_is_refused(store: LocalStore, count: int) -> None:
    rows = [move(version=n) for n in range(count)]
    rows[-1]["reason"] = None
    names = list(rows[0])
    batch = WRITERS["stock_move"].block_parameters(
        names, [[row[name] for name in names] for row in rows], store.profile.org_id
    )
    with pytest.raises(IntegrityError, match="NOT NULL"), store.write_session() as session:
        WRITERS["stock_move"].write(session.connection(), batch)
    assert stored_moves(store) == {}
