"""Columns sent as one text split in SQL (``sync_server.bulk._joined``): a column of texts, or of
integers for an integer column, goes to PostgreSQL as one text instead of an array psycopg
dumps element by element. The rows stored must be exactly those the arrays store, for any
value, and what the arrays refuse must be refused.

On real PostgreSQL only: that is the store these statements are for.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import psycopg
import pytest
from sqlalchemy import BigInteger, Boolean, Column, Date, Integer, MetaData, String, Table, Text
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect

from sync_server import bulk

_TABLE = Table(
    "bulk_joined",
    MetaData(),
    Column("n", Integer, nullable=False),
    Column("id", String(40)),
    Column("body", Text),
    Column("short", String(3)),
    Column("small", Integer),
    Column("big", BigInteger),
    Column("flag", Boolean),
    Column("day", Date),
)
_COLUMNS = tuple(c.name for c in _TABLE.c)


class _Kind(StrEnum):
    ONE = "one-value"
    TWO = "two-value"


@pytest.fixture
def conn(pg_admin_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_admin_url, autocommit=True) as connection:
        connection.execute(
            "CREATE TEMP TABLE bulk_joined (n integer NOT NULL, id varchar(40), body text,"
            " short varchar(3), small integer, big bigint, flag boolean, day date)"
        )
        yield connection


def _stored(
    conn: psycopg.Connection[Any], columns: list[list[Any]], *, joined: bool
) -> list[tuple[Any, ...]]:
    """The rows ``columns`` (one list per column of the table) store, sent as texts where they
    can (``joined``) or every column as an array (as before)."""
    conn.execute("TRUNCATE bulk_joined")
    dialect = psycopg_dialect()
    sql, params = bulk._unnest_parameters(_TABLE, _COLUMNS, dialect, columns)
    assert ("string_to_array" in sql) is joined
    conn.execute(sql, params)
    return conn.execute("SELECT * FROM bulk_joined ORDER BY n").fetchall()


def _both(conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch, columns: list[list[Any]]) -> None:
    as_text = _stored(conn, columns, joined=True)
    with monkeypatch.context() as patched:
        patched.setattr(bulk, "_joined", lambda column, typed: None)
        as_arrays = _stored(conn, columns, joined=False)
    assert as_text == as_arrays
    assert [list(column) for column in zip(*as_text, strict=True)] == [
        [str(v) if isinstance(v, _Kind) else v for v in column] for column in columns
    ]


_AWKWARD = [
    "",
    " ",
    "  padded  ",
    "a,b",
    "{a,b}",
    '"quoted"',
    "back\\slash",
    "NULL",
    "null",
    "tab\tnew\nline\rreturn",
    "\x1e\x1d\x01",
    "é ☃ 😀 中文",
    "x" * 5000,
    "",
]


def test_awkward_texts_and_integers_are_stored_as_the_arrays_store_them(
    conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dates are written ISO, read so whatever the session's DateStyle.
    conn.execute("SET DateStyle = 'SQL, DMY'")
    rows = len(_AWKWARD)
    extremes = [0, -1, 1, 2**31 - 1, -(2**31)]
    _both(
        conn,
        monkeypatch,
        [
            list(range(rows)),
            [f"id-{n}" for n in range(rows)],
            _AWKWARD,
            ["abc", "", " ", "a,", "\\", "é☃😀", "x", "NUL", "{}", '"', "1", "-", ",", ""],
            [extremes[n % len(extremes)] for n in range(rows)],
            [(-1) ** n * (2**63 - 1 - n) for n in range(rows)],
            [n % 2 == 0 for n in range(rows)],
            [date(1, 1, 1), date(9999, 12, 31), date(999, 2, 3), date(2024, 2, 29)] * 3
            + [date(1970, 1, 1)] * 2,
        ],
    )


def test_a_column_holding_the_separator_or_null_or_another_type_goes_as_an_array(
    conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # id holds str enums (psycopg dumps them as themselves), body the separator, short a NULL,
    # big and flag a NULL (flag's bools are no ints), day a NULL: each of these goes as an
    # array, the others (n, small) as texts; the rows stored are the same.
    columns: list[list[Any]] = [
        [0, 1, 2],
        [_Kind.ONE, _Kind.TWO, "plain"],
        ["a\x1fb", "\x1f", "c"],
        ["x", None, "y"],
        [1, 2, 3],
        [None, 5, 2**40],
        [True, False, None],
        [date(2024, 1, 1), None, date(2024, 1, 3)],
    ]
    assert bulk._joined(columns[1], None) is None
    assert bulk._joined(columns[2], None) is None
    assert bulk._joined(columns[3], None) is None
    assert bulk._joined(columns[5], int) is None
    assert bulk._joined(columns[6], int) is None  # bools are not ints here
    assert bulk._joined([5], int) is None  # a single value: an array of one
    assert bulk._joined(columns[7], date) is None
    assert bulk._joined([date(2024, 1, 1), datetime(2024, 1, 2, 23, 59)], date) is None  # not a date here
    assert bulk._joined([1, 2], None) is None  # integers for a column that is not an integer one
    assert bulk._joined([date(2024, 1, 1)] * 2, int) is None
    _both(conn, monkeypatch, columns)


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("small", [1, 2**31]),  # out of the column's range
        ("big", [1, 2**63]),  # out of bigint's range
        ("body", ["fine", "nul\x00inside"]),  # PostgreSQL's text holds no NUL
    ],
)
def test_what_the_arrays_refuse_is_refused(
    conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch, column: str, values: list[Any]
) -> None:
    columns: list[list[Any]] = [
        [0, 1],
        ["a", "b"],
        ["c", "d"],
        ["e", "f"],
        [1, 2],
        [3, 4],
        [True, False],
        [date(2024, 1, 1), date(2024, 1, 2)],
    ]
    columns[_COLUMNS.index(column)] = values
    for joined in (True, False):
        with monkeypatch.context() as patched:
            if not joined:
                patched.setattr(bulk, "_joined", lambda column, typed: None)
            with pytest.raises(psycopg.Error):
                _stored(conn, columns, joined=joined)
