"""The SQLite query plans of what a piece of code asked a connection: asserted by tests that a
report or a look-up reads by index, not by time (bench/ times them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event


@contextmanager
def statements_on(connection: Connection) -> Iterator[list[tuple[str, Any]]]:
    """The statements (with their parameters) run on ``connection`` inside the block."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


def plans_of(connection: Connection, statements: list[tuple[str, Any]], table: str) -> list[str]:
    """``EXPLAIN QUERY PLAN`` of each statement that reads ``table`` (``FROM table``), in order."""
    return [
        str(row[3])
        for statement, parameters in statements
        if f"FROM {table}" in statement
        for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    ]


def plans_while(connection: Connection, run: Callable[[], Any], table: str) -> tuple[Any, list[str]]:
    """What ``run`` answers and the plans of its statements that read ``table``."""
    with statements_on(connection) as seen:
        answer = run()
    return answer, plans_of(connection, seen, table)
