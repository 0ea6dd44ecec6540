"""Column types shared by every store: exact quantities and UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator, TypeEngine

from common.money import parse_quantity, quantity_to_scaled, scaled_to_quantity


class Quantity(TypeDecorator[Decimal]):
    """An exact ``Decimal`` stored as a scaled 64-bit integer, so SQL sums stay exact."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return quantity_to_scaled(parse_quantity(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return scaled_to_quantity(int(value))


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp.

    PostgreSQL stores ``timestamptz``; SQLite stores ISO 8601 text with ``+00:00`` (sortable,
    and the same text the sync wire carries, so pulled rows are stored without conversion).
    """

    impl = String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.isoformat()

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """Now, in UTC, with microseconds (the one clock helper of the domain)."""
    return datetime.now(UTC)
