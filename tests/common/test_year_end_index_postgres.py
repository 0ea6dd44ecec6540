"""Profit and loss finds the year-end closing entries by the partial index
``ix_journal_entry_source`` on PostgreSQL too, under the generic plan a long-running server's
prepared statement ends up with (psycopg prepares a statement run five times): the statement names
the source as a literal, so the plan need not know a parameter's value to use the index."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

from common import migrate
from common.reports import ledger

WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.mark.postgres
def test_the_closing_entries_are_read_by_the_partial_index_under_a_generic_plan(pg_database: str) -> None:
    engine = create_engine(pg_database.replace("postgresql://", "postgresql+psycopg://"))
    try:
        migrate.upgrade(engine)
        org_id = str(uuid.uuid4())
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO organization (id, name, base_currency, created_at) VALUES (:o, 'Acme', 'EUR', :t)"
                ),
                {"o": org_id, "t": WHEN},
            )
            # Two years of daily sales entries and the two year-end closings among them.
            connection.execute(
                text(
                    "INSERT INTO journal_entry (org_id, id, number, entry_date, source, version, updated_at, deleted) "
                    "SELECT :o, gen_random_uuid()::text, 'JE-' || g, DATE '2031-01-01' + (g % 730), "
                    "CASE WHEN g IN (364, 729) THEN 'year_end' ELSE 'sales' END, 0, :t, false "
                    "FROM generate_series(0, 5999) AS g"
                ),
                {"o": org_id, "t": WHEN},
            )
            connection.execute(text("ANALYZE journal_entry"))
        statements: list[tuple[str, dict[str, Any]]] = []

        def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            statements.append((statement, parameters))

        with Session(engine) as session:
            connection = session.connection()
            event.listen(connection, "before_cursor_execute", seen)
            try:
                ledger._closing_lines(session, org_id, "EUR", date(2031, 1, 1), date(2032, 12, 31))
            finally:
                event.remove(connection, "before_cursor_execute", seen)
            ((statement, parameters),) = [s for s in statements if "FROM journal_entry" in s[0]]
            names: list[str] = []

            def placeholder(match: re.Match[str]) -> str:
                names.append(match.group(1))
                return f"${len(names)}"

            prepared = re.sub(r"%\((\w+)\)s", placeholder, statement)
            connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
            connection.exec_driver_sql(f"PREPARE closing AS {prepared}")
            arguments = ", ".join(f"'{parameters[name]}'" for name in names)
            plan = "\n".join(
                row[0] for row in connection.exec_driver_sql(f"EXPLAIN EXECUTE closing({arguments})")
            )
        assert "Index Scan using ix_journal_entry_source on journal_entry" in plan, plan
        assert "$" in plan  # the generic plan: the organization and the dates are parameters
    finally:
        engine.dispose()
